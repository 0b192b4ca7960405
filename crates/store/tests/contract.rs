//! The storage contract: every test runs on SQLite and on PostgreSQL and
//! must behave the same.

use domain::network::chrono_free::Date;
use domain::network::{FormationInput, MemberInput, SessionInput};
use domain::refdata::*;
use domain::{Level, MemberKind, Modality, Pathway, PublicationStatus, Sector};
use store::testing::backend_urls;
use store::{CampusInput, DatasetOutcome, RefTables, Store, StoreError, Upsert, Visibility};

async fn stores(name: &str) -> Vec<Store> {
    let mut out = Vec::new();
    for url in backend_urls(name).await {
        let s = Store::connect(&url).await.expect("connect");
        s.migrate().await.expect("migrate");
        out.push(s);
    }
    out
}

fn info(checksum: &str) -> DatasetInfo {
    DatasetInfo {
        name: "territoires".into(),
        title: "Territoires".into(),
        version: "test".into(),
        published_on: "2024-01-01".into(),
        source: "tests".into(),
        licence: "Licence Ouverte".into(),
        checksum: checksum.into(),
    }
}

async fn load_guyane(s: &Store, checksum: &str) -> DatasetOutcome {
    let regions = [Region {
        code: "03".into(),
        name: "Guyane".into(),
    }];
    let deps = [Departement {
        code: "973".into(),
        name: "Guyane".into(),
        region_code: "03".into(),
        academie_code: Some("33".into()),
    }];
    let communes = [
        Commune {
            code_insee: "97311".into(),
            name: "Saint-Laurent-du-Maroni".into(),
            departement_code: "973".into(),
            region_code: "03".into(),
            employment_area_code: Some("0303".into()),
            postcodes: vec!["97320".into()],
            latitude: Some(5.49),
            longitude: Some(-54.03),
            population: Some(54429),
        },
        Commune {
            code_insee: "97302".into(),
            name: "Cayenne".into(),
            departement_code: "973".into(),
            region_code: "03".into(),
            employment_area_code: None,
            postcodes: vec!["97300".into()],
            latitude: Some(4.93),
            longitude: Some(-52.32),
            population: Some(62675),
        },
    ];
    s.replace_dataset(
        &info(checksum),
        &RefTables::Territories {
            regions: &regions,
            academies: &[],
            departements: &deps,
            employment_areas: &[],
            communes: &communes,
        },
        &[QualityIssue {
            file: "communes.json".into(),
            line: 3,
            field: "code".into(),
            message: "test".into(),
        }],
    )
    .await
    .expect("replace")
}

async fn campus(s: &Store) -> i64 {
    let mut tx = s.begin().await.unwrap();
    let id = tx
        .upsert_campus(&CampusInput {
            slug: "demo".into(),
            name: "Campus".into(),
            sector: Sector::PersonalServices,
            theme: None,
            description: None,
            label_start: None,
            label_end: None,
            time_zone: "America/Cayenne".into(),
            website: None,
            territories: vec![("departement".into(), "973".into())],
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

fn lycee() -> MemberInput {
    MemberInput {
        name: "Lycée Bertène Juminer".into(),
        kind: MemberKind::Lycee,
        siret: None,
        uai: Some("9730235T".into()),
        code_insee: Some("97311".into()),
        address: None,
        postcode: Some("97320".into()),
        website: None,
        description: None,
        joined_on: Date::parse("2019-09-01"),
        left_on: None,
        status: PublicationStatus::Published,
        invented: false,
    }
}

fn formation(provider_id: i64) -> FormationInput {
    FormationInput {
        title: "CAP Accompagnant éducatif petite enfance".into(),
        certification_code: None,
        level: Level::new(3),
        pathway: Pathway::School,
        modality: Modality::OnSite,
        provider_id,
        site_code_insee: Some("97311".into()),
        capacity: Some(24),
        duration_hours: None,
        description: None,
        status: PublicationStatus::Published,
        rome_codes: vec![],
        external_key: Some("k1".into()),
        invented: true,
    }
}

#[tokio::test]
async fn unknown_scheme_is_refused() {
    for url in ["mysql://x", "./file.db", "file:x.db", ""] {
        assert!(matches!(
            Store::connect(url).await,
            Err(StoreError::UnknownScheme(_))
        ));
    }
}

#[tokio::test]
async fn reference_dataset_is_replaced_once_per_checksum() {
    for s in stores("refdata").await {
        assert_eq!(
            load_guyane(&s, "a").await,
            DatasetOutcome::Loaded { rows: 4 }
        );
        assert_eq!(load_guyane(&s, "a").await, DatasetOutcome::Unchanged);
        assert_eq!(
            load_guyane(&s, "b").await,
            DatasetOutcome::Loaded { rows: 4 }
        );
        let c = s.commune("97311").await.unwrap().unwrap();
        assert_eq!(c.name, "Saint-Laurent-du-Maroni");
        assert_eq!(c.postcodes, "97320");
        assert_eq!(s.communes_of("973").await.unwrap().len(), 2);
        let ds = s.datasets().await.unwrap();
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].issue_count, 1);
        assert_eq!(s.data_quality("territoires", 10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn members_upsert_by_identifier_and_report_unchanged() {
    for s in stores("members").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        let first = tx.upsert_member(campus_id, &lycee()).await.unwrap();
        assert!(matches!(first, Upsert::Created(_)));
        assert_eq!(
            tx.upsert_member(campus_id, &lycee()).await.unwrap(),
            Upsert::Unchanged(first.id())
        );
        let mut renamed = lycee();
        renamed.name = "Lycée polyvalent Bertène Juminer".into();
        renamed.uai = Some("9730235t".into());
        assert_eq!(
            tx.upsert_member(campus_id, &renamed).await.unwrap(),
            Upsert::Updated(first.id())
        );
        tx.commit().await.unwrap();
        let m = s.member(first.id()).await.unwrap().unwrap();
        assert_eq!(m.name, "Lycée polyvalent Bertène Juminer");
        assert_eq!(m.commune_name.as_deref(), Some("Saint-Laurent-du-Maroni"));
        assert_eq!(m.joined_on.as_deref(), Some("2019-09-01"));
        // Two changes were logged for the search index.
        assert_eq!(s.changes_since(0, 10).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn rollback_leaves_nothing_behind() {
    for s in stores("rollback").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        tx.upsert_member(campus_id, &lycee()).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(s.members(campus_id, false).await.unwrap().is_empty());
        assert_eq!(s.last_change().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn formations_with_sessions_are_idempotent_and_filtered() {
    for s in stores("formations").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        let provider = tx.upsert_member(campus_id, &lycee()).await.unwrap().id();
        let sessions = [SessionInput {
            starts_on: Date::parse("2027-09-01").unwrap(),
            ends_on: Date::parse("2028-06-30"),
            places: Some(24),
        }];
        let rome = [("K1303".to_owned(), true)];
        let notes = [("siret".to_owned(), "clé fausse".to_owned())];
        let f = formation(provider);
        let u = tx
            .upsert_formation(campus_id, "k1", &f, &rome, Some(&sessions), Some(&notes))
            .await
            .unwrap();
        assert!(matches!(u, Upsert::Created(_)));
        assert_eq!(
            tx.upsert_formation(campus_id, "k1", &f, &rome, Some(&sessions), Some(&notes))
                .await
                .unwrap(),
            Upsert::Unchanged(u.id())
        );
        // A spreadsheet carries no sessions: they are kept.
        assert_eq!(
            tx.upsert_formation(campus_id, "k1", &f, &rome, None, None)
                .await
                .unwrap(),
            Upsert::Unchanged(u.id())
        );
        let mut draft = formation(provider);
        draft.status = PublicationStatus::Draft;
        draft.title = "Brouillon".into();
        tx.upsert_formation(campus_id, "k2", &draft, &[], None, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(s.sessions(u.id()).await.unwrap().len(), 1);
        assert_eq!(s.formation_notes(u.id()).await.unwrap().len(), 1);
        assert_eq!(
            s.formations(campus_id, Visibility::Public, None)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.formations(campus_id, Visibility::All, None)
                .await
                .unwrap()
                .len(),
            2
        );
        let row = s.formation(u.id()).await.unwrap().unwrap();
        assert_eq!(row.provider_name, "Lycée Bertène Juminer");
        assert_eq!(row.site_name.as_deref(), Some("Saint-Laurent-du-Maroni"));
        assert_eq!(row.departement_code.as_deref(), Some("973"));
        assert!(row.invented);
        let ids = [u.id() + 1, u.id()];
        let ordered: Vec<i64> = s
            .formations_by_ids(&ids)
            .await
            .unwrap()
            .iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(ordered, ids);
    }
}

#[tokio::test]
async fn concurrent_writers_wait_instead_of_failing() {
    for s in stores("concurrency").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        let mut handles = Vec::new();
        for i in 0..8 {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                let mut m = lycee();
                m.uai = None;
                m.name = format!("Organisme {i}");
                let mut tx = s.begin().await?;
                tx.upsert_member(campus_id, &m).await?;
                tx.commit().await
            }));
        }
        for h in handles {
            h.await.unwrap().expect("concurrent write");
        }
        assert_eq!(s.members(campus_id, false).await.unwrap().len(), 8);
    }
}

#[tokio::test]
async fn accounts_grants_sessions_tokens_and_throttling() {
    use domain::accounts::Role;
    use store::GrantInput;
    for s in stores("accounts").await {
        let campus_id = campus(&s).await;
        let now = "2026-12-01T10:00:00Z";
        let manager = GrantInput {
            role: Role::CampusManager,
            campus_id: Some(campus_id),
            member_id: None,
        };
        let id = s
            .create_user(
                "camille@example.org",
                "Camille (fictive)",
                "$argon2id$hash",
                std::slice::from_ref(&manager),
                now,
            )
            .await
            .unwrap();
        // One account per address; a refused creation leaves nothing behind.
        let again = s
            .create_user("camille@example.org", "Autre", "$argon2id$x", &[], now)
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(s.users().await.unwrap().len(), 1);
        // A grant that breaks the role's shape is refused by the schema.
        let bad = s
            .create_user(
                "dominique@example.org",
                "Dominique (fictive)",
                "$argon2id$y",
                &[GrantInput {
                    role: Role::MemberEditor,
                    campus_id: Some(campus_id),
                    member_id: None,
                }],
                now,
            )
            .await;
        assert!(bad.is_err());
        assert!(
            s.user_by_email("dominique@example.org")
                .await
                .unwrap()
                .is_none(),
            "all or nothing"
        );
        let grants = s.grants(id).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].role, "campus_manager");
        assert_eq!(grants[0].campus_slug.as_deref(), Some("demo"));

        // Sessions: by hash, touched, ended; all ended with a new password.
        s.create_session(
            "h1",
            id,
            "csrf1",
            "ok",
            now,
            Some("203.0.113.0/24"),
            Some("Firefox"),
        )
        .await
        .unwrap();
        s.create_session("h2", id, "csrf2", "totp", now, None, None)
            .await
            .unwrap();
        assert_eq!(s.session("h1").await.unwrap().unwrap().csrf_token, "csrf1");
        assert_eq!(s.session("h2").await.unwrap().unwrap().stage, "totp");
        // TOTP: a time step is accepted once, and never an earlier one.
        s.set_totp(id, Some("JBSWY3DPEHPK3PXP"), true)
            .await
            .unwrap();
        assert!(s.user(id).await.unwrap().unwrap().totp_enabled);
        assert!(s.use_totp_step(id, 100).await.unwrap());
        assert!(!s.use_totp_step(id, 100).await.unwrap(), "replay");
        assert!(!s.use_totp_step(id, 99).await.unwrap());
        assert!(s.use_totp_step(id, 101).await.unwrap());
        s.touch_session("h1", "2026-12-01T10:05:00Z").await.unwrap();
        assert_eq!(s.user_sessions(id).await.unwrap()[0].id_hash, "h1");
        assert!(
            !s.delete_session("h1", id + 1).await.unwrap(),
            "not someone else's"
        );
        assert!(s.delete_session("h1", id).await.unwrap());
        s.set_password_hash(id, "$argon2id$new", now).await.unwrap();
        assert!(s.session("h2").await.unwrap().is_none());
        assert_eq!(
            s.user(id).await.unwrap().unwrap().password_hash,
            "$argon2id$new"
        );
        s.create_session("h3", id, "c", "ok", now, None, None)
            .await
            .unwrap();
        s.set_user_disabled(id, true).await.unwrap();
        assert!(
            s.session("h3").await.unwrap().is_none(),
            "disabling ends sessions"
        );
        assert!(s.user(id).await.unwrap().unwrap().disabled);

        // Tokens: found by hash until revoked.
        let t = s
            .create_token(id, "tableur", "th", false, now)
            .await
            .unwrap();
        assert!(!s.token_by_hash("th").await.unwrap().unwrap().can_write);
        assert!(s.revoke_token(id, t, now).await.unwrap());
        assert!(!s.revoke_token(id, t, now).await.unwrap(), "once");
        assert!(s.token_by_hash("th").await.unwrap().is_none());
        assert_eq!(s.tokens(id).await.unwrap().len(), 1);

        // Throttling: counts within a window, restarts after it.
        let key = "account:camille@example.org";
        for _ in 0..3 {
            s.record_failure(key, "2026-12-01T10:00:00Z", "2026-12-01T09:45:00Z")
                .await
                .unwrap();
        }
        assert_eq!(
            s.throttle_failures(key, "2026-12-01T09:45:00Z")
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            s.throttle_failures(key, "2026-12-01T10:30:00Z")
                .await
                .unwrap(),
            0
        );
        s.record_failure(key, "2026-12-01T10:31:00Z", "2026-12-01T10:16:00Z")
            .await
            .unwrap();
        assert_eq!(
            s.throttle_failures(key, "2026-12-01T10:16:00Z")
                .await
                .unwrap(),
            1,
            "new window"
        );
        s.clear_failures(key).await.unwrap();
        assert_eq!(
            s.throttle_failures(key, "2000-01-01T00:00:00Z")
                .await
                .unwrap(),
            0
        );
    }
}

fn posting(id: &str, rome: &str, month: &str, skills: &[i64]) -> domain::postings::Posting {
    domain::postings::Posting {
        id: id.into(),
        origin: Some("1".into()),
        code_rome: Some(rome.into()),
        title: "Aide-soignant".into(),
        code_insee: Some("97311".into()),
        postcode: None,
        month: month.into(),
        contract: Some("CDI".into()),
        positions: 2,
        skills: skills.to_vec(),
        synthetic: true,
        content_hash: format!("h{id}"),
        fingerprint: format!("f{id}"),
    }
}

#[tokio::test]
async fn observatory_tension_values_postings_and_aggregates() {
    use domain::tension::TensionValue;
    for s in stores("observatory").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        // Perimeter: the communes of the campus' département.
        let perimeter = s.perimeter_communes(campus_id).await.unwrap();
        assert_eq!(perimeter.len(), 2);
        s.replace_basin_communes(&[
            ("97311".into(), "0303".into()),
            ("97302".into(), "0301".into()),
        ])
        .await
        .unwrap();
        let codes: Vec<String> = perimeter.iter().map(|c| c.code_insee.clone()).collect();
        assert_eq!(s.basins_of(&codes).await.unwrap(), ["0301", "0303"]);
        s.replace_fap_romes(&[
            ("J0Z20".into(), "J1501".into()),
            ("J0Z20".into(), "J1502".into()),
        ])
        .await
        .unwrap();
        assert_eq!(s.fap_romes().await.unwrap()["J0Z20"], ["J1501", "J1502"]);

        let value = |code: &str, ind: &str, value: Option<f64>, level: Option<i64>| TensionValue {
            code_rome: "J1501".into(),
            territory_type: "bassin".into(),
            territory_code: code.into(),
            period: "2021".into(),
            indicator: ind.into(),
            value,
            level,
        };
        let rows = [
            value("0303", "TENSION", None, Some(5)),
            value("0303", "OFFRES", Some(16.5), None),
            value("9999", "TENSION", None, Some(1)),
        ];
        s.replace_tension_source("m.csv", "indicateurs", "m.csv", "x", &rows)
            .await
            .unwrap();
        // Replaced as a whole.
        s.replace_tension_source("m.csv", "indicateurs", "m.csv", "y", &rows[..2])
            .await
            .unwrap();
        assert_eq!(
            s.tension_source_checksum("m.csv").await.unwrap().as_deref(),
            Some("y")
        );
        let got = s
            .tension_values_in(&[
                ("bassin".into(), "0303".into()),
                ("bassin".into(), "9999".into()),
            ])
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .any(|v| v.indicator == "OFFRES" && v.value == Some(16.5)));
        assert_eq!(s.tension_sources().await.unwrap()[0].row_count, 2);

        // Postings: upsert by id, duplicates and postings without a ROME
        // code left out of the aggregates.
        let a = posting("A", "J1501", "2026-03", &[10, 20]);
        // The same offer as A under another id: a duplicate.
        let mut b = posting("B", "J1501", "2026-03", &[20]);
        b.fingerprint = a.fingerprint.clone();
        let mut c = posting("C", "J1501", "2026-04", &[20]);
        c.code_rome = None;
        import_postings(&s, vec![vec![&a, &b, &c]], true).await;
        let demand = s.posting_demand_in(&["0303".into()], &[]).await.unwrap();
        assert_eq!(demand.len(), 1);
        assert_eq!(
            (demand[0].postings, demand[0].positions, demand[0].synthetic),
            (1, 2, 1)
        );
        let skills = s.skill_demand_in(&["973".into()]).await.unwrap();
        assert_eq!(
            skills
                .iter()
                .map(|r| (r.code_ogr, r.postings))
                .collect::<Vec<_>>(),
            [(10, 1), (20, 1)]
        );
        let keys = s.posting_keys().await.unwrap();
        assert_eq!(keys["B"].duplicate_of.as_deref(), Some("A"));
        // B stops being a duplicate: counted again.
        b.fingerprint = "autre".into();
        b.content_hash = "hB2".into();
        import_postings(&s, vec![vec![&b]], true).await;
        let demand = s.posting_demand_in(&[], &["973".into()]).await.unwrap();
        assert_eq!(demand[0].postings, 2);
        let totals = s.posting_totals().await.unwrap();
        assert_eq!(
            (totals.postings, totals.duplicates, totals.synthetic),
            (3, 0, 3)
        );
    }
}

fn audit_entry(action: &str) -> store::AuditInput {
    store::AuditInput {
        at: "2026-12-01T10:00:00Z".into(),
        actor_label: Some("camille@example.org".into()),
        action: action.into(),
        salt: "sel".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn audit_log_is_append_only_and_its_signed_head_follows_every_append() {
    use domain::audit::{head_signed, AuditKey, GENESIS, V2};
    use store::testing::{execute_as_application, tamper_audit};
    let key = AuditKey::from_bytes([7; AuditKey::LEN]);
    for s in stores("audit").await {
        // A new log gets a signed head naming no entry, once.
        assert!(s.seal_audit_head(&key).await.unwrap());
        assert!(!s.seal_audit_head(&key).await.unwrap());
        let head = s.audit_head().await.unwrap().unwrap();
        assert_eq!((head.seq, head.hash.as_str()), (0, GENESIS));
        assert!(head_signed(&key, &head.as_head()));
        for seq in 1..=3 {
            assert_eq!(s.append_audit(&audit_entry("a"), &key).await.unwrap(), seq);
        }
        // The head moves in the append's transaction: a rollback leaves both.
        let mut tx = s.begin().await.unwrap();
        tx.append_audit(&audit_entry("b"), &key).await.unwrap();
        tx.rollback().await.unwrap();
        let head = s.audit_head().await.unwrap().unwrap();
        let last = s.audit_last().await.unwrap().unwrap();
        assert_eq!((head.seq, &head.hash), (3, &last.hash));
        assert_eq!(last.chain_version, V2);
        assert!(head_signed(&key, &head.as_head()));

        // The application can neither rewrite, delete nor truncate entries,
        // nor move the head back or remove it. SQLite has no TRUNCATE; its
        // DELETE without WHERE fires the row triggers.
        let mut refused = vec![
            "UPDATE audit_log SET action = 'x' WHERE seq = 1",
            "UPDATE audit_log SET chain_version = 1 WHERE seq = 3",
            "DELETE FROM audit_log WHERE seq = 3",
            "DELETE FROM audit_log",
            "UPDATE audit_head SET seq = 2",
            "UPDATE audit_head SET seq = seq",
            "DELETE FROM audit_head",
        ];
        if s.backend() == store::Backend::Postgres {
            refused.extend(["TRUNCATE audit_log", "TRUNCATE audit_head"]);
        }
        for sql in refused {
            let res = execute_as_application(&s, sql).await;
            assert!(res.is_err(), "{sql} must be refused");
        }
        assert_eq!(s.audit_after(0, 10).await.unwrap().len(), 3);
        assert_eq!(s.audit_head().await.unwrap().as_ref(), Some(&head));
        // Clearing the personal fields is the one change allowed.
        assert_eq!(s.purge_audit_personal_before("2027").await.unwrap(), 3);

        // An attacker without the key removes the last entry (triggers out
        // of the way): the head still names it, and the next append takes
        // the number after the head, so the gap stays instead of being
        // covered by a new signature.
        tamper_audit(&s, "DELETE FROM audit_log WHERE seq = 3")
            .await
            .unwrap();
        assert_eq!(s.append_audit(&audit_entry("c"), &key).await.unwrap(), 4);
        let rows = s.audit_after(0, 10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(rows[2].prev_hash, head.hash);
        // The triggers are back.
        let res = execute_as_application(&s, "DELETE FROM audit_log WHERE seq = 4").await;
        assert!(res.is_err());
        // A log with keyed entries whose head was removed is never resealed,
        // and appends leave it missing.
        tamper_audit(&s, "DELETE FROM audit_head").await.unwrap();
        assert!(!s.seal_audit_head(&key).await.unwrap());
        assert_eq!(s.append_audit(&audit_entry("d"), &key).await.unwrap(), 5);
        assert_eq!(s.audit_head().await.unwrap(), None);
    }
}

/// Formations of a bulk import: `n` rows on one provider, keys `b0000…`.
fn bulk_formations(provider: i64, n: usize) -> Vec<FormationInput> {
    (0..n)
        .map(|i| FormationInput {
            title: format!("Formation {i}"),
            external_key: Some(format!("b{i:05}")),
            capacity: Some(i as i64 % 30),
            ..formation(provider)
        })
        .collect()
}

fn writes(inputs: &[FormationInput]) -> Vec<store::FormationWrite<'_>> {
    inputs
        .iter()
        .map(|f| store::FormationWrite {
            key: f.external_key.clone().unwrap(),
            input: f,
            rome: vec![("K1303".into(), true), ("K1302".into(), true)],
            sessions: None,
            notes: None,
        })
        .collect()
}

#[tokio::test]
async fn bulk_formations_are_all_or_nothing_and_idempotent() {
    // More rows than one chunk of the bulk upsert (1,000).
    const N: usize = 2_500;
    for s in stores("bulk_formations").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        let provider = tx.upsert_member(campus_id, &lycee()).await.unwrap().id();
        tx.commit().await.unwrap();
        let before = s.last_change().await.unwrap();
        let inputs = bulk_formations(provider, N);

        // Rolled back: nothing stays, not even the change log.
        let mut tx = s.begin().await.unwrap();
        let out = tx
            .upsert_formations(campus_id, &writes(&inputs))
            .await
            .unwrap();
        assert!(out.iter().all(|u| matches!(u, Upsert::Created(_))));
        tx.rollback().await.unwrap();
        let all = s
            .formations(campus_id, Visibility::All, None)
            .await
            .unwrap();
        assert!(all.is_empty());
        assert_eq!(s.last_change().await.unwrap(), before);

        // Stored as a whole, one change-log entry per row, ids in order.
        let mut tx = s.begin().await.unwrap();
        let out = tx
            .upsert_formations(campus_id, &writes(&inputs))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(out.len(), N);
        let all = s
            .formations(campus_id, Visibility::All, None)
            .await
            .unwrap();
        assert_eq!(all.len(), N);
        assert_eq!(
            s.changes_since(before, 10 * N as i64).await.unwrap().len(),
            N
        );
        for (u, f) in out.iter().zip(&inputs).step_by(499) {
            let row = s.formation(u.id()).await.unwrap().unwrap();
            assert_eq!(Some(row.external_key), f.external_key);
            assert_eq!(row.capacity, f.capacity);
            let romes: Vec<String> = s
                .formation_romes(u.id())
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.code_rome)
                .collect();
            assert_eq!(romes, ["K1302", "K1303"]);
        }

        // The same rows again: all unchanged, nothing written.
        let last = s.last_change().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        let again = tx
            .upsert_formations(campus_id, &writes(&inputs))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(again
            .iter()
            .zip(&out)
            .all(|(a, o)| *a == Upsert::Unchanged(o.id())));
        assert_eq!(s.last_change().await.unwrap(), last);

        // One row changed, one new, and a key repeated in the input: the
        // second row sees the first, as with one upsert per row.
        let mut next = inputs.clone();
        next[1_700].title = "Nouvel intitulé".into();
        let mut extra = bulk_formations(provider, N + 1).pop().unwrap();
        next.push(extra.clone());
        extra.title = "Répétée".into();
        next.push(extra);
        let mut tx = s.begin().await.unwrap();
        let third = tx
            .upsert_formations(campus_id, &writes(&next))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(third[1_700], Upsert::Updated(out[1_700].id()));
        let Upsert::Created(new_id) = third[N] else {
            panic!("{:?}", third[N])
        };
        assert_eq!(third[N + 1], Upsert::Updated(new_id));
        assert_eq!(
            third
                .iter()
                .filter(|u| matches!(u, Upsert::Unchanged(_)))
                .count(),
            N - 1
        );
        assert_eq!(s.formation(new_id).await.unwrap().unwrap().title, "Répétée");
        assert_eq!(s.last_change().await.unwrap(), last + 3);
    }
}

#[tokio::test]
async fn bulk_members_by_siret_uai_and_name_match_one_upsert_per_row() {
    const N: usize = 2_100;
    for s in stores("bulk_members").await {
        load_guyane(&s, "a").await;
        let campus_id = campus(&s).await;
        // Keyed by name only (no SIRET, no UAI), the slowest look-up.
        let members: Vec<MemberInput> = (0..N)
            .map(|i| MemberInput {
                name: format!("Organisme {i:05}"),
                uai: None,
                ..lycee()
            })
            .collect();
        let mut tx = s.begin().await.unwrap();
        let out = tx.upsert_members(campus_id, &members).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(out.iter().all(|u| matches!(u, Upsert::Created(_))));
        assert!(s.members(campus_id, false).await.unwrap().is_empty());

        let mut tx = s.begin().await.unwrap();
        let out = tx.upsert_members(campus_id, &members).await.unwrap();
        tx.commit().await.unwrap();
        let stored = s.members(campus_id, false).await.unwrap();
        assert_eq!(stored.len(), N);
        for (u, m) in out.iter().zip(&members).step_by(300) {
            assert_eq!(s.member(u.id()).await.unwrap().unwrap().name, m.name);
        }
        // Counted, not compared by sequence: PostgreSQL's sequence does not
        // go back on a rollback.
        let changes = || async { s.changes_since(0, 100_000).await.unwrap().len() };
        assert_eq!(changes().await, N);

        // Again: unchanged. Then a name repeated in the input (updates the
        // first), a UAI given to a name-keyed member found by name, and a
        // new member with a SIRET.
        let mut tx = s.begin().await.unwrap();
        let again = tx.upsert_members(campus_id, &members).await.unwrap();
        assert!(again
            .iter()
            .zip(&out)
            .all(|(a, o)| *a == Upsert::Unchanged(o.id())));
        let mut next = vec![members[5].clone(), members[5].clone()];
        next[1].address = Some("1 rue du Port".into());
        next.push(MemberInput {
            siret: Some("35600000000048".into()),
            ..members[7].clone()
        });
        let third = tx.upsert_members(campus_id, &next).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(third[0], Upsert::Unchanged(out[5].id()));
        assert_eq!(third[1], Upsert::Updated(out[5].id()));
        // A SIRET not known: a new member, even with a known name.
        assert!(matches!(third[2], Upsert::Created(_)));
        assert_eq!(changes().await, N + 2);
    }
}

/// A streamed postings import of `batches`, committed or rolled back.
async fn import_postings(
    s: &Store,
    batches: Vec<Vec<&domain::postings::Posting>>,
    commit: bool,
) -> store::PostingImportCounts {
    let mut tx = s.begin().await.unwrap();
    tx.begin_postings_import().await.unwrap();
    let mut written = 0;
    for batch in batches {
        let rows: Vec<_> = batch
            .into_iter()
            .map(|p| store::PostingWrite {
                posting: p,
                code_insee: Some("97311"),
                employment_area_code: "0303",
                departement_code: "973",
                duplicate_of: None,
            })
            .collect();
        written += tx
            .stage_postings(&rows)
            .await
            .unwrap()
            .into_iter()
            .filter(|w| *w)
            .count() as u64;
    }
    let counts = tx.finish_postings_import(written).await.unwrap();
    if counts.rows_written > 0 {
        tx.refresh_posting_aggregates().await.unwrap();
    }
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    counts
}

#[tokio::test]
async fn streamed_postings_import_counts_and_deduplicates_over_the_whole_file() {
    for s in stores("postings_stream").await {
        load_guyane(&s, "a").await;
        let a = posting("A", "J1501", "2026-03", &[10]);
        // Same offer as A under another id, in a later batch.
        let mut b = posting("B", "J1501", "2026-03", &[10]);
        b.fingerprint = a.fingerprint.clone();
        let c = posting("C", "J1501", "2026-04", &[20]);
        let mut c2 = c.clone();
        c2.positions = 5;
        c2.content_hash = "hC2".into();
        // C repeated across batches: the last one wins, counted once.
        let counts = import_postings(&s, vec![vec![&c, &a], vec![&b, &c2]], false).await;
        assert_eq!((counts.new, counts.updated, counts.unchanged), (3, 0, 0));
        assert_eq!(s.posting_totals().await.unwrap().postings, 0, "rolled back");
        let counts = import_postings(&s, vec![vec![&c, &a], vec![&b, &c2]], true).await;
        assert_eq!(
            (
                counts.new,
                counts.updated,
                counts.unchanged,
                counts.duplicates
            ),
            (3, 0, 0, 1)
        );
        let keys = s.posting_keys().await.unwrap();
        assert_eq!(keys["B"].duplicate_of.as_deref(), Some("A"));
        assert_eq!(keys["A"].duplicate_of, None);
        assert_eq!(keys["C"].content_hash, "hC2");
        let demand = s.posting_demand_in(&["0303".into()], &[]).await.unwrap();
        assert_eq!(demand.iter().map(|d| d.postings).sum::<i64>(), 2);
        assert_eq!(demand.iter().map(|d| d.positions).sum::<i64>(), 2 + 5);

        // The same postings again: nothing written. (A file that repeats an
        // id with two contents rewrites it on every import: each batch is
        // written as it comes, the last one winning.)
        let counts = import_postings(&s, vec![vec![&a], vec![&b, &c2]], true).await;
        assert_eq!(
            (
                counts.new,
                counts.updated,
                counts.unchanged,
                counts.rows_written
            ),
            (0, 0, 3, 0)
        );
        // A file with only B: A, stored, still holds the fingerprint.
        let counts = import_postings(&s, vec![vec![&b]], true).await;
        assert_eq!((counts.unchanged, counts.duplicates), (1, 1));
        // A file where A gets another fingerprint: B becomes the holder
        // (a stored posting not in the file is re-linked).
        let mut a2 = a.clone();
        a2.fingerprint = "other".into();
        a2.content_hash = "hA2".into();
        let counts = import_postings(&s, vec![vec![&a2]], true).await;
        assert_eq!((counts.updated, counts.duplicates), (1, 0));
        assert_eq!(s.posting_keys().await.unwrap()["B"].duplicate_of, None);
        assert_eq!(s.posting_totals().await.unwrap().duplicates, 0);
    }
}

/// The migration twins (`migrations/sqlite` and `migrations/postgres`)
/// leave the same tables with the same columns: a column added to one
/// backend only would make the SQL written once fail on the other.
#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let stores = stores("schema").await;
    let mut schemas = Vec::new();
    for s in &stores {
        schemas.push(store::testing::schema_columns(s).await.unwrap());
    }
    assert!(
        schemas[0].len() > 40,
        "SQLite schema read: {:?}",
        schemas[0].keys()
    );
    if let [sqlite, postgres] = &schemas[..] {
        let only = |a: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
                    b: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>| {
            let mut out = Vec::new();
            for (table, cols) in a {
                match b.get(table) {
                    None => out.push(table.clone()),
                    Some(other) => out.extend(
                        cols.difference(other).map(|c| format!("{table}.{c}")),
                    ),
                }
            }
            out
        };
        assert_eq!(
            only(sqlite, postgres),
            Vec::<String>::new(),
            "only on SQLite"
        );
        assert_eq!(
            only(postgres, sqlite),
            Vec::<String>::new(),
            "only on PostgreSQL"
        );
    }
}

#[tokio::test]
async fn survey_campaigns_answers_and_sector_domains() {
    for s in stores("survey").await {
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        let member = tx.upsert_member(campus_id, &lycee()).await.unwrap().id();
        tx.commit().await.unwrap();
        let older = s
            .create_campaign(campus_id, "Besoins 2026", "2025-11-01", "2026-01-31")
            .await
            .unwrap();
        let id = s
            .create_campaign(campus_id, "Besoins 2027", "2026-11-01", "2027-01-31")
            .await
            .unwrap();
        let listed = s.campaigns(campus_id).await.unwrap();
        assert_eq!(
            listed.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![id, older],
            "latest opening first"
        );
        assert_eq!(listed[0].respondents, 0);
        assert!(s.campaigns(campus_id + 1000).await.unwrap().is_empty());

        let mut answer = domain::survey::AnswerInput {
            code_rome: "J1501".into(),
            code_insee: None,
            planned: 3,
            difficult: 1,
            seasonal: 0,
            apprentices: 1,
            tutors: 1,
            comment: Some("Réponse fictive.".into()),
        };
        s.save_answer(id, member, &answer).await.unwrap();
        // The same member and métier again: the answer is replaced.
        answer.planned = 5;
        s.save_answer(id, member, &answer).await.unwrap();
        answer.code_rome = "K1302".into();
        s.save_answer(id, member, &answer).await.unwrap();
        let all = s.answers(id, None).await.unwrap();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!((all[0].code_rome.as_str(), all[0].planned), ("J1501", 5));
        assert_eq!(all[0].member_name, lycee().name);
        assert_eq!(s.answers(id, Some(member)).await.unwrap().len(), 2);
        assert!(s.answers(id, Some(member + 1000)).await.unwrap().is_empty());
        assert!(s.answers(older, None).await.unwrap().is_empty());
        let c = s.campaign(id).await.unwrap().unwrap();
        assert_eq!((c.title.as_str(), c.respondents), ("Besoins 2027", 1));
        assert!(s.campaign(id + 1000).await.unwrap().is_none());

        // The campus' own sector → ROME domains replace each other.
        assert!(s.campus_rome_domains(campus_id).await.unwrap().is_empty());
        let domains = ["K13".to_owned(), "J".to_owned()];
        s.set_campus_rome_domains(campus_id, &domains)
            .await
            .unwrap();
        assert_eq!(
            s.campus_rome_domains(campus_id).await.unwrap(),
            vec!["J".to_owned(), "K13".to_owned()]
        );
        s.set_campus_rome_domains(campus_id, &[]).await.unwrap();
        assert!(s.campus_rome_domains(campus_id).await.unwrap().is_empty());
        assert!(!s.rome_domain_exists("ZZ9").await.unwrap());
    }
}

#[tokio::test]
async fn mail_outbox_links_invitations_join_requests_and_legal_pages() {
    for s in stores("mail").await {
        let campus_id = campus(&s).await;
        let mut tx = s.begin().await.unwrap();
        let member = tx.upsert_member(campus_id, &lycee()).await.unwrap().id();
        tx.commit().await.unwrap();
        let user = s
            .create_user(
                "alix@example.org",
                "Alix (fictive)",
                "$argon2id$x",
                &[],
                "2026-01-01T00:00:00Z",
            )
            .await
            .unwrap();
        let now = "2026-01-02T10:00:00Z";
        let later = "2026-01-03T10:00:00Z";

        // The outbox: queued mail waits until marked sent, newest first in
        // the operator's view, oldest first for the sender.
        let mut tx = s.begin().await.unwrap();
        let first = tx
            .queue_mail("a@example.org", "Un", "corps", now)
            .await
            .unwrap();
        let second = tx
            .queue_mail("b@example.org", "Deux", "corps", now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let unsent: Vec<i64> = s
            .unsent_mail(10)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(unsent, vec![first, second]);
        s.mark_mail_sent(first, later).await.unwrap();
        let unsent: Vec<i64> = s
            .unsent_mail(10)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(unsent, vec![second]);
        let outbox = s.outbox(10).await.unwrap();
        assert_eq!(outbox[0].id, second);
        assert_eq!(outbox[1].sent_at.as_deref(), Some(later));

        // A reset link works once, and not after it expires.
        let mut tx = s.begin().await.unwrap();
        tx.add_password_reset("h1", user, now, later).await.unwrap();
        tx.add_password_reset("h2", user, now, later).await.unwrap();
        assert_eq!(tx.use_password_reset("h1", now).await.unwrap(), Some(user));
        assert_eq!(
            tx.use_password_reset("h1", now).await.unwrap(),
            None,
            "used"
        );
        let expired = "2026-01-04T00:00:00Z";
        assert_eq!(tx.use_password_reset("h2", expired).await.unwrap(), None);
        assert_eq!(tx.use_password_reset("inconnu", now).await.unwrap(), None);
        tx.commit().await.unwrap();

        // An invitation is accepted once, before it expires.
        let mut tx = s.begin().await.unwrap();
        tx.add_invitation(
            "i1",
            campus_id,
            member,
            "b@example.org",
            Some(user),
            now,
            later,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let pending = s.invitation("i1").await.unwrap().unwrap();
        assert_eq!((pending.member_id, pending.accepted_at), (member, None));
        let mut tx = s.begin().await.unwrap();
        assert!(tx.accept_invitation("i1", expired).await.unwrap().is_none());
        let accepted = tx.accept_invitation("i1", now).await.unwrap().unwrap();
        assert_eq!(accepted.email, "b@example.org");
        assert!(tx.accept_invitation("i1", now).await.unwrap().is_none());
        tx.commit().await.unwrap();
        assert!(s.invitation("inconnu").await.unwrap().is_none());

        // A join request is decided once; its contact address goes with
        // the decision; pending requests are listed first.
        let request = |name: &str| store::JoinRequestInput {
            name: name.into(),
            kind: "employeur".into(),
            contact_email: "contact@example.org".into(),
            ..Default::default()
        };
        let mut tx = s.begin().await.unwrap();
        let decided = tx
            .add_join_request(campus_id, &request("Atelier (fictif)"), now)
            .await
            .unwrap();
        let waiting = tx
            .add_join_request(campus_id, &request("Garage (fictif)"), now)
            .await
            .unwrap();
        assert!(tx
            .decide_join_request(decided, "acceptee", Some(member), later)
            .await
            .unwrap());
        assert!(!tx
            .decide_join_request(decided, "refusee", None, later)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        let listed = s.join_requests(campus_id).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![waiting, decided]
        );
        let d = s.join_request(decided).await.unwrap().unwrap();
        assert_eq!(
            (d.decision.as_deref(), d.member_id, d.contact_email),
            (Some("acceptee"), Some(member), None)
        );
        assert!(s.join_requests(campus_id + 1000).await.unwrap().is_empty());

        // Legal pages: absent until written, then replaced.
        assert!(s.legal_page("mentions-legales").await.unwrap().is_none());
        let mut tx = s.begin().await.unwrap();
        tx.set_legal_page("mentions-legales", "v1", now)
            .await
            .unwrap();
        tx.set_legal_page("mentions-legales", "v2", later)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.legal_page("mentions-legales").await.unwrap().as_deref(),
            Some("v2")
        );
    }
}

#[tokio::test]
async fn privacy_profiles_consents_requests_erasure_and_job_locks() {
    use domain::accounts::Role;
    use store::{ConsentInput, GrantInput, ProfileRow};
    for s in stores("privacy").await {
        let campus_id = campus(&s).await;
        let created = "2026-01-01T00:00:00Z";
        let now = "2026-06-01T10:00:00Z";
        let learner = s
            .create_user(
                "lou@example.org",
                "Lou (fictif)",
                "$argon2id$x",
                &[GrantInput {
                    role: Role::Learner,
                    campus_id: Some(campus_id),
                    member_id: None,
                }],
                created,
            )
            .await
            .unwrap();

        // A profile is created, then replaced whole.
        let mut profile = ProfileRow {
            user_id: learner,
            campus_id,
            status: "lyceen".into(),
            level: Some(4),
            code_insee: Some("97311".into()),
            interests: Some("soins".into()),
            birth_date: None,
            updated_at: now.into(),
        };
        let mut tx = s.begin().await.unwrap();
        tx.save_profile(&profile).await.unwrap();
        profile.level = Some(5);
        tx.save_profile(&profile).await.unwrap();
        tx.add_consent(
            learner,
            &ConsentInput {
                purpose: "suivi".into(),
                parent_name: Some("Parent (fictif)".into()),
                parent_email: Some("parent@example.org".into()),
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(s.profile(learner).await.unwrap(), Some(profile.clone()));
        let consents = s.consents(learner).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert_eq!(consents[0].parent_given_at.as_deref(), Some(now));
        assert_eq!(s.withdraw_consent(learner, "suivi", now).await.unwrap(), 1);
        assert_eq!(
            s.withdraw_consent(learner, "suivi", now).await.unwrap(),
            0,
            "once"
        );

        // The register lists open requests first, by due date.
        let mut tx = s.begin().await.unwrap();
        let done = tx
            .add_privacy_request(
                Some(learner),
                "acces",
                now,
                "2026-07-01",
                Some(now),
                "en ligne",
            )
            .await
            .unwrap();
        let late = tx
            .add_privacy_request(None, "effacement", now, "2026-06-15", None, "courrier")
            .await
            .unwrap();
        let open = tx
            .add_privacy_request(
                Some(learner),
                "rectification",
                now,
                "2026-06-20",
                None,
                "en ligne",
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let ids: Vec<i64> = s
            .privacy_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec![late, open, done]);

        // Retention: a learner without activity since the date is a
        // candidate; erasure keeps the row, anonymised, without its grants.
        assert_eq!(s.inactive_learners(now).await.unwrap(), vec![learner]);
        assert!(s.inactive_learners(created).await.unwrap().is_empty());
        let mut tx = s.begin().await.unwrap();
        tx.erase_account(learner).await.unwrap();
        tx.commit().await.unwrap();
        assert!(s.profile(learner).await.unwrap().is_none());
        assert!(s.consents(learner).await.unwrap()[0].parent_email.is_none());
        assert!(s.user_by_email("lou@example.org").await.unwrap().is_none());
        assert!(
            s.inactive_learners(now).await.unwrap().is_empty(),
            "disabled"
        );

        // A job lock is held by one server until it expires or is released.
        let until = "2026-06-01T11:00:00Z";
        assert!(s.try_lock_job("purge", now, until).await.unwrap());
        assert!(!s.try_lock_job("purge", now, until).await.unwrap());
        s.finish_job("purge", "2026-06-01T10:05:00Z").await.unwrap();
        assert!(s
            .try_lock_job("purge", "2026-06-01T10:06:00Z", until)
            .await
            .unwrap());
        assert!(
            s.try_lock_job("purge", "2026-06-01T12:00:00Z", "2026-06-01T13:00:00Z")
                .await
                .unwrap(),
            "an expired lock is taken over"
        );
    }
}

#[tokio::test]
async fn campuses_members_contacts_and_public_counts() {
    for s in stores("network").await {
        let campus_id = campus(&s).await;
        assert!(s.campus_by_slug("ailleurs").await.unwrap().is_none());
        let c = s.campus_by_slug("demo").await.unwrap().unwrap();
        assert_eq!((c.id, c.support_member_id), (campus_id, None));
        assert_eq!(s.campuses().await.unwrap().len(), 1);
        let territories = s.campus_territories(campus_id).await.unwrap();
        assert_eq!(territories.len(), 1);
        assert_eq!(
            (territories[0].0.as_str(), territories[0].1.as_str()),
            ("departement", "973")
        );

        let mut tx = s.begin().await.unwrap();
        let school = tx.upsert_member(campus_id, &lycee()).await.unwrap().id();
        let mut draft = lycee();
        draft.name = "Atelier brouillon (fictif)".into();
        draft.uai = None;
        draft.status = PublicationStatus::Draft;
        let hidden = tx.upsert_member(campus_id, &draft).await.unwrap().id();
        let mut outside = lycee();
        outside.name = "Organisme extérieur (fictif)".into();
        outside.uai = None;
        outside.kind = MemberKind::Outside;
        let outside_id = tx.upsert_member(campus_id, &outside).await.unwrap().id();
        assert_eq!(
            tx.existing_member(campus_id, &lycee()).await.unwrap(),
            Some(school),
            "found by its UAI"
        );
        tx.set_support_member(campus_id, school).await.unwrap();
        tx.replace_contacts(
            school,
            &[store::ContactInput {
                name: "Contact fictif".into(),
                role: Some("Proviseur".into()),
                email: Some("contact.fictif@example.org".into()),
                phone: None,
                invented: true,
            }],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        // Only published members that joined the campus are public.
        assert_eq!(s.campus_counts(campus_id).await.unwrap(), (1, 0));
        let public: Vec<i64> = s
            .members(campus_id, true)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(public, vec![school]);
        assert_eq!(s.members(campus_id, false).await.unwrap().len(), 3);
        assert_eq!(s.all_members().await.unwrap().len(), 3);
        let by_ids = s
            .members_by_ids(&[outside_id, hidden, 999_999])
            .await
            .unwrap();
        assert_eq!(
            by_ids.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![outside_id, hidden]
        );
        assert_eq!(
            s.campus_by_slug("demo")
                .await
                .unwrap()
                .unwrap()
                .support_member_id,
            Some(school)
        );
        assert_eq!(
            s.member_in_campus(school, campus_id).await.unwrap().id,
            school
        );
        assert!(matches!(
            s.member_in_campus(school, campus_id + 1000).await,
            Err(StoreError::NotFound(_))
        ));

        // Contacts are replaced as a whole.
        let contacts = s.contacts(school).await.unwrap();
        assert_eq!(contacts.len(), 1);
        assert_eq!(
            contacts[0].email.as_deref(),
            Some("contact.fictif@example.org")
        );
        let mut tx = s.begin().await.unwrap();
        tx.replace_contacts(school, &[]).await.unwrap();
        // Updating a member by id reports what changed.
        let mut renamed = lycee();
        renamed.description = Some("Lycée des métiers (fictif)".into());
        assert_eq!(
            tx.update_member(school, &renamed).await.unwrap(),
            Upsert::Updated(school)
        );
        assert_eq!(
            tx.update_member(school, &renamed).await.unwrap(),
            Upsert::Unchanged(school)
        );
        tx.commit().await.unwrap();
        assert!(s.contacts(school).await.unwrap().is_empty());
    }
}

fn outcome(millesime: &str, cfd: &str, voie: &str, leavers: i64) -> store::OutcomeRow {
    store::OutcomeRow {
        millesime: millesime.into(),
        region_code: "03".into(),
        voie: voie.into(),
        formation_key: format!("{cfd}-{voie}"),
        cfd: Some(cfd.into()),
        mefstat11: None,
        label: Some("CAP fictif".into()),
        rncp_level: Some(3),
        final_year: Some(20),
        leavers: Some(leavers),
        employed_6m: Some(10),
        employed_12m: Some(12),
        further_study: Some(5),
        rate_employed_6m: Some(50.0),
        rate_employed_12m: Some(60.0),
        rate_further_study: Some(25.0),
        rate_favourable: Some(85.0),
        quadrant: Some("haut-droite".into()),
    }
}

#[tokio::test]
async fn outcomes_and_bcn_tables_are_replaced_per_source() {
    for s in stores("outcomes").await {
        // BCN: each table replaced when given; a formation's RNCP level
        // follows its level code.
        let formations = [(
            "50025001".to_owned(),
            "CAP accompagnant educatif petite enfance".to_owned(),
            "CAP AEPE".to_owned(),
            "500".to_owned(),
        )];
        s.replace_bcn("bcn-f", "c1", &formations, &[], &[])
            .await
            .unwrap();
        s.replace_bcn("bcn-l", "c2", &[], &[("500".to_owned(), Some(3))], &[])
            .await
            .unwrap();
        s.replace_bcn(
            "bcn-m",
            "c3",
            &[],
            &[],
            &[("24733100001".to_owned(), "50025001".to_owned())],
        )
        .await
        .unwrap();
        let (mefs, by_cfd) = s.bcn_maps().await.unwrap();
        assert_eq!(mefs["24733100001"], "50025001");
        assert_eq!(by_cfd["50025001"].rncp_level, Some(3));
        assert_eq!(
            s.outcome_source_checksum("bcn-l").await.unwrap().as_deref(),
            Some("c2")
        );
        assert!(s
            .outcome_source_checksum("inconnu")
            .await
            .unwrap()
            .is_none());

        // Région outcomes: a file replaces the millésimes it holds, others
        // stay; reads take the latest millésime first.
        s.replace_region_outcomes(
            "ij-a",
            "a1",
            &[
                outcome("2021_2022", "50025001", "scolaire", 20),
                outcome("2021_2022", "50025001", "apprentissage", 8),
            ],
        )
        .await
        .unwrap();
        s.replace_region_outcomes(
            "ij-b",
            "b1",
            &[outcome("2022_2023", "50025001", "scolaire", 22)],
        )
        .await
        .unwrap();
        s.replace_region_outcomes(
            "ij-a",
            "a2",
            &[outcome("2021_2022", "50025001", "scolaire", 21)],
        )
        .await
        .unwrap();
        let rows = s
            .outcomes_for(&["50025001".to_owned()], "03")
            .await
            .unwrap();
        let seen: Vec<(&str, &str, Option<i64>)> = rows
            .iter()
            .map(|r| (r.millesime.as_str(), r.voie.as_str(), r.leavers))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("2022_2023", "scolaire", Some(22)),
                ("2021_2022", "scolaire", Some(21)),
            ]
        );
        assert!(s
            .outcomes_for(&["50025001".to_owned()], "01")
            .await
            .unwrap()
            .is_empty());
        assert!(s.outcomes_for(&[], "03").await.unwrap().is_empty());

        // Establishment outcomes by UAI.
        let est = store::EstablishmentOutcomeRow {
            millesime: "2022_2023".into(),
            uai: "9730235T".into(),
            voie: "pro".into(),
            subset: "ensemble".into(),
            label: "Lycée fictif".into(),
            region_name: "Guyane".into(),
            rate_further_study: Some(30.0),
            rate_employed_6m: None,
            rate_expected: Some(40.0),
            value_added: Some(-2.0),
        };
        s.replace_establishment_outcomes("etab", "e1", std::slice::from_ref(&est))
            .await
            .unwrap();
        let got = s
            .establishment_outcomes(&["9730235T".to_owned(), "0000000A".to_owned()])
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].rate_employed_6m, got[0].value_added),
            (None, Some(-2.0))
        );
    }
}
