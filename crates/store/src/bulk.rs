//! Set-based upserts of campus data, for imports of national size.
//!
//! Rows go in chunks of up to [`CHUNK`]: each chunk reads the stored rows it
//! may touch with a few `IN (…)` queries on indexed keys, compares them in
//! memory, and writes only what differs with multi-row statements — new rows,
//! their ROME links, sessions and notes, and their change-log entries. A
//! chunk costs about ten statements whatever its size, so an import is linear
//! in its rows. Results are the same as one [`Tx::upsert_formation`] or
//! [`Tx::upsert_member`] per row, in order (a key repeated in the input
//! starts a new chunk, so that its second row sees the first).

use std::collections::{HashMap, HashSet};

use domain::network::{FormationInput, MemberInput, SessionInput};

use crate::catalogue::{formation_tuple, FormationTuple, SessionTuple};
use crate::changelog::log_changes;
use crate::multirow::{Bulk, KeyLookup, Rows};
use crate::network::{member_stored, opt_date, update_member_row, MemberStored};
use crate::{on_tx, Result, StoreError, Tx, Upsert};

/// Most rows handled by one chunk.
const CHUNK: usize = 1000;

/// One formation of [`Tx::upsert_formations`].
#[derive(Debug, Clone)]
pub struct FormationWrite<'a> {
    /// The external key (unique in the campus).
    pub key: String,
    pub input: &'a FormationInput,
    /// ROME links as (code, derived).
    pub rome: Vec<(String, bool)>,
    /// `None` keeps the stored sessions (a spreadsheet has none).
    pub sessions: Option<Vec<SessionInput>>,
    /// `None` keeps the stored data-quality notes.
    pub notes: Option<Vec<(String, String)>>,
}

/// A formation ready to compare and write: borrowed from its input, with
/// its links, sessions and notes in their stored order and its digests.
/// Nothing of it is copied until it has to be written.
struct Prepared<'k> {
    key: &'k str,
    input: &'k FormationInput,
    rome: Vec<&'k (String, bool)>,
    sess: Option<Vec<SessionTuple>>,
    notes: Option<Vec<&'k (String, String)>>,
    /// Digests of (fields, links), sessions and notes (see [`Digest`]).
    row_digest: u128,
    sess_digest: Option<u128>,
    notes_digest: Option<u128>,
}

fn prepare<'k>(w: &'k FormationWrite<'_>) -> Prepared<'k> {
    let mut rome: Vec<&(String, bool)> = w.rome.iter().collect();
    rome.sort();
    rome.dedup_by(|a, b| a.0 == b.0);
    let sess = w.sessions.as_ref().map(|ss| {
        let mut s: Vec<SessionTuple> = ss
            .iter()
            .map(|s| (s.starts_on.to_string(), opt_date(s.ends_on), s.places))
            .collect();
        s.sort();
        s
    });
    let notes = w.notes.as_ref().map(|n| {
        let mut n: Vec<&(String, String)> = n.iter().collect();
        n.sort();
        n
    });
    Prepared {
        key: &w.key,
        input: w.input,
        row_digest: row_digest(w.input, &rome),
        sess_digest: sess.as_deref().map(sessions_digest),
        notes_digest: notes.as_ref().map(|n| notes_digest(n.iter().copied())),
        rome,
        sess,
        notes,
    }
}

/// FNV-1a 128 over length-prefixed fields: the `digest` column of a
/// formation, which lets an import tell an unchanged row from its key and
/// digest alone instead of reading back every field, link, session and
/// note. Not a security hash: a row whose digest matches is taken as
/// unchanged; any other is compared field by field.
struct Digest(u128);

impl Digest {
    fn new() -> Self {
        Self(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for x in (b.len() as u64).to_le_bytes().iter().chain(b) {
            self.0 ^= u128::from(*x);
            self.0 = self
                .0
                .wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            None => self.bytes(&[0]),
            Some(s) => self.bytes(&[1]).str(s),
        }
    }
    fn int(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            None => self.bytes(&[0]),
            Some(n) => self.bytes(&[1]).bytes(&n.to_le_bytes()),
        }
    }
}

/// The digest of a formation's fields as `formation_tuple` stores them
/// (trimmed, empty as none) and of its links.
fn row_digest(f: &FormationInput, rome: &[&(String, bool)]) -> u128 {
    fn trimmed(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let mut d = Digest::new();
    d.str(f.title.trim())
        .int(f.certification_code)
        .int(f.level.map(|l| i64::from(l.get())))
        .str(f.pathway.code())
        .str(f.modality.code())
        .int(Some(f.provider_id))
        .opt_str(trimmed(&f.site_code_insee))
        .int(f.capacity)
        .int(f.duration_hours)
        .opt_str(trimmed(&f.description))
        .str(f.status.code())
        .int(Some(i64::from(f.invented)))
        .int(Some(rome.len() as i64));
    for (code, derived) in rome {
        d.str(code).int(Some(i64::from(*derived)));
    }
    d.0
}

fn sessions_digest(sess: &[SessionTuple]) -> u128 {
    let mut d = Digest::new();
    d.int(Some(sess.len() as i64));
    for (s, e, p) in sess {
        d.str(s).opt_str(e.as_deref()).int(*p);
    }
    d.0
}

fn notes_digest<'n>(notes: impl ExactSizeIterator<Item = &'n (String, String)>) -> u128 {
    let mut d = Digest::new();
    d.int(Some(notes.len() as i64));
    for (f, m) in notes {
        d.str(f).str(m);
    }
    d.0
}

/// The stored text of the three digests.
fn digest_text(row: u128, sess: u128, notes: u128) -> String {
    format!("{row:032x}{sess:032x}{notes:032x}")
}

/// The three digests of a stored formation: fields and links, sessions, notes.
type Digests = (u128, u128, u128);

fn parse_digest(text: &str) -> Option<Digests> {
    let part = |i: usize| {
        text.get(i * 32..(i + 1) * 32)
            .and_then(|h| u128::from_str_radix(h, 16).ok())
    };
    (text.len() == 96).then_some(())?;
    Some((part(0)?, part(1)?, part(2)?))
}

/// A stored formation row: id, key, then the compared fields.
type StoredFormation = (
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    bool,
);

fn split_stored(r: StoredFormation) -> (i64, FormationTuple) {
    (
        r.0,
        (
            r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13,
        ),
    )
}

/// Cuts `items` into chunks of at most [`CHUNK`], starting a new chunk
/// before an item one of whose keys an earlier item of the chunk holds.
/// `keys(item, register)`: with `register == false`, the keys the item is
/// looked up by; with `true`, every key it may hold once written.
fn chunks<T>(items: &[T], keys: impl Fn(&T, bool) -> Vec<String>) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut seen: HashSet<String> = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let full = i - start >= CHUNK;
        if full || keys(item, false).iter().any(|k| seen.contains(k)) {
            out.push(&items[start..i]);
            start = i;
            seen.clear();
        }
        seen.extend(keys(item, true));
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

impl Tx {
    /// Creates or updates formations keyed on (campus, external key), with
    /// their ROME links, sessions and notes, and appends each change to the
    /// change log; what [`Tx::upsert_formation`] does per row, set-based.
    /// Returns one outcome per input row, in order.
    pub async fn upsert_formations(
        &mut self,
        campus_id: i64,
        rows: &[FormationWrite<'_>],
    ) -> Result<Vec<Upsert>> {
        // Change-log numbers in commit order (see `order_changes`).
        self.order_changes().await?;
        let now = self.now.clone();
        let mut out = Vec::with_capacity(rows.len());
        for chunk in chunks(rows, |w, _| vec![w.key.clone()]) {
            let prepared: Vec<Prepared<'_>> = chunk.iter().map(prepare).collect();
            out.extend(self.formation_chunk(campus_id, &prepared, &now).await?);
        }
        Ok(out)
    }

    async fn formation_chunk(
        &mut self,
        campus_id: i64,
        chunk: &[Prepared<'_>],
        now: &str,
    ) -> Result<Vec<Upsert>> {
        on_tx!(self, |c| {
            // The ids and digests stored for these keys.
            let keys: Vec<&str> = chunk.iter().map(|p| p.key).collect();
            let found: Vec<(i64, String, Option<String>)> = c
                .fetch_by_keys(
                    KeyLookup::new(
                        "formations",
                        "t.id, t.external_key, t.digest",
                        "external_key",
                        campus_id,
                    ),
                    &keys,
                )
                .await?;
            let found: HashMap<String, (i64, Option<Digests>)> = found
                .into_iter()
                .map(|(id, key, d)| (key, (id, d.as_deref().and_then(parse_digest))))
                .collect();
            // A matching digest says "unchanged"; any other stored row is
            // read back and compared field by field.
            let same_digest = |p: &Prepared<'_>, d: &Digests| {
                d.0 == p.row_digest
                    && p.sess_digest.is_none_or(|s| s == d.1)
                    && p.notes_digest.is_none_or(|n| n == d.2)
            };
            let ids: Vec<i64> = chunk
                .iter()
                .filter_map(|p| match found.get(p.key) {
                    Some((_, Some(d))) if same_digest(p, d) => None,
                    Some((id, _)) => Some(*id),
                    None => None,
                })
                .collect();
            let mut stored: HashMap<i64, FormationTuple> = HashMap::new();
            // Their links, sessions and notes, sorted here rather than in SQL
            // (collations and NULL order differ between the backends).
            let mut s_rome: HashMap<i64, Vec<(String, bool)>> = HashMap::new();
            let mut s_sess: HashMap<i64, Vec<SessionTuple>> = HashMap::new();
            let mut s_notes: HashMap<i64, Vec<(String, String)>> = HashMap::new();
            if !ids.is_empty() {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, external_key, title, certification_code, level, pathway, modality, provider_id, \
                     site_code_insee, capacity, duration_hours, description, status, invented FROM formations \
                     WHERE id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<StoredFormation> = qb.build_query_as().fetch_all(&mut *c).await?;
                stored = rows.into_iter().map(split_stored).collect();
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT formation_id, code_rome, derived FROM formation_romes WHERE formation_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<(i64, String, bool)> = qb.build_query_as().fetch_all(&mut *c).await?;
                for (id, code, derived) in rows {
                    s_rome.entry(id).or_default().push((code, derived));
                }
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT formation_id, starts_on, ends_on, places FROM sessions WHERE formation_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<(i64, String, Option<String>, Option<i64>)> =
                    qb.build_query_as().fetch_all(&mut *c).await?;
                for (id, s, e, p) in rows {
                    s_sess.entry(id).or_default().push((s, e, p));
                }
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT formation_id, field, message FROM formation_notes WHERE formation_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<(i64, String, String)> =
                    qb.build_query_as().fetch_all(&mut *c).await?;
                for (id, f, m) in rows {
                    s_notes.entry(id).or_default().push((f, m));
                }
                for v in s_rome.values_mut() {
                    v.sort();
                }
                for v in s_sess.values_mut() {
                    v.sort();
                }
                for v in s_notes.values_mut() {
                    v.sort();
                }
            }

            // Compare; update what differs.
            let mut outcomes: Vec<Option<Upsert>> = Vec::with_capacity(chunk.len());
            let mut created: Vec<(&Prepared<'_>, String, FormationTuple)> = Vec::new();
            for p in chunk {
                let Some((id, digest)) = found.get(p.key) else {
                    let d = digest_text(
                        p.row_digest,
                        p.sess_digest.unwrap_or_else(|| sessions_digest(&[])),
                        p.notes_digest.unwrap_or_else(|| notes_digest([].iter())),
                    );
                    created.push((p, d, formation_tuple(p.input)));
                    outcomes.push(None);
                    continue;
                };
                let id = *id;
                if digest.as_ref().is_some_and(|d| same_digest(p, d)) {
                    outcomes.push(Some(Upsert::Unchanged(id)));
                    continue;
                }
                let t = stored
                    .get(&id)
                    .ok_or_else(|| StoreError::NotFound(format!("formation {id}")))?;
                let s_r = s_rome.get(&id).map_or(&[][..], Vec::as_slice);
                let s_s = s_sess.get(&id).map_or(&[][..], Vec::as_slice);
                let s_n = s_notes.get(&id).map_or(&[][..], Vec::as_slice);
                let pt = formation_tuple(p.input);
                let same = *t == pt
                    && s_r.len() == p.rome.len()
                    && s_r.iter().zip(&p.rome).all(|(a, b)| a == *b)
                    && p.sess.as_ref().is_none_or(|s| s.as_slice() == s_s)
                    && p.notes.as_ref().is_none_or(|n| {
                        n.len() == s_n.len() && n.iter().zip(s_n).all(|(a, b)| *a == b)
                    });
                // The digest of what will be stored: kept sessions and notes
                // count as stored.
                let d = digest_text(
                    p.row_digest,
                    p.sess_digest.unwrap_or_else(|| sessions_digest(s_s)),
                    p.notes_digest.unwrap_or_else(|| notes_digest(s_n.iter())),
                );
                if same {
                    // A row stored before digests existed: record its digest
                    // (derived data, not a change of the formation).
                    sqlx::query("UPDATE formations SET digest = $1 WHERE id = $2")
                        .bind(&d)
                        .bind(id)
                        .execute(&mut *c)
                        .await?;
                    outcomes.push(Some(Upsert::Unchanged(id)));
                    continue;
                }
                let t = &pt;
                sqlx::query(
                    "UPDATE formations SET title = $1, certification_code = $2, level = $3, pathway = $4, \
                     modality = $5, provider_id = $6, site_code_insee = $7, capacity = $8, duration_hours = $9, \
                     description = $10, status = $11, invented = $12, updated_at = $13, digest = $14 WHERE id = $15",
                )
                .bind(&t.0).bind(t.1).bind(t.2).bind(&t.3).bind(&t.4).bind(t.5).bind(&t.6)
                .bind(t.7).bind(t.8).bind(&t.9).bind(&t.10).bind(t.11).bind(now).bind(&d).bind(id)
                .execute(&mut *c)
                .await?;
                outcomes.push(Some(Upsert::Updated(id)));
            }

            // Insert the new ones in one statement; their ids come back with
            // their keys (RETURNING promises no order).
            let mut new_ids: HashMap<String, i64> = HashMap::new();
            if !created.is_empty() {
                let mut rows = Rows::new(
                    "INSERT INTO formations (campus_id, external_key, title, certification_code, level, pathway, \
                     modality, provider_id, site_code_insee, capacity, duration_hours, description, status, invented, \
                     created_at, updated_at, digest)",
                    17,
                    "RETURNING id, external_key",
                );
                for (p, d, t) in &created {
                    rows.row()
                        .int(campus_id)
                        .text(Some(p.key))
                        .text(Some(&t.0))
                        .int(t.1)
                        .int(t.2)
                        .text(Some(&t.3))
                        .text(Some(&t.4))
                        .int(t.5)
                        .text(t.6.as_deref())
                        .int(t.7)
                        .int(t.8)
                        .text(t.9.as_deref())
                        .text(Some(&t.10))
                        .bool(t.11)
                        .text(Some(now))
                        .text(Some(now))
                        .text(Some(d));
                }
                let rows: Vec<(i64, String)> = c.write_rows_returning(&rows).await?;
                new_ids = rows.into_iter().map(|(id, k)| (k, id)).collect();
            }
            let mut written: Vec<(i64, &Prepared<'_>, bool)> = Vec::new();
            let mut out = Vec::with_capacity(chunk.len());
            for (p, o) in chunk.iter().zip(outcomes) {
                let o = match o {
                    Some(o) => o,
                    None => {
                        let id = *new_ids.get(p.key).ok_or_else(|| {
                            StoreError::NotFound(format!("formation {} after its insert", p.key))
                        })?;
                        Upsert::Created(id)
                    }
                };
                match o {
                    Upsert::Created(id) => written.push((id, p, true)),
                    Upsert::Updated(id) => written.push((id, p, false)),
                    Upsert::Unchanged(_) => {}
                }
                out.push(o);
            }

            // Replace the links, sessions and notes of what was written.
            let old = |f: &dyn Fn(&Prepared<'_>) -> bool| -> Vec<i64> {
                written
                    .iter()
                    .filter(|(_, p, new)| !new && f(p))
                    .map(|(id, _, _)| *id)
                    .collect()
            };
            for (table, ids) in [
                ("formation_romes", old(&|_| true)),
                ("sessions", old(&|p| p.sess.is_some())),
                ("formation_notes", old(&|p| p.notes.is_some())),
            ] {
                if ids.is_empty() {
                    continue;
                }
                // Table names come from the fixed list above.
                let mut qb =
                    sqlx::QueryBuilder::new(format!("DELETE FROM {table} WHERE formation_id IN ("));
                let mut sep = qb.separated(", ");
                for id in &ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut *c).await?;
            }
            let mut romes = Rows::new(
                "INSERT INTO formation_romes (formation_id, code_rome, derived)",
                3,
                "",
            );
            let mut sessions = Rows::new(
                "INSERT INTO sessions (formation_id, starts_on, ends_on, places)",
                4,
                "",
            );
            let mut notes = Rows::new(
                "INSERT INTO formation_notes (formation_id, field, message)",
                3,
                "",
            );
            for (id, p, _) in &written {
                for (code, derived) in &p.rome {
                    romes.row().int(*id).text(Some(code)).bool(*derived);
                }
                for (s, e, n) in p.sess.iter().flatten() {
                    sessions
                        .row()
                        .int(*id)
                        .text(Some(s))
                        .text(e.as_deref())
                        .int(*n);
                }
                for (f, m) in p.notes.iter().flatten() {
                    notes.row().int(*id).text(Some(f)).text(Some(m));
                }
            }
            c.write_rows(&romes).await?;
            c.write_rows(&sessions).await?;
            c.write_rows(&notes).await?;
            let changed: Vec<i64> = written.iter().map(|(id, _, _)| *id).collect();
            log_changes!(c, "formation", changed, now);
            Ok(out)
        })
    }

    /// Creates or updates members keyed on SIRET, else UAI, else name (when
    /// they have neither), and appends each change to the change log; what
    /// [`Tx::upsert_member`] does per row, set-based. The inputs must have
    /// been validated. Returns one outcome per input row, in order.
    pub async fn upsert_members(
        &mut self,
        campus_id: i64,
        rows: &[MemberInput],
    ) -> Result<Vec<Upsert>> {
        // Change-log numbers in commit order (see `order_changes`).
        self.order_changes().await?;
        let stored: Vec<MemberStored> = rows.iter().map(member_stored).collect();
        let now = self.now.clone();
        let mut out = Vec::with_capacity(rows.len());
        // A row looks up by its SIRET, UAI or (with neither) name; once
        // written, it holds all three.
        let keys = |t: &MemberStored, register: bool| {
            let mut k = Vec::with_capacity(3);
            if let Some(s) = &t.siret {
                k.push(format!("s{s}"));
            }
            if let Some(u) = &t.uai {
                k.push(format!("u{u}"));
            }
            if register || (t.siret.is_none() && t.uai.is_none()) {
                k.push(format!("n{}", t.name));
            }
            k
        };
        for chunk in chunks(&stored, keys) {
            out.extend(self.member_chunk(campus_id, chunk, &now).await?);
        }
        Ok(out)
    }

    async fn member_chunk(
        &mut self,
        campus_id: i64,
        chunk: &[MemberStored],
        now: &str,
    ) -> Result<Vec<Upsert>> {
        const COLS: &str =
            "t.id, t.name, t.kind, t.siret, t.uai, t.code_insee, t.address, t.postcode, t.website, \
             t.description, t.joined_on, t.left_on, t.status, t.invented";
        on_tx!(self, |c| {
            let sirets: Vec<&str> = chunk.iter().filter_map(|t| t.siret.as_deref()).collect();
            let uais: Vec<&str> = chunk.iter().filter_map(|t| t.uai.as_deref()).collect();
            let names: Vec<&str> = chunk
                .iter()
                .filter(|t| t.siret.is_none() && t.uai.is_none())
                .map(|t| t.name.as_str())
                .collect();
            let mut found: HashMap<i64, MemberStored> = HashMap::new();
            let mut by_siret: HashMap<String, i64> = HashMap::new();
            let mut by_uai: HashMap<String, i64> = HashMap::new();
            let mut by_name: HashMap<String, i64> = HashMap::new();
            for (column, values) in [("siret", &sirets), ("uai", &uais), ("name", &names)] {
                if values.is_empty() {
                    continue;
                }
                let rows: Vec<IdMember> = c
                    .fetch_by_keys(KeyLookup::new("members", COLS, column, campus_id), values)
                    .await?;
                for r in rows {
                    let (id, m) = (r.id, r.member);
                    match column {
                        "siret" => {
                            by_siret.insert(m.siret.clone().unwrap_or_default(), id);
                        }
                        "uai" => {
                            by_uai.insert(m.uai.clone().unwrap_or_default(), id);
                        }
                        _ => {
                            // The first id of a name wins, as in `find_member`.
                            let e = by_name.entry(m.name.clone()).or_insert(id);
                            *e = (*e).min(id);
                        }
                    }
                    found.insert(id, m);
                }
            }
            let mut outcomes: Vec<Option<Upsert>> = Vec::with_capacity(chunk.len());
            let mut created: Vec<&MemberStored> = Vec::new();
            for t in chunk {
                let mut id = t.siret.as_ref().and_then(|s| by_siret.get(s));
                if id.is_none() {
                    id = t.uai.as_ref().and_then(|u| by_uai.get(u));
                }
                if id.is_none() && t.siret.is_none() && t.uai.is_none() {
                    id = by_name.get(&t.name);
                }
                let Some(&id) = id else {
                    created.push(t);
                    outcomes.push(None);
                    continue;
                };
                if found.get(&id) == Some(t) {
                    outcomes.push(Some(Upsert::Unchanged(id)));
                    continue;
                }
                update_member_row!(c, t, now, id);
                outcomes.push(Some(Upsert::Updated(id)));
            }
            // New members in one statement; their ids come back with their
            // identifiers, distinct within a chunk (see `upsert_members`).
            let mut new_ids: HashMap<(Option<String>, Option<String>, String), i64> =
                HashMap::new();
            if !created.is_empty() {
                let mut rows = Rows::new(
                    "INSERT INTO members (campus_id, name, kind, siret, uai, code_insee, address, postcode, website, \
                     description, joined_on, left_on, status, invented, created_at, updated_at)",
                    16,
                    "RETURNING id, siret, uai, name",
                );
                for t in &created {
                    rows.row()
                        .int(campus_id)
                        .text(Some(&t.name))
                        .text(Some(&t.kind))
                        .text(t.siret.as_deref())
                        .text(t.uai.as_deref())
                        .text(t.code_insee.as_deref())
                        .text(t.address.as_deref())
                        .text(t.postcode.as_deref())
                        .text(t.website.as_deref())
                        .text(t.description.as_deref())
                        .text(t.joined_on.as_deref())
                        .text(t.left_on.as_deref())
                        .text(Some(&t.status))
                        .bool(t.invented)
                        .text(Some(now))
                        .text(Some(now));
                }
                let rows: Vec<(i64, Option<String>, Option<String>, String)> =
                    c.write_rows_returning(&rows).await?;
                new_ids = rows
                    .into_iter()
                    .map(|(id, s, u, n)| ((s, u, n), id))
                    .collect();
            }
            let mut out = Vec::with_capacity(chunk.len());
            let mut changed = Vec::new();
            for (t, o) in chunk.iter().zip(outcomes) {
                let o = match o {
                    Some(o) => o,
                    None => {
                        let key = (t.siret.clone(), t.uai.clone(), t.name.clone());
                        let id = *new_ids.get(&key).ok_or_else(|| {
                            StoreError::NotFound(format!("membre {} after its insert", t.name))
                        })?;
                        Upsert::Created(id)
                    }
                };
                if !matches!(o, Upsert::Unchanged(_)) {
                    changed.push(o.id());
                }
                out.push(o);
            }
            log_changes!(c, "member", changed, now);
            Ok(out)
        })
    }
}

/// A stored member with its id.
#[derive(sqlx::FromRow)]
struct IdMember {
    id: i64,
    #[sqlx(flatten)]
    member: MemberStored,
}
