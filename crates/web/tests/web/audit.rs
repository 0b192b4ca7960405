//! The audit log through HTTP: a campus' journal, verification.

use crate::support::*;

crate::on_both_backends!(audit_log);

async fn audit_log(d: &Demo) {
    let r = &d.router;
    // What the log must record: a failed and a good sign-in, a sign-out, a
    // token created and revoked, a member created through the API.
    let failed = Call::post("/connexion")
        .form(vec![
            ("email", "equipe.demo@example.org"),
            ("mot_de_passe", "pas le bon mot de passe"),
        ])
        .send(r)
        .await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let b = d.browser("equipe.demo@example.org").await;
    let out = Call::post("/deconnexion")
        .cookie(b.cookie.as_deref())
        .form(vec![("csrf", &b.csrf)])
        .send(r)
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let token = d
        .app
        .create_token_for("equipe.demo@example.org", "journal", true)
        .await
        .unwrap();
    let res = Call::post("/api/v1/campuses/demo/members")
        .bearer(&token)
        .json(json!({
            "name": "Atelier du journal (fictif)", "kind": "employeur",
            "code_insee": "97304", "status": "brouillon"
        }))
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let token_actor = d.app.token_actor(&token).await.unwrap().unwrap();
    let mine = d.app.my_tokens(&token_actor).await.unwrap();
    assert!(d
        .app
        .revoke_my_token(&token_actor, mine[0].id)
        .await
        .unwrap());

    let v = d.app.verify_audit().await.unwrap();
    assert_eq!(v.broken, None);
    let all = d.app.store().audit_after(0, 10_000).await.unwrap();
    assert_eq!(v.entries as usize, all.len(), "every entry verified: {v:?}");
    for action in [
        "account.create",
        "sign_in",
        "sign_in.failed",
        "sign_out",
        "token.create",
        "token.revoke",
        "member.create",
    ] {
        assert!(all.iter().any(|e| e.action == action), "no {action} entry");
    }
    let created = all.iter().find(|e| e.action == "member.create").unwrap();
    assert_eq!(
        created.actor_label.as_deref(),
        Some("equipe.demo@example.org")
    );
    assert!(created.entity_id.is_some() && created.campus_id.is_some());
    // Managers read their campus' entries, not another campus'.
    let b = d.browser("equipe.demo@example.org").await;
    let page = Call::get("/campus/demo/journal")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("member.create"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let other = Call::get("/campus/demo-b/journal")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);

    // The application cannot rewrite or delete entries.
    for sql in [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ] {
        let res = store::testing::execute_as_application(d.app.store(), sql).await;
        assert!(res.is_err(), "{sql} must be refused");
    }
    // Erasing someone's personal fields keeps the chain verifiable.
    let user = d
        .app
        .store()
        .user_by_email("equipe.demo@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(
        d.app
            .store()
            .erase_audit_personal_of(user.id)
            .await
            .unwrap()
            > 0
    );
    assert_eq!(d.app.verify_audit().await.unwrap().broken, None);
    let erased = d.app.store().audit_after(created.seq - 1, 1).await.unwrap();
    assert_eq!(erased[0].actor_label, None);

    // Tampering shows, with the first broken entry named.
    let target = all[all.len() / 2].seq;
    store::testing::tamper_audit(
        d.app.store(),
        &format!("UPDATE audit_log SET detail = '{{\"forged\":true}}' WHERE seq = {target}"),
    )
    .await
    .unwrap();
    let v = d.app.verify_audit().await.unwrap();
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(target), "{v:?}");
    assert_eq!(v.entries, target - 1);
}
