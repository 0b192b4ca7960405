//! Signing in: sessions and CSRF, session fixation, timeouts, throttling
//! and the second factor.

use crate::support::*;

crate::on_both_backends!(sessions_and_csrf, throttling, second_factor);

async fn sessions_and_csrf(d: &Demo) {
    let r = &d.router;
    // The sign-in page itself is public and never cached.
    let page = Call::get("/connexion").send(r).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("autocomplete=\"current-password\""));

    // Session fixation: a cookie planted before sign-in is not reused.
    let planted = "planted-session-value-0123456789abcdef";
    let res = Call::post("/connexion")
        .cookie(Some(planted))
        .form(vec![
            ("email", "equipe.demo@example.org"),
            ("mot_de_passe", &d.passwords["equipe.demo@example.org"]),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let issued = res.session_cookie().unwrap();
    assert_ne!(issued, planted);
    assert!(issued.len() >= 43, "≥ 256 bits");
    let again = d.browser("equipe.demo@example.org").await;
    assert_ne!(
        again.cookie.as_deref(),
        Some(issued.as_str()),
        "new id at every sign-in"
    );

    // Wrong password: the same message whether or not the account exists.
    for email in ["equipe.demo@example.org", "personne@example.org"] {
        let res = Call::post("/connexion")
            .form(vec![
                ("email", email),
                ("mot_de_passe", "pas le bon mot de passe"),
            ])
            .send(r)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res
            .body
            .contains("adresse e-mail ou mot de passe incorrect"));
    }

    // CSRF: a state change without the token, with a wrong one, or from
    // another site is refused; with the token from this site it works.
    let b = d.browser("observation.demo@example.org").await;
    let cookie = b.cookie.as_deref();
    let res = Call::post("/deconnexion")
        .cookie(cookie)
        .form(vec![])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no token");
    let res = Call::post("/deconnexion")
        .cookie(cookie)
        .form(vec![("csrf", "forged")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "wrong token");
    let res = Call::post("/deconnexion")
        .cookie(cookie)
        .form(vec![("csrf", &b.csrf)])
        .header("origin", "https://evil.example")
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "other origin");
    let res = Call::post("/deconnexion")
        .cookie(cookie)
        .form(vec![("csrf", &b.csrf)])
        .header("sec-fetch-site", "cross-site")
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "cross-site fetch");
    let res = Call::post("/connexion")
        .form(vec![("email", "x@example.org"), ("mot_de_passe", "y")])
        .header("origin", "https://evil.example")
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "login CSRF");
    // Still signed in after all the forgeries.
    assert_eq!(
        Call::get("/compte").cookie(cookie).send(r).await.status,
        StatusCode::OK
    );
    let res = Call::post("/deconnexion")
        .cookie(cookie)
        .form(vec![("csrf", &b.csrf)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The old cookie is dead: the account page sends to the sign-in page.
    let res = Call::get("/compte").cookie(cookie).send(r).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/connexion"));

    // After signing in, only a path of this site is followed, read the way
    // a browser reads it (tabs and newlines dropped, `\\` as `/`): anything
    // else goes to the account page, and nothing answers 500.
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/compte\r\nSet-Cookie: x=y",
    ] {
        let page = Call::get(&format!(
            "/connexion?suivant={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
        .send(r)
        .await;
        assert_eq!(page.status, StatusCode::OK, "{next:?}");
        assert!(page.body.contains("value=\"/compte\""), "{next:?}");
        let res = Call::post("/connexion")
            .form(vec![
                ("email", "apprenant.demo@example.org"),
                ("mot_de_passe", &d.passwords["apprenant.demo@example.org"]),
                ("suivant", next),
            ])
            .send(r)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{next:?}: {}", res.body);
        assert_eq!(res.location(), "/compte", "{next:?}");
    }

    // A person lists their sessions and ends one from another browser.
    let first = d.browser("apprenant.demo@example.org").await;
    let second = d.browser("apprenant.demo@example.org").await;
    let sessions = d
        .app
        .store()
        .user_sessions(
            d.app
                .store()
                .user_by_email("apprenant.demo@example.org")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert!(sessions.len() >= 2);
    let first_hash = app::accounts::secret_hash(first.cookie.as_deref().unwrap());
    let res = Call::post("/compte/sessions/terminer")
        .cookie(second.cookie.as_deref())
        .form(vec![("csrf", &second.csrf), ("session", &first_hash)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Call::get("/compte")
            .cookie(first.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "ended from the other browser"
    );

    // Idle timeout (30 min) and absolute timeout (12 h), on the test clock.
    let b = d.browser("redaction.demo@example.org").await;
    d.app.config.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(
        Call::get("/compte")
            .cookie(b.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::OK
    );
    d.app.config.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        Call::get("/compte")
            .cookie(b.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "idle for 31 minutes"
    );
    let b = d.browser("redaction.demo@example.org").await;
    for _ in 0..25 {
        d.app.config.clock.advance(chrono::Duration::minutes(29));
        Call::get("/compte")
            .cookie(b.cookie.as_deref())
            .send(r)
            .await;
    }
    assert_eq!(
        Call::get("/compte")
            .cookie(b.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "12 hours after sign-in"
    );
}

async fn throttling(d: &Demo) {
    let r = &d.router;
    let email = "apprenant.demo-b@example.org";
    for _ in 0..5 {
        let res = Call::post("/connexion")
            .form(vec![
                ("email", email),
                ("mot_de_passe", "mauvais mot de passe"),
            ])
            .send(r)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The right password no longer helps until the window has passed.
    let res = Call::post("/connexion")
        .form(vec![
            ("email", email),
            ("mot_de_passe", &d.passwords[email]),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.body.contains("trop de tentatives"));
    d.app.config.clock.advance(chrono::Duration::minutes(16));
    d.browser(email).await;
}

async fn second_factor(d: &Demo) {
    let r = &d.router;
    let email = "apprenant.demo@example.org";
    let code_now =
        |secret: &str| app::totp::code_at(secret, d.app.now().timestamp() as u64).unwrap();
    // Optional for a learner: enrolled from the account page.
    let b = d.browser(email).await;
    let page = Call::get("/compte/double-authentification")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = d
        .app
        .store()
        .user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap();
    assert!(page.body.contains(&secret));
    let res = Call::post("/compte/double-authentification")
        .cookie(b.cookie.as_deref())
        .form(vec![("csrf", &b.csrf), ("code", "12")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    d.app.config.clock.advance(chrono::Duration::seconds(30));
    let res = Call::post("/compte/double-authentification")
        .cookie(b.cookie.as_deref())
        .form(vec![("csrf", &b.csrf), ("code", &code_now(&secret))])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        d.app
            .store()
            .user_by_email(email)
            .await
            .unwrap()
            .unwrap()
            .totp_enabled
    );
    // From now on its sign-in asks for a code; a code is accepted once.
    let res = Call::post("/connexion")
        .form(vec![
            ("email", email),
            ("mot_de_passe", &d.passwords[email]),
        ])
        .send(r)
        .await;
    assert!(
        res.location().starts_with("/connexion/code"),
        "{}",
        res.location()
    );
    let pending = res.session_cookie().unwrap();
    let page = Call::get("/connexion/code")
        .cookie(Some(&pending))
        .send(r)
        .await;
    assert!(
        !page.body.contains(&secret),
        "the secret is not shown again"
    );
    let csrf = csrf_of(&page.body);
    let used = code_now(&secret);
    let res = Call::post("/connexion/code")
        .cookie(Some(&pending))
        .form(vec![("csrf", &csrf), ("code", &used)])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the code that enrolled cannot sign in again"
    );
    d.app.config.clock.advance(chrono::Duration::seconds(30));
    let fresh = code_now(&secret);
    let res = Call::post("/connexion/code")
        .cookie(Some(&pending))
        .form(vec![("csrf", &csrf), ("code", &fresh)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let signed = res.session_cookie().unwrap();
    assert_eq!(
        Call::get("/api/v1/me")
            .cookie(Some(&signed))
            .send(r)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        Call::get("/api/v1/me")
            .cookie(Some(&pending))
            .send(r)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the pending session is gone"
    );
    // The sign-in page of a configuration that requires it says nothing of a waiver.
    assert!(!Call::get("/connexion")
        .send(r)
        .await
        .body
        .contains("Démonstration"));
}
