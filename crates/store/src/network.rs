//! The network's data: campuses, members and contacts (formations are in
//! `catalogue`). Writes take an open transaction so that an import can be
//! all-or-nothing; reads take the pool.

use domain::network::MemberInput;
use domain::visibility::{FORMATION_PUBLIC_SQL, MEMBER_PUBLIC_SQL};

use crate::rows::*;
use crate::{on_pool, on_tx, Result, Store, StoreError, Tx};

/// What an upsert did, so that imports can say "nothing changed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

impl Upsert {
    /// The id of the row, whatever happened.
    pub fn id(self) -> i64 {
        match self {
            Upsert::Created(id) | Upsert::Updated(id) | Upsert::Unchanged(id) => id,
        }
    }
}

/// A campus to create or update (keyed on its slug).
#[derive(Debug, Clone)]
pub struct CampusInput {
    pub slug: String,
    pub name: String,
    pub sector: domain::Sector,
    pub theme: Option<String>,
    pub description: Option<String>,
    pub label_start: Option<String>,
    pub label_end: Option<String>,
    pub time_zone: String,
    pub website: Option<String>,
    /// Perimeter as (kind, code): `departement`, `zone_emploi`, `commune`.
    pub territories: Vec<(String, String)>,
}

/// A contact to attach to a member.
#[derive(Debug, Clone)]
pub struct ContactInput {
    pub name: String,
    pub role: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub invented: bool,
}

const MEMBER_SELECT: &str =
    "SELECT m.id, m.campus_id, m.name, m.kind, m.siret, m.uai, m.code_insee, \
    c.name AS commune_name, c.departement_code, m.address, m.postcode, m.website, m.description, \
    m.joined_on, m.left_on, m.status, m.invented, c.latitude, c.longitude \
    FROM members m LEFT JOIN communes c ON c.code_insee = m.code_insee";

pub(crate) fn opt_date(d: Option<domain::network::chrono_free::Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

pub(crate) fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The stored form of a member input, compared field by field to decide
/// whether an upsert changes anything.
#[derive(Debug, PartialEq, sqlx::FromRow)]
pub(crate) struct MemberStored {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) siret: Option<String>,
    pub(crate) uai: Option<String>,
    pub(crate) code_insee: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) postcode: Option<String>,
    pub(crate) website: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) joined_on: Option<String>,
    pub(crate) left_on: Option<String>,
    pub(crate) status: String,
    pub(crate) invented: bool,
}

/// The stored fields of a member, compared with an input to tell `Unchanged`.
const MEMBER_STORED_SELECT: &str =
    "SELECT name, kind, siret, uai, code_insee, address, postcode, website, \
    description, joined_on, left_on, status, invented FROM members WHERE id = $1";

pub(crate) const UPDATE_MEMBER: &str = "UPDATE members SET name = $1, kind = $2, siret = $3, uai = $4, code_insee = $5, \
    address = $6, postcode = $7, website = $8, description = $9, joined_on = $10, left_on = $11, status = $12, \
    invented = $13, updated_at = $14 WHERE id = $15";

/// Writes a member's stored fields over row `id` on connection `$c` (one
/// body per backend, as `on_tx!` compiles it); a SIRET or UAI taken by
/// another member of the campus is a `Conflict`.
macro_rules! update_member_row {
    ($c:expr, $t:expr, $now:expr, $id:expr) => {
        sqlx::query($crate::network::UPDATE_MEMBER)
            .bind(&$t.name)
            .bind(&$t.kind)
            .bind(&$t.siret)
            .bind(&$t.uai)
            .bind(&$t.code_insee)
            .bind(&$t.address)
            .bind(&$t.postcode)
            .bind(&$t.website)
            .bind(&$t.description)
            .bind(&$t.joined_on)
            .bind(&$t.left_on)
            .bind(&$t.status)
            .bind($t.invented)
            .bind($now)
            .bind($id)
            .execute(&mut *$c)
            .await
            .map_err($crate::network::member_conflict)?
    };
}
pub(crate) use update_member_row;

/// A unique violation on a member's SIRET or UAI, said plainly.
pub(crate) fn member_conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(
            "ce SIRET ou cet UAI est déjà celui d'un autre membre du campus".into(),
        ),
        _ => StoreError::Db(e),
    }
}

pub(crate) fn member_stored(m: &MemberInput) -> MemberStored {
    MemberStored {
        name: m.name.trim().to_owned(),
        kind: m.kind.code().to_owned(),
        siret: trimmed(&m.siret).map(|s| s.replace(' ', "")),
        uai: trimmed(&m.uai).map(|s| s.to_ascii_uppercase()),
        code_insee: trimmed(&m.code_insee),
        address: trimmed(&m.address),
        postcode: trimmed(&m.postcode),
        website: trimmed(&m.website),
        description: trimmed(&m.description),
        joined_on: opt_date(m.joined_on),
        left_on: opt_date(m.left_on),
        status: m.status.code().to_owned(),
        invented: m.invented,
    }
}

impl Tx {
    /// Creates or updates a campus by slug and replaces its perimeter.
    pub async fn upsert_campus(&mut self, c_in: &CampusInput) -> Result<i64> {
        let id: i64 = on_tx!(self, |c| {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO campuses (slug, name, sector, theme, description, label_start, label_end, time_zone, website) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (slug) DO UPDATE SET name = excluded.name, sector = excluded.sector, theme = excluded.theme, \
                 description = excluded.description, label_start = excluded.label_start, label_end = excluded.label_end, \
                 time_zone = excluded.time_zone, website = excluded.website RETURNING id",
            )
            .bind(&c_in.slug)
            .bind(&c_in.name)
            .bind(c_in.sector.code())
            .bind(&c_in.theme)
            .bind(&c_in.description)
            .bind(&c_in.label_start)
            .bind(&c_in.label_end)
            .bind(&c_in.time_zone)
            .bind(&c_in.website)
            .fetch_one(&mut *c)
            .await?;
            sqlx::query("DELETE FROM campus_territories WHERE campus_id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            for (kind, code) in &c_in.territories {
                sqlx::query(
                    "INSERT INTO campus_territories (campus_id, kind, code) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(kind)
                .bind(code)
                .execute(&mut *c)
                .await?;
            }
            id
        });
        Ok(id)
    }

    /// Sets the support establishment of a campus.
    pub async fn set_support_member(&mut self, campus_id: i64, member_id: i64) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("UPDATE campuses SET support_member_id = $1 WHERE id = $2")
                .bind(member_id)
                .bind(campus_id)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Finds a member of a campus by SIRET, then UAI, then exact name.
    pub async fn find_member(
        &mut self,
        campus_id: i64,
        siret: Option<&str>,
        uai: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<i64>> {
        let found: Option<(i64,)> = on_tx!(self, |c| {
            let mut found = None;
            if let Some(s) = siret.filter(|s| !s.is_empty()) {
                found =
                    sqlx::query_as("SELECT id FROM members WHERE campus_id = $1 AND siret = $2")
                        .bind(campus_id)
                        .bind(s)
                        .fetch_optional(&mut *c)
                        .await?;
            }
            if found.is_none() {
                if let Some(u) = uai.filter(|s| !s.is_empty()) {
                    found =
                        sqlx::query_as("SELECT id FROM members WHERE campus_id = $1 AND uai = $2")
                            .bind(campus_id)
                            .bind(u.to_ascii_uppercase())
                            .fetch_optional(&mut *c)
                            .await?;
                }
            }
            if found.is_none() && siret.is_none() && uai.is_none() {
                if let Some(n) = name {
                    found = sqlx::query_as(
                        "SELECT id FROM members WHERE campus_id = $1 AND name = $2 ORDER BY id LIMIT 1",
                    )
                    .bind(campus_id)
                    .bind(n.trim())
                    .fetch_optional(&mut *c)
                    .await?;
                }
            }
            found
        });
        Ok(found.map(|r| r.0))
    }

    /// The member an upsert of `m` would update, if any (same keys as
    /// [`Tx::upsert_member`]).
    pub async fn existing_member(
        &mut self,
        campus_id: i64,
        m: &MemberInput,
    ) -> Result<Option<i64>> {
        let t = member_stored(m);
        self.find_member(
            campus_id,
            t.siret.as_deref(),
            t.uai.as_deref(),
            Some(&t.name),
        )
        .await
    }

    /// The provider of the formation with this external key, if it exists.
    pub async fn formation_provider(&mut self, campus_id: i64, key: &str) -> Result<Option<i64>> {
        let found: Option<(i64,)> = on_tx!(self, |c| {
            sqlx::query_as(
                "SELECT provider_id FROM formations WHERE campus_id = $1 AND external_key = $2",
            )
            .bind(campus_id)
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(found.map(|r| r.0))
    }

    /// Creates or updates a member, keyed on SIRET, else UAI, else name.
    /// The input must have been validated.
    pub async fn upsert_member(&mut self, campus_id: i64, m: &MemberInput) -> Result<Upsert> {
        let out = self
            .upsert_members(campus_id, std::slice::from_ref(m))
            .await?;
        Ok(out[0])
    }

    /// Updates the member with this id (identifiers included, which an
    /// upsert keyed on them cannot change); `NotFound` when it does not
    /// exist, `Conflict` when the new SIRET or UAI is another member's.
    pub async fn update_member(&mut self, id: i64, m: &MemberInput) -> Result<Upsert> {
        // Before any row is locked, so that writers always take the locks
        // in the same order (see `order_changes`).
        self.order_changes().await?;
        let t = member_stored(m);
        let now = self.now.clone();
        let result = on_tx!(self, |c| {
            let stored: Option<MemberStored> = sqlx::query_as(MEMBER_STORED_SELECT)
                .bind(id)
                .fetch_optional(&mut *c)
                .await?;
            match stored {
                None => return Err(StoreError::NotFound(format!("membre {id}"))),
                Some(s) if s == t => Upsert::Unchanged(id),
                Some(_) => {
                    update_member_row!(c, t, &now, id);
                    Upsert::Updated(id)
                }
            }
        });
        if result != Upsert::Unchanged(id) {
            self.log_change("member", &id.to_string()).await?;
        }
        Ok(result)
    }

    /// Replaces the contacts of a member.
    pub async fn replace_contacts(
        &mut self,
        member_id: i64,
        contacts: &[ContactInput],
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("DELETE FROM contacts WHERE member_id = $1")
                .bind(member_id)
                .execute(&mut *c)
                .await?;
            for k in contacts {
                sqlx::query(
                    "INSERT INTO contacts (member_id, name, role, email, phone, invented) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(member_id)
                .bind(&k.name)
                .bind(&k.role)
                .bind(&k.email)
                .bind(&k.phone)
                .bind(k.invented)
                .execute(&mut *c)
                .await?;
            }
        });
        Ok(())
    }
}

impl Store {
    /// A campus by slug.
    pub async fn campus_by_slug(&self, slug: &str) -> Result<Option<CampusRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, slug, name, sector, theme, description, label_start, label_end, support_member_id, \
                 time_zone, website FROM campuses WHERE slug = $1",
            )
            .bind(slug)
            .fetch_optional(p)
            .await?
        }))
    }

    /// Every campus, by name.
    pub async fn campuses(&self) -> Result<Vec<CampusRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, slug, name, sector, theme, description, label_start, label_end, support_member_id, \
                 time_zone, website FROM campuses ORDER BY name",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// The perimeter of a campus as (kind, code, name).
    pub async fn campus_territories(
        &self,
        campus_id: i64,
    ) -> Result<Vec<(String, String, String)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT t.kind, t.code, COALESCE(d.name, c.name, e.name, t.code) FROM campus_territories t \
                 LEFT JOIN departements d ON t.kind = 'departement' AND d.code = t.code \
                 LEFT JOIN communes c ON t.kind = 'commune' AND c.code_insee = t.code \
                 LEFT JOIN employment_areas e ON t.kind = 'zone_emploi' AND e.code = t.code \
                 WHERE t.campus_id = $1 ORDER BY t.kind, t.code",
            )
            .bind(campus_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Members of a campus; `published_only` for public pages. Outside
    /// organisations (providers met in imports) are listed only to staff.
    pub async fn members(&self, campus_id: i64, published_only: bool) -> Result<Vec<MemberRow>> {
        let sql = format!(
            "{MEMBER_SELECT} WHERE m.campus_id = $1 AND ($2 = FALSE OR {MEMBER_PUBLIC_SQL}) \
             ORDER BY m.name"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql)
                .bind(campus_id)
                .bind(published_only)
                .fetch_all(p)
                .await?
        }))
    }

    /// One member by id.
    pub async fn member(&self, id: i64) -> Result<Option<MemberRow>> {
        let sql = format!("{MEMBER_SELECT} WHERE m.id = $1");
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(id).fetch_optional(p).await?
        }))
    }

    /// Members by ids, in no particular order.
    pub async fn members_by_ids(&self, ids: &[i64]) -> Result<Vec<MemberRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = self.member(*id).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Every member of every campus (for the search index).
    pub async fn all_members(&self) -> Result<Vec<MemberRow>> {
        let sql = format!("{MEMBER_SELECT} ORDER BY m.id");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await?))
    }

    /// Contacts of a member (personal data: staff only).
    pub async fn contacts(&self, member_id: i64) -> Result<Vec<ContactRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, member_id, name, role, email, phone, invented FROM contacts WHERE member_id = $1 ORDER BY name",
            )
            .bind(member_id)
            .fetch_all(p)
            .await?
        }))
    }

    /// Counts of the campus' data, for the campus page.
    pub async fn campus_counts(&self, campus_id: i64) -> Result<(i64, i64)> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM members m WHERE m.campus_id = $1 AND {MEMBER_PUBLIC_SQL}), \
             (SELECT COUNT(*) FROM formations f WHERE f.campus_id = $1 AND {FORMATION_PUBLIC_SQL})"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&sql).bind(campus_id).fetch_one(p).await?
        }))
    }

    /// Fails with `NotFound` unless the member belongs to the campus.
    pub async fn member_in_campus(&self, member_id: i64, campus_id: i64) -> Result<MemberRow> {
        match self.member(member_id).await? {
            Some(m) if m.campus_id == campus_id => Ok(m),
            _ => Err(StoreError::NotFound(format!("membre {member_id}"))),
        }
    }
}
