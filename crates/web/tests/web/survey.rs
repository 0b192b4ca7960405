//! The needs survey through HTTP.

use crate::support::*;

crate::on_both_backends!(survey);

/// The needs survey: a campaign opened by the manager, answers for member
/// employers, results suppressed for observers and in exports, reminders,
/// and the survey as the demand of the gap.
async fn survey(d: &Demo) {
    let r = &d.router;
    let manager = d.browser("equipe.demo@example.org").await;
    let observer = d.browser("observation.demo@example.org").await;
    async fn post(r: &Router, b: &Browser, uri: &str, fields: Vec<(&str, String)>) -> Res {
        let mut form: Vec<(&str, &str)> = vec![("csrf", b.csrf.as_str())];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        Call::post(uri)
            .cookie(b.cookie.as_deref())
            .form(form)
            .send(r)
            .await
    }
    let bad = post(
        r,
        &manager,
        "/campus/demo/enquetes",
        vec![
            ("titre", "Besoins".into()),
            ("ouverture", "2026-03-01".into()),
            ("cloture", "2026-01-01".into()),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("La clôture suit l&#39;ouverture"),
        "{}",
        bad.body
    );
    let created = post(
        r,
        &manager,
        "/campus/demo/enquetes",
        vec![
            ("titre", "Besoins de l'essai".into()),
            ("ouverture", "2020-01-01".into()),
            ("cloture", "2099-12-31".into()),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    let campus = d.app.campus("demo").await.unwrap();
    let members = d.app.store().members(campus.id, false).await.unwrap();
    let employer = |prefix: &str| {
        members
            .iter()
            .find(|m| m.name.starts_with(prefix))
            .unwrap()
            .id
            .to_string()
    };
    let answer_uri = format!("/campus/demo/enquetes/{id}/reponse");
    let answer = |member: String, rome: &str, planned: &str, difficult: &str| {
        vec![
            ("membre", member),
            ("code_rome", rome.to_owned()),
            ("recrutements", planned.to_owned()),
            ("difficiles", difficult.to_owned()),
        ]
    };
    for (who, rome, planned) in [
        ("EHPAD", "J1501", "4"),
        ("Aide à domicile", "J1501", "3"),
        ("Institut médico", "J1501", "3"),
        ("Aide à domicile", "K1302", "9"),
        ("EHPAD", "K1302", "1"),
    ] {
        let res = post(
            r,
            &manager,
            &answer_uri,
            answer(employer(who), rome, planned, "1"),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "{who} {rome}: {}",
            res.body
        );
    }
    let refused = post(
        r,
        &manager,
        &answer_uri,
        answer(employer("EHPAD"), "J1501", "2", "5"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("erreur-difficiles"),
        "the error is next to its field"
    );
    // The observer sees J1501 (3 respondents, 10 hires) but not K1302 (2).
    let seen = Call::get(&page)
        .cookie(observer.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        seen.body.contains("<td>3</td><td>10</td>"),
        "J1501 shown: {}",
        seen.body
    );
    assert!(seen
        .body
        .contains("secret statistique (moins de 3 répondants)"));
    assert!(
        !seen.body.contains("À relancer"),
        "reminders are for the team"
    );
    let team = Call::get(&page)
        .cookie(manager.cookie.as_deref())
        .send(r)
        .await;
    assert!(team.body.contains("confidentiel : moins de 3 répondants"));
    assert!(team.body.contains("À relancer") && team.body.contains("Multi-accueil Les Ti-Moun"));
    for b in [&manager, &observer] {
        let csv = Call::get(&format!("{page}/resultats.csv"))
            .cookie(b.cookie.as_deref())
            .send(r)
            .await;
        assert!(
            csv.body.contains("J1501;973;3;10") && !csv.body.contains("K1302"),
            "{}",
            csv.body
        );
    }
    // The gap takes the survey as its demand where it may be shown.
    let obs = Call::get("/api/v1/campuses/demo/observatory")
        .cookie(observer.cookie.as_deref())
        .send(r)
        .await;
    let obs: serde_json::Value = serde_json::from_str(&obs.body).unwrap();
    let line = |code: &str| {
        obs["metiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["code_rome"] == code)
            .cloned()
    };
    let j = line("J1501").expect("J1501");
    assert_eq!(
        (j["demand_source"].as_str(), j["survey_planned"].as_i64()),
        (Some("enquête du campus"), Some(10))
    );
    if let Some(k) = line("K1302") {
        assert!(
            k["survey_planned"].is_null(),
            "suppressed for the observer: {k}"
        );
    }

    // The campus' own sector → ROME domains mapping, checked against ROME 4.0.
    let sector = "/campus/demo/observatoire/secteur";
    let bad = post(r, &manager, sector, vec![("domaines", "K13 Z99".into())]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Z99 : ni grand domaine"), "{}", bad.body);
    let ok = post(r, &manager, sector, vec![("domaines", "k13".into())]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let obs = Call::get("/api/v1/campuses/demo/observatory")
        .cookie(manager.cookie.as_deref())
        .send(r)
        .await;
    let obs: serde_json::Value = serde_json::from_str(&obs.body).unwrap();
    assert_eq!(obs["domains"], serde_json::json!(["K13"]));
    assert_eq!(obs["domains_are_defaults"], false);
    for m in obs["metiers"].as_array().unwrap() {
        let code = m["code_rome"].as_str().unwrap();
        assert_eq!(
            m["in_sector"].as_bool(),
            Some(code.starts_with("K13")),
            "{m}"
        );
    }
    let back = post(r, &manager, sector, vec![("domaines", "".into())]).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let obs = Call::get("/api/v1/campuses/demo/observatory")
        .cookie(manager.cookie.as_deref())
        .send(r)
        .await;
    assert!(obs.body.contains("\"domains_are_defaults\":true"));

    // Parameters are checked against what exists before anything is
    // computed: an unknown period or certification, or absurd places.
    for query in [
        "period=1850",
        "period=%E2%80%AE",
        "certification=1&places=5",
        "certification=999999999&places=10",
        "certification=1&places=0",
        "certification=1&places=99999999999",
    ] {
        let res = Call::get(&format!("/api/v1/campuses/demo/observatory?{query}"))
            .cookie(manager.cookie.as_deref())
            .send(r)
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            res.body
        );
    }
}
