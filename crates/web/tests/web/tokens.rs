//! API tokens and their scopes, and the anonymous API's rate limit.

use crate::support::*;

crate::on_both_backends!(tokens);

async fn tokens(d: &Demo) {
    let r = &d.router;
    let read_only = d
        .app
        .create_token_for("equipe.demo@example.org", "lecture", false)
        .await
        .unwrap();
    let read_write = d
        .app
        .create_token_for("equipe.demo@example.org", "écriture", true)
        .await
        .unwrap();
    assert!(read_only.starts_with("psl_") && read_only.len() > 40);
    let me = Call::get("/api/v1/me").bearer(&read_only).send(r).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "equipe.demo@example.org");
    assert_eq!(me.json()["can_write"], false);
    assert_eq!(me.json()["roles"][0]["role"], "campus_manager");
    assert_eq!(
        Call::get("/api/v1/me").send(r).await.status,
        StatusCode::UNAUTHORIZED
    );
    let bad = Call::get("/api/v1/me")
        .bearer("psl_not-a-token")
        .send(r)
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.json()["error"], "unauthorized");

    let member = json!({
        "name": "Crèche Les Colibris (fictive)", "kind": "etablissement-medico-social",
        "siret": "99100005000005", "code_insee": "97304", "status": "brouillon"
    });
    let res = Call::post("/api/v1/campuses/demo/members")
        .json(member.clone())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "no token");
    assert_eq!(res.json()["error"], "unauthorized");
    let res = Call::post("/api/v1/campuses/demo/members")
        .bearer(&read_only)
        .json(member.clone())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "read-only token");
    assert_eq!(res.json()["error"], "forbidden");
    let res = Call::post("/api/v1/campuses/demo-b/members")
        .bearer(&read_write)
        .json(member.clone())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "another campus");
    let res = Call::post("/api/v1/campuses/demo/members")
        .bearer(&read_write)
        .json(member.clone())
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    // Revoked: the token stops working at once.
    let user = d
        .app
        .store()
        .user_by_email("equipe.demo@example.org")
        .await
        .unwrap()
        .unwrap();
    let listed = d.app.store().tokens(user.id).await.unwrap();
    let rw = listed.iter().find(|t| t.can_write).unwrap();
    assert!(d
        .app
        .store()
        .revoke_token(user.id, rw.id, "2026-01-01T00:00:00Z")
        .await
        .unwrap());
    let res = Call::get("/api/v1/me").bearer(&read_write).send(r).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Created in the browser, shown once.
    let b = d.browser("equipe.demo@example.org").await;
    let res = Call::post("/compte/jetons")
        .cookie(b.cookie.as_deref())
        .form(vec![
            ("csrf", &b.csrf),
            ("nom", "tableur"),
            ("ecriture", "oui"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("il ne sera plus jamais affiché"));
    let shown = res.body.split("<p class=\"secret\">").nth(1).unwrap();
    let token = &shown[..shown.find('<').unwrap()];
    assert_eq!(
        Call::get("/api/v1/me").bearer(token).send(r).await.json()["can_write"],
        true
    );
    let page = Call::get("/compte")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert!(!page.body.contains(token), "never shown again");
}

/// The public API's per-address limit (per server, no database involved).
/// It counts what did not authenticate: neither a junk cookie nor a wrong
/// token gets around it; a valid token does. Behind trusted proxies the
/// client's address is read from `X-Forwarded-For`, and only then.
#[tokio::test]
async fn anonymous_api_requests_are_rate_limited_per_address() {
    let mut config = app::Config::new(store::testing::sqlite_url("limit"), data_dir());
    config.password_cost = app::config::PasswordCost::for_tests();
    config.api_rate = Some(app::config::ApiRate {
        per_second: 0.01,
        burst: 2.0,
    });
    config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let app = app::App::open(config).await.unwrap();
    let router = web::router(app.clone());
    let send = |ip: [u8; 4], headers: Vec<(header::HeaderName, String)>| {
        let mut req = Request::builder()
            .uri("/api/v1/campuses")
            .header(header::HOST, HOST);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let mut req = req.body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 40000,
            ))));
        router.clone().oneshot(req)
    };
    let status = |res: Result<axum::response::Response, _>| res.unwrap().status();
    assert_eq!(
        status(send([198, 51, 100, 7], vec![]).await),
        StatusCode::OK
    );
    assert_eq!(
        status(send([198, 51, 100, 8], vec![]).await),
        StatusCode::OK
    );
    let limited = send([198, 51, 100, 9], vec![]).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "same /24");
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    let body = to_bytes(limited.into_body(), 1 << 16).await.unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"], "too_many_requests");
    assert_eq!(
        status(send([203, 0, 113, 1], vec![]).await),
        StatusCode::OK,
        "another address"
    );
    // Carrying credentials that do not authenticate changes nothing.
    for junk in [
        (
            header::COOKIE,
            "passerelle_session=nope; other=1".to_owned(),
        ),
        (header::COOKIE, "anything=1".to_owned()),
        (header::AUTHORIZATION, "Bearer psl_wrong".to_owned()),
        (header::AUTHORIZATION, "Basic Zm9vOmJhcg==".to_owned()),
    ] {
        assert_eq!(
            status(send([198, 51, 100, 9], vec![junk.clone()]).await),
            StatusCode::TOO_MANY_REQUESTS,
            "{junk:?}"
        );
    }
    // A valid token is not counted.
    network_admin(&app, "limite@example.org", "Camille (fictive)").await;
    let token = app
        .create_token_for("limite@example.org", "test", false)
        .await
        .unwrap();
    assert_eq!(
        status(
            send(
                [198, 51, 100, 9],
                vec![(header::AUTHORIZATION, format!("Bearer {token}"))]
            )
            .await
        ),
        StatusCode::OK
    );
    // X-Forwarded-For from an untrusted peer is ignored: still the peer's
    // exhausted /24.
    let forwarded = |v: &str| {
        vec![(
            header::HeaderName::from_static("x-forwarded-for"),
            v.to_owned(),
        )]
    };
    assert_eq!(
        status(send([198, 51, 100, 9], forwarded("192.0.2.1")).await),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Through a trusted proxy: each client has its own bucket, and what a
    // client writes left of the proxy's entry does not choose its bucket.
    for _ in 0..2 {
        assert_eq!(
            status(send([10, 0, 0, 2], forwarded("192.0.2.1")).await),
            StatusCode::OK
        );
    }
    assert_eq!(
        status(send([10, 0, 0, 2], forwarded("192.0.2.1")).await),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(send([10, 0, 0, 2], forwarded("203.0.113.50, 192.0.2.1")).await),
        StatusCode::TOO_MANY_REQUESTS,
        "the client cannot pick its address"
    );
    assert_eq!(
        status(send([10, 0, 0, 2], forwarded("192.0.2.1, 10.1.2.3")).await),
        StatusCode::TOO_MANY_REQUESTS,
        "trusted hops are skipped"
    );
    assert_eq!(
        status(send([10, 0, 0, 2], forwarded("198.18.0.1")).await),
        StatusCode::OK,
        "another client behind the same proxy"
    );
}
