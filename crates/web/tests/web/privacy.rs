//! Personal data: registration, « Mes données », erasure, retention.

use crate::support::*;

crate::on_both_backends!(personal_data);

async fn personal_data(d: &Demo) {
    let r = &d.router;
    // The audit test before this one tampered an entry on purpose: erasure
    // and purge must leave the chain exactly as verifiable as it was.
    let chain = d.app.verify_audit().await.unwrap().broken;
    let register =
        |email: &'static str, birth: &'static str, extra: Vec<(&'static str, &'static str)>| {
            let mut form = vec![
                ("email", email),
                ("nom", "Lou (fictif)"),
                ("mot_de_passe", "une phrase de passe assez longue"),
                ("campus", "demo"),
                ("statut", "eleve"),
                ("date_naissance", birth),
                ("code_insee", "97311"),
                ("consentement", "oui"),
            ];
            form.extend(extra);
            Call::post("/inscription").form(form).send(r)
        };
    // Under 15: a parent's consent is required, and recorded.
    let res = register("lou@example.org", "2013-05-04", vec![]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"erreur-parent_consentement\""));
    assert!(
        !res.body.contains("une phrase de passe assez longue"),
        "the password is never sent back"
    );
    assert!(
        d.app
            .store()
            .user_by_email("lou@example.org")
            .await
            .unwrap()
            .is_none(),
        "nothing created"
    );
    let res = register(
        "lou@example.org",
        "2013-05-04",
        vec![
            ("parent_nom", "Parent fictif"),
            ("parent_email", "parent@example.org"),
            ("parent_consentement", "oui"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let lou = d
        .app
        .store()
        .user_by_email("lou@example.org")
        .await
        .unwrap()
        .unwrap();
    let consents = d.app.store().consents(lou.id).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].purpose, "compte-apprenant");
    assert_eq!(
        consents[0].parent_email.as_deref(),
        Some("parent@example.org")
    );
    assert!(consents[0].parent_given_at.is_some());
    // Adults need no parent; without consent nothing is created.
    let res = Call::post("/inscription")
        .form(vec![
            ("email", "sam@example.org"),
            ("nom", "Sam"),
            ("mot_de_passe", "une phrase de passe assez longue"),
            ("campus", "demo"),
            ("statut", "demandeur_emploi"),
            ("date_naissance", "1990-01-01"),
        ])
        .send(r)
        .await;
    assert!(res.body.contains("id=\"erreur-consentement\""));
    assert_eq!(
        register("sam@example.org", "1990-01-01", vec![])
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // Lou is also the contact of an organisation of the campus.
    let a = d.app.campus("demo").await.unwrap();
    let organisation = d
        .app
        .store()
        .members(a.id, true)
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    let mut tx = d.app.store().begin().await.unwrap();
    tx.replace_contacts(
        organisation.id,
        &[store::ContactInput {
            name: "Lou (fictif)".into(),
            role: Some("Délégué·e des élèves".into()),
            email: Some("lou@example.org".into()),
            phone: None,
            invented: true,
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Access: everything held, as JSON and CSV, never cached; the request is registered.
    let b = sign_in(d, "lou@example.org", "une phrase de passe assez longue").await;
    let json = Call::get("/compte/donnees.json")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.headers[header::CACHE_CONTROL], "no-store");
    assert!(json.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let data = json.json();
    assert_eq!(data["compte"]["email"], "lou@example.org");
    assert!(
        data["compte"].get("password_hash").is_none(),
        "no secret in the export"
    );
    assert_eq!(data["profil"]["birth_date"], "2013-05-04");
    assert_eq!(data["consentements"][0]["parent_name"], "Parent fictif");
    assert!(!data["journal"].as_array().unwrap().is_empty());
    assert_eq!(
        data["contact_des_organisations"][0]["organisation"],
        organisation.name.as_str()
    );
    let csv = Call::get("/compte/donnees.csv")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert!(csv.body.contains("compte.email;lou@example.org"));
    // Rectification.
    let res = Call::post("/compte/profil")
        .cookie(b.cookie.as_deref())
        .form(vec![
            ("csrf", &b.csrf),
            ("nom", "Lou B. (fictif)"),
            ("statut", "apprenti"),
            ("niveau", "3"),
            ("code_insee", "97311"),
            ("interets", "k1302 J1501"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let p = d.app.store().profile(lou.id).await.unwrap().unwrap();
    assert_eq!(
        (p.status.as_str(), p.level, p.interests.as_deref()),
        ("apprenti", Some(3), Some("K1302 J1501"))
    );
    let res = Call::post("/compte/profil")
        .cookie(b.cookie.as_deref())
        .form(vec![
            ("csrf", &b.csrf),
            ("nom", "Lou"),
            ("statut", "apprenti"),
            ("interets", "Z9999"),
        ])
        .send(r)
        .await;
    assert!(res.body.contains("id=\"erreur-interets\""));
    // Erasure: wrong password refused; then the account is anonymised and
    // its audit entries lose their personal fields, the chain still holds.
    let res = Call::post("/compte/supprimer")
        .cookie(b.cookie.as_deref())
        .form(vec![("csrf", &b.csrf), ("mot_de_passe", "non")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = Call::post("/compte/supprimer")
        .cookie(b.cookie.as_deref())
        .form(vec![
            ("csrf", &b.csrf),
            ("mot_de_passe", "une phrase de passe assez longue"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(d
        .app
        .store()
        .user_by_email("lou@example.org")
        .await
        .unwrap()
        .is_none());
    let erased = d.app.store().user(lou.id).await.unwrap().unwrap();
    assert!(erased.disabled && erased.email.ends_with("@invalid"));
    assert!(d.app.store().profile(lou.id).await.unwrap().is_none());
    assert!(
        d.app
            .store()
            .contacts_by_email("lou@example.org")
            .await
            .unwrap()
            .is_empty(),
        "contact entries erased too"
    );
    assert!(d.app.store().consents(lou.id).await.unwrap()[0]
        .parent_email
        .is_none());
    let log = d.app.store().audit_after(0, 1_000_000).await.unwrap();
    assert!(log
        .iter()
        .filter(|e| e.actor_user_id == Some(lou.id))
        .all(|e| e.actor_label.is_none() && e.ip_prefix.is_none()));
    assert_eq!(d.app.verify_audit().await.unwrap().broken, chain);
    assert_eq!(
        Call::get("/compte")
            .cookie(b.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The register lists the requests with their one-month deadline.
    let admin = d.browser("admin.reseau@example.org").await;
    let page = Call::get("/registre-rgpd")
        .cookie(admin.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        page.body.contains("effacement")
            && page.body.contains("acces")
            && page.body.contains("rectification")
    );
    let requests = d.app.store().privacy_requests().await.unwrap();
    let erasure = requests.iter().find(|q| q.kind == "effacement").unwrap();
    assert!(erasure.due_on.as_str() > &erasure.received_at[..10]);

    // The network admin rewrites the legal notices; the text is shown as
    // text, never as markup.
    let res = Call::post("/admin/pages/mentions-legales")
        .cookie(admin.cookie.as_deref())
        .form(vec![("csrf", &admin.csrf), ("texte", "## Éditeur\n\nRéseau fictif des campus <script>x</script>, Cayenne.\n\n- Hébergeur : fictif")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = Call::get("/mentions-legales").send(r).await;
    assert!(
        page.body.contains("<h2>Éditeur</h2>") && page.body.contains("&#60;script&#62;"),
        "{}",
        &page.body[page.body.find("<main").unwrap_or(0)..]
    );
    assert!(page.body.contains("<li>Hébergeur : fictif</li>"));

    // Retention: a learner inactive for longer than the period is erased by
    // the purge, and old audit entries lose their personal fields.
    let sam = d
        .app
        .store()
        .user_by_email("sam@example.org")
        .await
        .unwrap()
        .unwrap();
    d.app
        .config
        .clock
        .advance(chrono::Duration::days(3 * 365 + 2));
    let report = d
        .app
        .purge()
        .await
        .unwrap()
        .expect("the purge lock is free");
    assert!(report.learners_erased >= 1, "{report:?}");
    assert!(report.audit_entries_cleared > 0, "{report:?}");
    assert!(d.app.store().user(sam.id).await.unwrap().unwrap().disabled);
    assert_eq!(d.app.verify_audit().await.unwrap().broken, chain);
}
