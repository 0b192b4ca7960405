//! Multi-row inserts written once for both backends.
//!
//! Rows are collected cell by cell ([`Rows::row`]), then written in chunks:
//! on SQLite as one `INSERT … VALUES (…), (…)` list, on PostgreSQL as
//! `INSERT … SELECT * FROM unnest($1::text[], $2::int8[], …)`, one array per
//! column. PostgreSQL plans and binds a statement of 17,000 parameters in
//! 60–90 ms, each time (imports ask for per-execution plans, see
//! `Tx::bulk_cache`); the same 1,000 rows as 17 arrays take a few
//! milliseconds, and the statement text no longer depends on the row count.

use std::borrow::Cow;
use std::future::Future;

use sqlx::{FromRow, QueryBuilder};

use crate::Result;

/// Most bind parameters one SQLite statement carries (its limit is 32,766).
const MAX_PARAMS: usize = 30_000;

/// Rows per statement on PostgreSQL, whatever the number of columns.
const PG_ROWS: usize = 5_000;

/// One cell; the variant gives the column's type, also when it is `NULL`.
#[derive(Debug, Clone)]
pub(crate) enum Cell<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
    Text(Option<std::borrow::Cow<'a, str>>),
}

/// Rows of one multi-row insert (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Rows<'a> {
    /// `INSERT INTO table (columns)`.
    head: &'a str,
    /// Appended after the values: `ON CONFLICT …`, `RETURNING …`.
    tail: &'a str,
    columns: usize,
    cells: Vec<Cell<'a>>,
}

/// The cells of the row being added; [`Rows::row`] starts one.
pub(crate) struct Row<'r, 'a> {
    cells: &'r mut Vec<Cell<'a>>,
}

/// A value that goes into one cell (see [`Row::push_bind`]).
pub(crate) trait IntoCell<'a> {
    fn into_cell(self) -> Cell<'a>;
}

macro_rules! into_cell {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl<'a> IntoCell<'a> for $t {
            fn into_cell(self) -> Cell<'a> {
                let $v = self;
                $e
            }
        }
    )*};
}

into_cell! {
    i64 => |v| Cell::Int(Some(v));
    Option<i64> => |v| Cell::Int(v);
    &i64 => |v| Cell::Int(Some(*v));
    &Option<i64> => |v| Cell::Int(*v);
    i32 => |v| Cell::Int(Some(i64::from(v)));
    Option<i32> => |v| Cell::Int(v.map(i64::from));
    &Option<i32> => |v| Cell::Int(v.map(i64::from));
    f64 => |v| Cell::Real(Some(v));
    Option<f64> => |v| Cell::Real(v);
    &Option<f64> => |v| Cell::Real(*v);
    bool => |v| Cell::Bool(v);
    &bool => |v| Cell::Bool(*v);
    &'a str => |v| Cell::Text(Some(Cow::Borrowed(v)));
    &'a String => |v| Cell::Text(Some(Cow::Borrowed(v.as_str())));
    String => |v| Cell::Text(Some(Cow::Owned(v)));
    Option<&'a str> => |v| Cell::Text(v.map(Cow::Borrowed));
    Option<String> => |v| Cell::Text(v.map(Cow::Owned));
    &'a Option<String> => |v| Cell::Text(v.as_deref().map(Cow::Borrowed));
}

impl<'a> Row<'_, 'a> {
    /// Any value of the types above, so that a row reads like sqlx's
    /// `push_values` closures.
    pub fn push_bind(self, v: impl IntoCell<'a>) -> Self {
        self.cells.push(v.into_cell());
        self
    }

    /// A whole number (or `NULL`).
    pub fn int(self, v: impl Into<Option<i64>>) -> Self {
        self.cells.push(Cell::Int(v.into()));
        self
    }
    /// A boolean.
    pub fn bool(self, v: bool) -> Self {
        self.cells.push(Cell::Bool(v));
        self
    }
    /// Borrowed text (or `NULL`).
    pub fn text(self, v: Option<&'a str>) -> Self {
        self.cells.push(Cell::Text(v.map(Cow::Borrowed)));
        self
    }
    /// Text made for this row (or `NULL`).
    pub fn owned(self, v: Option<String>) -> Self {
        self.cells.push(Cell::Text(v.map(Cow::Owned)));
        self
    }
}

impl<'a> Rows<'a> {
    /// An insert of `columns` values per row; `head` is
    /// `INSERT INTO table (c1, c2, …)`, `tail` what follows the values.
    pub fn new(head: &'a str, columns: usize, tail: &'a str) -> Self {
        Self {
            head,
            tail,
            columns,
            cells: Vec::new(),
        }
    }

    /// Starts a row: push exactly `columns` cells, in the head's order.
    pub fn row(&mut self) -> Row<'_, 'a> {
        Row {
            cells: &mut self.cells,
        }
    }

    /// Number of complete rows.
    pub fn len(&self) -> usize {
        self.cells.len() / self.columns.max(1)
    }

    /// The cells of each statement: whole rows, within the backend's limits.
    fn parts(&self, rows_per_part: usize) -> impl Iterator<Item = &[Cell<'a>]> {
        debug_assert_eq!(self.cells.len() % self.columns.max(1), 0, "{}", self.head);
        self.cells
            .chunks(rows_per_part.max(1) * self.columns.max(1))
    }

    fn postgres_rows(&self) -> usize {
        PG_ROWS
    }

    fn sqlite_rows(&self) -> usize {
        (MAX_PARAMS / self.columns.max(1)).clamp(1, 1000)
    }

    fn sqlite(&self, part: &'a [Cell<'a>]) -> QueryBuilder<'a, sqlx::Sqlite> {
        let mut qb = QueryBuilder::new(self.head);
        qb.push(" ");
        qb.push_values(part.chunks(self.columns), |mut b, row| {
            for cell in row {
                match cell {
                    Cell::Int(v) => b.push_bind(*v),
                    Cell::Real(v) => b.push_bind(*v),
                    Cell::Bool(v) => b.push_bind(*v),
                    Cell::Text(v) => b.push_bind(v.as_deref()),
                };
            }
        });
        qb.push(" ").push(self.tail);
        qb
    }

    fn postgres(&self, part: &'a [Cell<'a>]) -> QueryBuilder<'a, sqlx::Postgres> {
        let mut qb = QueryBuilder::new(self.head);
        qb.push(" SELECT * FROM unnest(");
        let n = part.len() / self.columns.max(1);
        for col in 0..self.columns {
            if col > 0 {
                qb.push(", ");
            }
            let column = part.iter().skip(col).step_by(self.columns);
            // The type comes from the cells' variant; every row of a column
            // has the same one (the builder's calls are written per column).
            match part.get(col) {
                Some(Cell::Int(_)) => {
                    let mut v: Vec<Option<i64>> = Vec::with_capacity(n);
                    v.extend(column.map(|c| match c {
                        Cell::Int(x) => *x,
                        _ => None,
                    }));
                    qb.push_bind(v).push("::int8[]");
                }
                Some(Cell::Real(_)) => {
                    let mut v: Vec<Option<f64>> = Vec::with_capacity(n);
                    v.extend(column.map(|c| match c {
                        Cell::Real(x) => *x,
                        _ => None,
                    }));
                    qb.push_bind(v).push("::float8[]");
                }
                Some(Cell::Bool(_)) => {
                    let mut v: Vec<bool> = Vec::with_capacity(n);
                    v.extend(column.map(|c| matches!(c, Cell::Bool(true))));
                    qb.push_bind(v).push("::bool[]");
                }
                Some(Cell::Text(_)) | None => {
                    let mut v: Vec<Option<&str>> = Vec::with_capacity(n);
                    v.extend(column.map(|c| match c {
                        Cell::Text(x) => x.as_deref(),
                        _ => None,
                    }));
                    qb.push_bind(v).push("::text[]");
                }
            }
        }
        qb.push(") ").push(self.tail);
        qb
    }
}

/// A connection that writes [`Rows`]: implemented for both backends, so
/// that code written once inside `on_tx!` calls the right one.
pub(crate) trait Bulk {
    /// The backend's row type, for the rows a `RETURNING` tail gives back.
    type Row: sqlx::Row;

    /// Writes the rows.
    fn write_rows<'c>(&'c mut self, rows: &'c Rows<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Writes the rows and reads what their `RETURNING` tail gives back,
    /// in no particular order.
    fn write_rows_returning<'c, T>(
        &'c mut self,
        rows: &'c Rows<'_>,
    ) -> impl Future<Output = Result<Vec<T>>> + Send
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'c;

    /// The rows of `table` in one campus whose `key` column holds one of
    /// `keys` (`columns` selected from the table aliased `t`), in no
    /// particular order. On PostgreSQL each key is looked up on its own by
    /// equality on (campus_id, key), in a subquery kept apart (`OFFSET 0`)
    /// so that it stays an index probe per key: with `key IN (…)` or a
    /// plain join, the planner — whose statistics date from before the
    /// import — scanned the whole campus once per chunk, which made a large
    /// import quadratic.
    fn fetch_by_keys<'c, T>(
        &'c mut self,
        lookup: KeyLookup,
        keys: &'c [&'c str],
    ) -> impl Future<Output = Result<Vec<T>>> + Send
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'c;
}

/// What [`Bulk::fetch_by_keys`] reads: table, columns, campus and key
/// column. Table and column names are the caller's constants, never input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyLookup {
    pub table: &'static str,
    /// Columns of `t`, e.g. `t.id, t.external_key`.
    pub columns: &'static str,
    pub key: &'static str,
    pub campus_id: i64,
}

impl KeyLookup {
    /// A look-up of `table` by `key` within one campus.
    pub fn new(
        table: &'static str,
        columns: &'static str,
        key: &'static str,
        campus_id: i64,
    ) -> Self {
        Self {
            table,
            columns,
            key,
            campus_id,
        }
    }
}

/// `Bulk::write_rows` and `write_rows_returning` for one backend: the
/// statements of `Rows::$build`, `Rows::$per_part()` rows each.
macro_rules! write_rows_with {
    ($build:ident, $per_part:ident) => {
        async fn write_rows<'c>(&'c mut self, rows: &'c Rows<'_>) -> Result<()> {
            for part in rows.parts(rows.$per_part()) {
                rows.$build(part).build().execute(&mut *self).await?;
            }
            Ok(())
        }

        async fn write_rows_returning<'c, T>(&'c mut self, rows: &'c Rows<'_>) -> Result<Vec<T>>
        where
            T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'c,
        {
            let mut out = Vec::with_capacity(rows.len());
            for part in rows.parts(rows.$per_part()) {
                out.extend(
                    rows.$build(part)
                        .build_query_as::<T>()
                        .fetch_all(&mut *self)
                        .await?,
                );
            }
            Ok(out)
        }
    };
}

impl Bulk for sqlx::SqliteConnection {
    type Row = sqlx::sqlite::SqliteRow;

    write_rows_with!(sqlite, sqlite_rows);

    async fn fetch_by_keys<'c, T>(
        &'c mut self,
        lookup: KeyLookup,
        keys: &'c [&'c str],
    ) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'c,
    {
        let mut out = Vec::new();
        for part in keys.chunks(MAX_PARAMS - 1) {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {} FROM {} t WHERE t.campus_id = ",
                lookup.columns, lookup.table
            ));
            qb.push_bind(lookup.campus_id)
                .push(format!(" AND t.{} IN (", lookup.key));
            let mut sep = qb.separated(", ");
            for k in part {
                sep.push_bind(*k);
            }
            qb.push(")");
            out.extend(qb.build_query_as::<T>().fetch_all(&mut *self).await?);
        }
        Ok(out)
    }
}

impl Bulk for sqlx::PgConnection {
    type Row = sqlx::postgres::PgRow;

    write_rows_with!(postgres, postgres_rows);

    async fn fetch_by_keys<'c, T>(
        &'c mut self,
        lookup: KeyLookup,
        keys: &'c [&'c str],
    ) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin + 'c,
    {
        let sql = format!(
            "SELECT {columns} FROM unnest($2::text[]) AS k(key) CROSS JOIN LATERAL \
             (SELECT * FROM {table} WHERE campus_id = $1 AND {key} = k.key OFFSET 0) t",
            columns = lookup.columns,
            table = lookup.table,
            key = lookup.key
        );
        let mut out = Vec::new();
        for part in keys.chunks(PG_ROWS) {
            out.extend(
                sqlx::query_as::<_, T>(&sql)
                    .bind(lookup.campus_id)
                    .bind(part)
                    .fetch_all(&mut *self)
                    .await?,
            );
        }
        Ok(out)
    }
}

/// Inserts the items of `$rows` in multi-row statements on the connection
/// `$c`: `$head` is the `INSERT … (columns)` text, `$tail` what follows the
/// values (`ON CONFLICT …`), and the block binds one item's `$ncols` cells
/// on the row builder `$b`.
macro_rules! bulk_insert {
    ($c:expr, $head:expr, $tail:expr, $ncols:expr, $rows:expr, |$b:ident, $r:ident| $bind:block) => {{
        let mut rows = $crate::multirow::Rows::new($head.trim_end(), $ncols, $tail);
        for $r in $rows.iter() {
            let $b = rows.row();
            $bind
        }
        $crate::multirow::Bulk::write_rows(&mut *$c, &rows).await?;
    }};
}
pub(crate) use bulk_insert;
