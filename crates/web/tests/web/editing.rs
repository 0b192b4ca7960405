//! Editing members, formations and campuses in the browser.

use crate::support::*;

crate::on_both_backends!(editing);

async fn editing(d: &Demo) {
    let r = &d.router;
    let a = d.app.campus("demo").await.unwrap();
    let support = a.support_member_id.unwrap();
    let b = d.browser("redaction.demo@example.org").await;
    let page = Call::get(&format!("/membres/{support}"))
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        page.body.contains("Modifier la fiche"),
        "the editor is offered to edit"
    );
    let form = Call::get(&format!("/membres/{support}/modifier"))
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");
    let m = d.app.store().member(support).await.unwrap().unwrap();
    let base = |siret: &'static str, description: &'static str| {
        vec![
            ("csrf", b.csrf.clone()),
            ("nom", m.name.clone()),
            ("type", m.kind.clone()),
            ("uai", m.uai.clone().unwrap_or_default()),
            ("siret", siret.to_owned()),
            ("code_insee", m.code_insee.clone().unwrap_or_default()),
            ("description", description.to_owned()),
            ("statut", m.status.clone()),
        ]
    };
    let uri = format!("/membres/{support}/modifier");
    // A wrong SIRET key: refused, the message next to the field, what was typed kept.
    let bad = base("12345678901234", "Nouvelle description");
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(bad.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"erreur-siret\""), "{}", res.body);
    assert!(res
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"erreur-siret"));
    assert!(
        res.body.contains("value=\"12345678901234\""),
        "typed value kept"
    );
    assert!(res.body.contains("Nouvelle description"));
    assert_eq!(
        d.app
            .store()
            .member(support)
            .await
            .unwrap()
            .unwrap()
            .description,
        m.description,
        "nothing stored"
    );
    // A contact with a wrong address: refused next to its field.
    let mut with_contact = base("", "Nouvelle description");
    with_contact.extend([
        ("contact_nom_0", "Référente fictive".to_owned()),
        ("contact_email_0", "pas-une-adresse".to_owned()),
    ]);
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(with_contact.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"erreur-contact_email_0\""));
    // A good one: saved, back to the page, recorded; the contacts replaced.
    let mut good = base("", "Lycée des métiers, fiche mise à jour par son équipe.");
    good.extend([
        ("contact_nom_0", "Référente fictive".to_owned()),
        ("contact_role_0", "Directrice déléguée".to_owned()),
        ("contact_email_0", "referente@example.org".to_owned()),
        ("contact_tel_0", "+594 594 00 00 00".to_owned()),
    ]);
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(good.iter().map(|(k, v)| (*k, v.as_str())).collect())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), format!("/membres/{support}"));
    let saved = d.app.store().member(support).await.unwrap().unwrap();
    assert_eq!(
        saved.description.as_deref(),
        Some("Lycée des métiers, fiche mise à jour par son équipe.")
    );
    let contacts = d.app.store().contacts(support).await.unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].email.as_deref(), Some("referente@example.org"));
    let public = Call::get(&format!("/membres/{support}")).send(r).await;
    assert!(
        !public.body.contains("referente@example.org"),
        "contacts are never public"
    );
    let log = d.app.store().audit_after(0, 100_000).await.unwrap();
    assert!(log.iter().any(
        |e| e.action == "member.update" && e.entity_id.as_deref() == Some(&support.to_string())
    ));
    // The campus team edits the campus; a wrong perimeter is refused.
    let manager = d.browser("equipe.demo@example.org").await;
    let campus_uri = "/campus/demo/modifier";
    let campus_form = |perimeter: &str| {
        vec![
            ("csrf", manager.csrf.clone()),
            ("nom", a.name.clone()),
            ("filiere", a.sector.clone()),
            (
                "theme",
                "Santé, social, bien-être et petite enfance en Guyane".to_owned(),
            ),
            ("fuseau", "America/Cayenne".to_owned()),
            ("support", support.to_string()),
            ("perimetre", perimeter.to_owned()),
        ]
    };
    let res = Call::post(campus_uri)
        .cookie(manager.cookie.as_deref())
        .form(
            campus_form("departement:999 region:03")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"erreur-perimetre\""));
    let res = Call::post(campus_uri)
        .cookie(manager.cookie.as_deref())
        .form(
            campus_form("departement:973 commune:97311")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = Call::get("/campus/demo").send(r).await;
    assert!(page.body.contains("petite enfance en Guyane"));
    assert!(
        !page.body.contains("Modifier le campus"),
        "visitors get no edit link"
    );
    assert_eq!(
        Call::get(campus_uri)
            .cookie(b.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a member editor does not edit the campus"
    );

    // Another member's form is not theirs.
    let other = d
        .app
        .store()
        .members(a.id, true)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id != support)
        .unwrap();
    let res = Call::get(&format!("/membres/{}/modifier", other.id))
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // A formation of the editor's organisation: retitled, searchable at once.
    let f = d
        .app
        .store()
        .formations(a.id, store::Visibility::All, Some(support))
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.status == "publie")
        .unwrap();
    let uri = format!("/formations/{}/modifier", f.id);
    let form = |title: &str, capacity: &str| {
        vec![
            ("csrf", b.csrf.clone()),
            ("intitule", title.to_owned()),
            (
                "certifinfo",
                f.certification_code
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ),
            ("voie", f.pathway.clone()),
            ("modalite", f.modality.clone()),
            (
                "code_insee_lieu",
                f.site_code_insee.clone().unwrap_or_default(),
            ),
            ("capacite", capacity.to_owned()),
            ("statut", "publie".to_owned()),
        ]
    };
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(
            form("", "-3")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("id=\"erreur-intitule\"") && res.body.contains("id=\"erreur-capacite\"")
    );
    let sessions_before = d.app.store().sessions(f.id).await.unwrap().len();
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(
            form(
                "Bac pro Accompagnement, soins et services à la personne (rénové)",
                "32",
            )
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        d.app.store().sessions(f.id).await.unwrap().len(),
        sessions_before,
        "sessions kept"
    );
    // Sessions edited in the form: an end before its start is refused next
    // to its field; then the two sessions replace the previous ones.
    let with_sessions = |end: &str| {
        let mut v = form(
            "Bac pro Accompagnement, soins et services à la personne (rénové)",
            "32",
        );
        v.extend([
            ("session_debut_0", "2027-09-01".to_owned()),
            ("session_fin_0", "2028-06-30".to_owned()),
            ("session_places_0", "16".to_owned()),
            ("session_debut_1", "2028-01-08".to_owned()),
            ("session_fin_1", end.to_owned()),
            ("session_places_1", "16".to_owned()),
        ]);
        v
    };
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(
            with_sessions("2027-12-31")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"erreur-session_fin_1\""));
    let res = Call::post(&uri)
        .cookie(b.cookie.as_deref())
        .form(
            with_sessions("2028-12-20")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
        )
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let sessions = d.app.store().sessions(f.id).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[1].starts_on, "2028-01-08");
    let found = Call::get("/api/v1/formations?q=r%C3%A9nov%C3%A9")
        .send(r)
        .await
        .json();
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == f.id),
        "{found}"
    );
}
