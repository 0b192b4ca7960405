//! Managing accounts and roles.

use crate::support::*;

crate::on_both_backends!(account_admin);

async fn account_admin(d: &Demo) {
    let r = &d.router;
    let manager = d.browser("equipe.demo@example.org").await;
    let learner = d.browser("apprenant.demo@example.org").await;
    let email = "apprenant.demo@example.org";
    let user = d.app.store().user_by_email(email).await.unwrap().unwrap();
    // The manager makes the learner an observer of the campus…
    let res = Call::post("/campus/demo/comptes")
        .cookie(manager.cookie.as_deref())
        .form(vec![
            ("csrf", &manager.csrf),
            ("email", email),
            ("role", "observer"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let grants = d.app.store().grants(user.id).await.unwrap();
    let observer = grants
        .iter()
        .find(|g| g.role == "observer")
        .expect("granted");
    let me = Call::get("/api/v1/me")
        .cookie(learner.cookie.as_deref())
        .send(r)
        .await
        .json();
    assert!(
        me["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role"] == "observer"),
        "effective at once: {me}"
    );
    // …cannot grant network admin, nor act on another campus…
    let res = Call::post("/campus/demo/comptes")
        .cookie(manager.cookie.as_deref())
        .form(vec![
            ("csrf", &manager.csrf),
            ("email", email),
            ("role", "network_admin"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = Call::post("/campus/demo-b/comptes")
        .cookie(manager.cookie.as_deref())
        .form(vec![
            ("csrf", &manager.csrf),
            ("email", email),
            ("role", "observer"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // …and removes the role again.
    let res = Call::post(&format!("/roles/{}/retirer", observer.id))
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(!d
        .app
        .store()
        .grants(user.id)
        .await
        .unwrap()
        .iter()
        .any(|g| g.role == "observer"));
    let log = d.app.store().audit_after(0, 1_000_000).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == "grant.add")
            && log.iter().any(|e| e.action == "grant.remove")
    );
    // Disabling (network admins only) ends the sessions at once.
    let res = Call::post(&format!("/admin/comptes/{}/desactiver", user.id))
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let admin = d.browser("admin.reseau@example.org").await;
    let res = Call::post(&format!("/admin/comptes/{}/desactiver", user.id))
        .cookie(admin.cookie.as_deref())
        .form(vec![("csrf", &admin.csrf)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Call::get("/api/v1/me")
            .cookie(learner.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let refused = Call::post("/connexion")
        .form(vec![
            ("email", email),
            ("mot_de_passe", &d.passwords[email]),
        ])
        .send(r)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a disabled account cannot sign in"
    );
    let res = Call::post(&format!("/admin/comptes/{}/reactiver", user.id))
        .cookie(admin.cookie.as_deref())
        .form(vec![("csrf", &admin.csrf)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = Call::get("/admin/comptes")
        .cookie(admin.cookie.as_deref())
        .send(r)
        .await;
    assert!(page.body.contains(email));
}
