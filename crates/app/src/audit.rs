//! Recording and verifying the audit log (see `domain::audit` for the
//! chain, `store::audit` for storage). What is recorded: sign-ins and failed
//! sign-ins, sign-outs, accounts and roles created, tokens created and
//! revoked, every create / update of campus data through the API and the
//! forms, every import (one entry per file, with its counts) and every
//! export. Entries are sealed with the server's key (`Config::audit_key`)
//! and the log's signed head moves with each of them; `verify_audit` checks
//! both, and an anchored head if given (docs/SECURITY.md, "Audit log").

use domain::audit::{
    anchor_matches, check, check_head, entry_mac, head_signed, Break, HeadBreak, Previous, GENESIS,
    V2,
};
use store::{AuditHead, AuditInput, AuditRow, Tx};

use crate::accounts::random_secret;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// What an entry is about.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// `sign_in`, `member.create`, `export.membres`…
    pub action: String,
    /// Campus concerned.
    pub campus_id: Option<i64>,
    /// Kind of object.
    pub entity: Option<String>,
    /// Its id.
    pub entity_id: Option<String>,
    /// Non-personal detail, JSON.
    pub detail: Option<serde_json::Value>,
}

impl Event {
    /// An event with only its action.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            ..Self::default()
        }
    }

    /// About one object of a campus.
    pub fn on(mut self, campus_id: i64, entity: &str, entity_id: impl ToString) -> Self {
        self.campus_id = Some(campus_id);
        self.entity = Some(entity.to_owned());
        self.entity_id = Some(entity_id.to_string());
        self
    }

    /// With a detail.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// The result of `passerelle audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: i64,
    /// The first broken entry and why, if any (for a problem at the end of
    /// the log, the number of the entry that is missing or in excess).
    pub broken: Option<(i64, String)>,
    /// The signed head, when everything holds: what to anchor.
    pub head: Option<HeadAnchor>,
}

/// A head as written down outside the database, `SEQ:MAC`: the number of
/// the last entry and the head's MAC, as `passerelle audit head` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadAnchor {
    pub seq: i64,
    pub mac: String,
}

impl std::fmt::Display for HeadAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.mac)
    }
}

impl std::str::FromStr for HeadAnchor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let parsed = s.split_once(':').and_then(|(seq, mac)| {
            let seq = i64::try_from(seq.trim().parse::<u64>().ok()?).ok()?;
            let mac = mac.trim().to_ascii_lowercase();
            (mac.len() == 64 && mac.bytes().all(|b| b.is_ascii_hexdigit()))
                .then_some(HeadAnchor { seq, mac })
        });
        parsed.ok_or_else(|| {
            format!(
                "tête « {s} » : attendu NUMÉRO:MAC (64 chiffres hexadécimaux), \
                 comme l'affiche `passerelle audit head`"
            )
        })
    }
}

impl From<&AuditHead> for HeadAnchor {
    fn from(h: &AuditHead) -> Self {
        Self {
            seq: h.seq,
            mac: h.mac.clone(),
        }
    }
}

impl App {
    fn audit_input(&self, actor: &Actor, event: Event) -> AuditInput {
        AuditInput {
            at: self
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor_user_id: actor.user_id().filter(|id| *id > 0),
            actor_label: actor.principal.as_ref().map(|p| p.email.clone()),
            ip_prefix: actor.origin.clone(),
            action: event.action,
            campus_id: event.campus_id,
            entity: event.entity,
            entity_id: event.entity_id,
            detail: event.detail.map(|d| d.to_string()),
            salt: random_secret(16),
        }
    }

    /// Records an event in its own transaction.
    pub async fn audit(&self, actor: &Actor, event: Event) -> Result<(), AppError> {
        self.store
            .append_audit(&self.audit_input(actor, event), &self.config.audit_key)
            .await?;
        Ok(())
    }

    /// Records an event inside `tx`, with the change it describes.
    pub async fn audit_in(&self, tx: &mut Tx, actor: &Actor, event: Event) -> Result<(), AppError> {
        tx.append_audit(&self.audit_input(actor, event), &self.config.audit_key)
            .await?;
        Ok(())
    }

    /// Walks the whole chain, then checks its signed head; stops at the
    /// first problem.
    pub async fn verify_audit(&self) -> Result<Verification, AppError> {
        self.verify_audit_with(None).await
    }

    /// As [`App::verify_audit`], and checks that `anchor`, a head written
    /// down outside the database earlier, still names an entry of the chain
    /// as it is now: the log was neither rolled back below it nor rewritten
    /// up to it, even if an older head was put back.
    pub async fn verify_audit_with(
        &self,
        anchor: Option<&HeadAnchor>,
    ) -> Result<Verification, AppError> {
        let key = &self.config.audit_key;
        let broken = |entries, seq, why: String| {
            Ok(Verification {
                entries,
                broken: Some((seq, why)),
                head: None,
            })
        };
        let head = self.store.audit_head().await?;
        let mut previous: Option<(i64, String, i32)> = None;
        let mut anchored_hash = anchor.filter(|a| a.seq == 0).map(|_| GENESIS.to_owned());
        let mut entries = 0;
        loop {
            let after = previous.as_ref().map_or(0, |p| p.0);
            let page = self.store.audit_after(after, 5_000).await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                // A gap at the very start shows as `seq` ≠ 1.
                let prev = previous.as_ref().map(|(seq, hash, version)| Previous {
                    seq: *seq,
                    hash,
                    version: *version,
                });
                let personal = row
                    .personal_salt
                    .as_deref()
                    .map(|salt| (salt, row.actor_label.as_deref(), row.ip_prefix.as_deref()));
                let personal = match personal {
                    Some(p) => Some(p),
                    // Personal fields without their salt were not cleared by
                    // the application, which clears all three together.
                    None if row.actor_label.is_some() || row.ip_prefix.is_some() => {
                        return broken(entries, row.seq, Break::Personal.to_string());
                    }
                    None => None,
                };
                let checked = check(
                    key,
                    &row.chained(),
                    row.chain_version,
                    &row.hash,
                    prev,
                    personal,
                );
                if let Err(b) = checked {
                    return broken(entries, row.seq, b.to_string());
                }
                entries += 1;
                if anchor.is_some_and(|a| a.seq == row.seq) {
                    anchored_hash = Some(row.hash.clone());
                }
                previous = Some((row.seq, row.hash.clone(), row.chain_version));
            }
        }
        let last_seq = previous.as_ref().map_or(0, |p| p.0);
        let last = previous
            .as_ref()
            .map(|(seq, hash, _)| (*seq, hash.as_str()));
        let signed = head.as_ref().map(AuditHead::as_head);
        if let Err(b) = check_head(key, signed.as_ref(), last) {
            let seq = match b {
                HeadBreak::Cut { last, .. } => last + 1,
                HeadBreak::Beyond { head, .. } => head + 1,
                HeadBreak::Diverged { seq } => seq,
                HeadBreak::Mac => head.as_ref().map_or(last_seq, |h| h.seq),
                HeadBreak::Missing => last_seq,
            };
            return broken(entries, seq, b.to_string());
        }
        if let Some(a) = anchor {
            match anchored_hash {
                None => {
                    return broken(
                        entries,
                        a.seq,
                        format!(
                            "retour en arrière : l'entrée n° {} de la tête ancrée n'existe plus \
                             (dernière : n° {last_seq})",
                            a.seq
                        ),
                    );
                }
                Some(hash) if !anchor_matches(key, a.seq, &a.mac, &hash) => {
                    return broken(
                        entries,
                        a.seq,
                        format!(
                            "l'entrée n° {} ne correspond pas à la tête ancrée \
                             (journal réécrit jusqu'à elle, ou tête ancrée avec une autre clé)",
                            a.seq
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        Ok(Verification {
            entries,
            broken: None,
            head: head.as_ref().map(HeadAnchor::from),
        })
    }

    /// The log's head as stored, to anchor outside the database, once its
    /// MAC has been checked with this server's key; otherwise why not. It
    /// does not walk the chain: `verify_audit` does, and returns the head too.
    pub async fn audit_head(&self) -> Result<Result<HeadAnchor, HeadBreak>, AppError> {
        Ok(match self.store.audit_head().await? {
            None => Err(HeadBreak::Missing),
            Some(h) if !head_signed(&self.config.audit_key, &h.as_head()) => Err(HeadBreak::Mac),
            Some(h) => Ok(HeadAnchor::from(&h)),
        })
    }

    /// Whether this server's key is the one that seals the log: `false`
    /// when the head is signed with another key and the last entry, if
    /// there is one, was not sealed with this key either (a head forged
    /// without the key is not enough to stop a server holding the right
    /// one). A server must not write with another key: the chain would mix
    /// keys and no key would verify it whole.
    pub async fn audit_key_fits(&self) -> Result<bool, AppError> {
        let key = &self.config.audit_key;
        let Some(head) = self.store.audit_head().await? else {
            return Ok(true);
        };
        if head_signed(key, &head.as_head()) {
            return Ok(true);
        }
        Ok(match self.store.audit_last().await? {
            Some(last) => last.chain_version == V2 && entry_mac(key, &last.chained()) == last.hash,
            None => false,
        })
    }

    /// The latest entries of a campus, for its managers.
    pub async fn campus_audit(&self, actor: &Actor, slug: &str) -> Result<Vec<AuditRow>, AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        Ok(self.store.audit_of_campus(campus.id, 500).await?)
    }
}
impl App {
    /// Records a create or update in the audit log (nothing for an upsert
    /// that changed nothing).
    pub(crate) async fn audit_upsert(
        &self,
        tx: &mut store::Tx,
        actor: &Actor,
        campus_id: i64,
        entity: &str,
        result: store::Upsert,
    ) -> Result<(), AppError> {
        let verb = match result {
            store::Upsert::Created(_) => "create",
            store::Upsert::Updated(_) => "update",
            store::Upsert::Unchanged(_) => return Ok(()),
        };
        self.audit_in(
            tx,
            actor,
            crate::audit::Event::new(format!("{entity}.{verb}")).on(campus_id, entity, result.id()),
        )
        .await
    }
}
