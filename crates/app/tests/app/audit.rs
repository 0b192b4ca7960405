//! The keyed audit chain end to end, on both backends: what `verify`
//! detects (a cut end, another key, entries rewritten without the key, a
//! rollback below an anchored head) and what it cannot without an anchor
//! (a rollback to an older head kept by the attacker).

use std::path::PathBuf;
use std::sync::Arc;

use app::audit::{Event, HeadAnchor, Verification};
use app::{Actor, App, Config};
use domain::audit::{
    entry_hash, head_mac, personal_hash, AuditKey, Chained, HeadBreak, GENESIS, V1, V2,
};
use store::testing::{backend_urls, execute_as_application, tamper_audit};

fn key(byte: u8) -> Arc<AuditKey> {
    Arc::new(AuditKey::from_bytes([byte; AuditKey::LEN]))
}

async fn open(url: &str, key: Arc<AuditKey>) -> App {
    let mut config = Config::new(
        url,
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data")),
    );
    config.follow_index = false;
    config.audit_key = key;
    App::open(config).await.expect("open")
}

async fn record(app: &App, n: usize) {
    for i in 0..n {
        app.audit(&Actor::operator(), Event::new(format!("test.{i}")))
            .await
            .unwrap();
    }
}

fn broken_at(v: &Verification) -> Option<i64> {
    v.broken.as_ref().map(|b| b.0)
}

#[tokio::test]
async fn a_keyed_chain_verifies_and_its_anchored_head_reveals_a_rollback() {
    for url in backend_urls("audit_anchor").await {
        let app = open(&url, key(1)).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, v.broken.clone()), (0, None), "{v:?}");
        record(&app, 5).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, v.broken.clone()), (5, None), "{v:?}");
        let at5 = v.head.clone().unwrap();
        assert_eq!(at5.seq, 5);
        assert_eq!(app.audit_head().await.unwrap(), Ok(at5.clone()));
        let entries = app.store().audit_after(0, 10).await.unwrap();
        assert!(entries.iter().all(|e| e.chain_version == V2));
        let hash5 = entries[4].hash.clone();

        // The operator anchors the head at 7 (a ticket, an e-mail)…
        record(&app, 2).await;
        let at7 = app.audit_head().await.unwrap().unwrap();
        assert_eq!(at7.seq, 7);
        assert_eq!(at7.to_string().parse::<HeadAnchor>(), Ok(at7.clone()));
        record(&app, 1).await;
        let v = app.verify_audit_with(Some(&at7)).await.unwrap();
        assert_eq!((v.entries, v.broken.clone()), (8, None), "{v:?}");
        // An anchored head of the empty log holds; a wrong MAC, or an entry
        // beyond the end, does not.
        let empty = HeadAnchor {
            seq: 0,
            mac: head_mac(&key(1), 0, GENESIS),
        };
        assert_eq!(
            app.verify_audit_with(Some(&empty)).await.unwrap().broken,
            None
        );
        let forged = format!("0:{}", "0".repeat(64))
            .parse::<HeadAnchor>()
            .unwrap();
        let v = app.verify_audit_with(Some(&forged)).await.unwrap();
        assert_eq!(broken_at(&v), Some(0), "{v:?}");
        let wrong = HeadAnchor {
            seq: 7,
            mac: at5.mac.clone(),
        };
        let v = app.verify_audit_with(Some(&wrong)).await.unwrap();
        assert_eq!(broken_at(&v), Some(7), "{v:?}");
        let beyond = HeadAnchor {
            seq: 9,
            mac: at7.mac.clone(),
        };
        assert_eq!(
            broken_at(&app.verify_audit_with(Some(&beyond)).await.unwrap()),
            Some(9)
        );

        // …while an attacker with database access but without the key kept
        // the head at 5. They remove the entries after it and put that head
        // back: the chain and its head hold (that, alone, cannot be seen)…
        tamper_audit(app.store(), "DELETE FROM audit_log WHERE seq > 5")
            .await
            .unwrap();
        tamper_audit(
            app.store(),
            &format!(
                "UPDATE audit_head SET seq = 5, hash = '{hash5}', mac = '{}'",
                at5.mac
            ),
        )
        .await
        .unwrap();
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, v.broken.clone()), (5, None), "{v:?}");
        // …but the anchored head names an entry that is gone.
        let v = app.verify_audit_with(Some(&at7)).await.unwrap();
        let (seq, why) = v.broken.clone().unwrap();
        assert_eq!(seq, 7);
        assert!(why.contains("retour en arrière"), "{why}");
        assert!(app
            .verify_audit_with(Some(&at5))
            .await
            .unwrap()
            .broken
            .is_none());
    }
}

#[tokio::test]
async fn a_cut_end_is_reported_and_stays_visible_after_new_entries() {
    for url in backend_urls("audit_cut").await {
        let app = open(&url, key(1)).await;
        record(&app, 5).await;
        // Triggers dropped, the last two entries removed: the chain before
        // them still links, the signed head does not let it pass.
        tamper_audit(app.store(), "DELETE FROM audit_log WHERE seq >= 4")
            .await
            .unwrap();
        let v = app.verify_audit().await.unwrap();
        let (seq, why) = v.broken.clone().unwrap();
        assert_eq!((v.entries, seq), (3, 4), "{v:?}");
        assert!(why.contains("fin du journal coupée"), "{why}");
        // The next entry follows the head, not the cut end: the gap stays.
        record(&app, 1).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, broken_at(&v)), (3, Some(6)), "{v:?}");
        assert!(v.broken.unwrap().1.contains("attendu n° 4"));
    }
}

#[tokio::test]
async fn a_removed_head_is_reported() {
    for url in backend_urls("audit_no_head").await {
        let app = open(&url, key(1)).await;
        record(&app, 2).await;
        tamper_audit(app.store(), "DELETE FROM audit_head")
            .await
            .unwrap();
        let v = app.verify_audit().await.unwrap();
        assert_eq!(v.broken.map(|b| b.1), Some(HeadBreak::Missing.to_string()));
        // Reopening does not sign a new head over keyed entries.
        let app = open(&url, key(1)).await;
        record(&app, 1).await;
        assert_eq!(app.audit_head().await.unwrap(), Err(HeadBreak::Missing));
        assert!(app.verify_audit().await.unwrap().broken.is_some());
    }
}

#[tokio::test]
async fn another_key_does_not_verify_and_is_told_apart_from_a_forged_head() {
    for url in backend_urls("audit_key").await {
        let app = open(&url, key(1)).await;
        record(&app, 3).await;
        assert!(app.audit_key_fits().await.unwrap());
        let other = open(&url, key(2)).await;
        let v = other.verify_audit().await.unwrap();
        let (seq, why) = v.broken.clone().unwrap();
        assert_eq!(seq, 1, "{v:?}");
        assert!(why.contains("autre clé"), "{why}");
        assert_eq!(other.audit_head().await.unwrap(), Err(HeadBreak::Mac));
        assert!(!other.audit_key_fits().await.unwrap());

        // A head forged without the key: reported, but the right key still
        // fits (it sealed the last entry), so servers keep running.
        tamper_audit(
            app.store(),
            &format!("UPDATE audit_head SET mac = '{GENESIS}'"),
        )
        .await
        .unwrap();
        let v = app.verify_audit().await.unwrap();
        assert_eq!(v.broken.map(|b| b.1), Some(HeadBreak::Mac.to_string()));
        assert!(app.audit_key_fits().await.unwrap());
        assert!(!other.audit_key_fits().await.unwrap());
    }
}

/// An unkeyed (v1) entry as written before the key, and the statement that
/// inserts it: anyone with write access can compute these.
fn unkeyed(seq: i64, prev: &str, action: &str) -> (String, String) {
    let personal = personal_hash("sel", None, None);
    let hash = entry_hash(&Chained {
        seq,
        at: "2025-01-01T00:00:00Z",
        actor_user_id: None,
        action,
        campus_id: None,
        entity: None,
        entity_id: None,
        detail: None,
        personal_hash: &personal,
        prev_hash: prev,
    });
    let sql = format!(
        "INSERT INTO audit_log (seq, at, personal_salt, action, personal_hash, prev_hash, hash) \
         VALUES ({seq}, '2025-01-01T00:00:00Z', 'sel', '{action}', '{personal}', '{prev}', '{hash}')"
    );
    (hash, sql)
}

/// A log written before the upgrade (three unkeyed entries, no head), then
/// opened with a key and given `keyed` new entries.
async fn upgraded(url: &str, keyed: usize) -> App {
    let s = store::Store::connect(url).await.unwrap();
    s.migrate().await.unwrap();
    let mut prev = GENESIS.to_owned();
    for seq in 1..=3 {
        let (hash, sql) = unkeyed(seq, &prev, "ancien");
        execute_as_application(&s, &sql).await.unwrap();
        prev = hash;
    }
    assert_eq!(s.audit_head().await.unwrap(), None);
    // The first start with a key signs their head.
    let app = open(url, key(1)).await;
    assert_eq!(app.audit_head().await.unwrap().unwrap().seq, 3);
    assert_eq!(app.verify_audit().await.unwrap().broken, None);
    record(&app, keyed).await;
    app
}

/// Replaces entry `seq` by `sql`, as an attacker without the key could.
async fn replace(app: &App, seq: i64, sql: &str) {
    tamper_audit(
        app.store(),
        &format!("DELETE FROM audit_log WHERE seq = {seq}"),
    )
    .await
    .unwrap();
    execute_as_application(app.store(), sql).await.unwrap();
}

#[tokio::test]
async fn entries_written_before_the_key_still_verify_and_are_pinned_by_the_keyed_ones() {
    for url in backend_urls("audit_legacy").await {
        let app = upgraded(&url, 1).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, v.broken.clone()), (4, None), "{v:?}");
        let log = app.store().audit_after(0, 10).await.unwrap();
        let versions: Vec<i32> = log.iter().map(|e| e.chain_version).collect();
        assert_eq!(versions, [V1, V1, V1, V2]);
        // Entries 2 and 3 rewritten consistently still chain together, but
        // the keyed entry 4 covers the old seal of 3.
        let (h2, sql2) = unkeyed(2, &log[0].hash, "réécrit");
        let (_, sql3) = unkeyed(3, &h2, "réécrit");
        replace(&app, 2, &sql2).await;
        replace(&app, 3, &sql3).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, broken_at(&v)), (3, Some(4)), "{v:?}");
    }
}

#[tokio::test]
async fn keyed_entries_cannot_be_downgraded_to_unkeyed_ones() {
    for url in backend_urls("audit_downgrade").await {
        let app = upgraded(&url, 2).await;
        let log = app.store().audit_after(0, 10).await.unwrap();
        // The last keyed entry recomputed without the key: refused after a
        // keyed one.
        let (_, sql5) = unkeyed(5, &log[3].hash, "réécrit");
        replace(&app, 5, &sql5).await;
        let v = app.verify_audit().await.unwrap();
        let (seq, why) = v.broken.clone().unwrap();
        assert_eq!(seq, 5, "{v:?}");
        assert!(why.contains("non signée"), "{why}");
        // Every keyed entry recomputed without the key: the chain holds as
        // an unkeyed one, but its end is not what the signed head names.
        let (h4, sql4) = unkeyed(4, &log[2].hash, "réécrit");
        let (_, sql5) = unkeyed(5, &h4, "réécrit");
        replace(&app, 4, &sql4).await;
        replace(&app, 5, &sql5).await;
        let v = app.verify_audit().await.unwrap();
        assert_eq!((v.entries, broken_at(&v)), (5, Some(5)), "{v:?}");
        assert_eq!(
            v.broken.unwrap().1,
            HeadBreak::Diverged { seq: 5 }.to_string()
        );
    }
}
