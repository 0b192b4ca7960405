//! Accounts through HTTP, on both backends: sign-in and sessions, CSRF,
//! session fixation, throttling, token scopes, timeouts, security headers on
//! every route, and the authorization matrix (every route × every role on
//! two campuses, generated from the route table).

use std::collections::HashMap;
use std::path::PathBuf;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// The origin the test requests claim to come from.
const HOST: &str = "localhost";
const ORIGIN: &str = "http://localhost";

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The session cookie the response sets, if any.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("__Host-passerelle="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// One request. `form` is sent URL-encoded, `json` as JSON; `extra` adds
/// headers (they replace the default Host / Origin when named alike).
struct Call<'a> {
    method: &'a str,
    uri: &'a str,
    cookie: Option<&'a str>,
    bearer: Option<&'a str>,
    form: Option<Vec<(&'a str, &'a str)>>,
    json: Option<Value>,
    extra: Vec<(&'a str, &'a str)>,
}

impl<'a> Call<'a> {
    fn get(uri: &'a str) -> Self {
        Self {
            method: "GET",
            uri,
            cookie: None,
            bearer: None,
            form: None,
            json: None,
            extra: Vec::new(),
        }
    }

    fn post(uri: &'a str) -> Self {
        Self {
            method: "POST",
            ..Self::get(uri)
        }
    }

    fn cookie(mut self, c: Option<&'a str>) -> Self {
        self.cookie = c;
        self
    }

    fn bearer(mut self, t: &'a str) -> Self {
        self.bearer = Some(t);
        self
    }

    fn form(mut self, f: Vec<(&'a str, &'a str)>) -> Self {
        self.form = Some(f);
        self
    }

    fn json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }

    fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra.push((name, value));
        self
    }

    async fn send(self, router: &Router) -> Res {
        let mut req = Request::builder().method(self.method).uri(self.uri);
        let named = |n: &str| self.extra.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !named("host") {
            req = req.header(header::HOST, HOST);
        }
        if self.method != "GET" && !named("origin") && self.bearer.is_none() {
            req = req.header(header::ORIGIN, ORIGIN);
        }
        for (k, v) in &self.extra {
            req = req.header(*k, *v);
        }
        if let Some(c) = self.cookie {
            req = req.header(header::COOKIE, format!("__Host-passerelle={c}"));
        }
        if let Some(t) = self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = if let Some(form) = &self.form {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
        } else if let Some(v) = &self.json {
            req.header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
        } else {
            req.body(Body::empty())
        }
        .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 16 << 20).await.unwrap();
        Res {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}

/// A signed-in browser: its cookie and the CSRF token of its pages.
#[derive(Clone, Default)]
struct Browser {
    cookie: Option<String>,
    csrf: String,
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn sign_in(d: &Demo, email: &str, password: &str) -> Browser {
    let r = &d.router;
    let res = Call::post("/connexion")
        .form(vec![
            ("email", email),
            ("mot_de_passe", password),
            ("suivant", "/compte"),
        ])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "sign-in of {email}: {}",
        res.body
    );
    let set = res.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let mut cookie = res.session_cookie().expect("session cookie");
    if res.location().starts_with("/connexion/code") {
        // Network admins and campus managers: the second factor, enrolled at
        // the first sign-in. Until it is given, the session grants nothing.
        assert_eq!(
            Call::get("/api/v1/me")
                .cookie(Some(&cookie))
                .send(r)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let page = Call::get(res.location())
            .cookie(Some(&cookie))
            .send(r)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let user = d.app.store().user_by_email(email).await.unwrap().unwrap();
        let secret = user.totp_secret.expect("a TOTP secret");
        assert_eq!(
            page.body.contains(&secret),
            !user.totp_enabled,
            "the secret is shown while enrolling only"
        );
        // A new time step, since each step is accepted once.
        d.app.config.clock.advance(chrono::Duration::seconds(30));
        let unix = d.app.now().timestamp() as u64;
        let code = app::totp::code_at(&secret, unix).unwrap();
        let res = Call::post("/connexion/code")
            .cookie(Some(&cookie))
            .form(vec![
                ("csrf", &csrf_of(&page.body)),
                ("code", &code),
                ("suivant", "/compte"),
            ])
            .send(r)
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "second factor of {email}: {}",
            res.body
        );
        let renewed = res
            .session_cookie()
            .expect("a new session after the second factor");
        assert_ne!(renewed, cookie);
        cookie = renewed;
    }
    let page = Call::get("/compte").cookie(Some(&cookie)).send(r).await;
    assert_eq!(page.status, StatusCode::OK, "{email}");
    Browser {
        csrf: csrf_of(&page.body),
        cookie: Some(cookie),
    }
}

struct Demo {
    app: app::App,
    router: Router,
    passwords: HashMap<String, String>,
}

async fn demo(url: String) -> Demo {
    let mut config = app::Config::new(url, data_dir());
    config.password_cost = app::config::PasswordCost::for_tests();
    // The manual clock starts at the real time.
    #[allow(clippy::disallowed_methods)]
    let started = chrono::Utc::now();
    config.clock = app::config::Clock::manual(started);
    let app = app::App::open(config).await.expect("open");
    app.import_referentiels(&data_dir(), &|_| {})
        .await
        .expect("reference data");
    app.seed_demo().await.expect("demo");
    let passwords = app
        .seed_demo_accounts()
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| (a.email, a.password))
        .collect();
    let router = web::router(app.clone());
    Demo {
        app,
        router,
        passwords,
    }
}

impl Demo {
    async fn browser(&self, email: &str) -> Browser {
        sign_in(self, email, &self.passwords[email]).await
    }
}

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

async fn headers_on_every_route(d: &Demo) {
    let r = &d.router;
    let mut checked = 0;
    for route in web::route_list() {
        let uri = route
            .path
            .replace("{slug}", "demo")
            .replace("{id}", "1")
            .replace("{code_rome}", "K1207")
            .replace("{code}", "K1207");
        let res = if route.method == "GET" {
            Call::get(&uri).send(r).await
        } else {
            Call::post(&uri).form(vec![]).send(r).await
        };
        assert!(!res.status.is_server_error(), "{uri}: {}", res.status);
        let h = &res.headers;
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for part in [
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "'nonce-",
        ] {
            assert!(csp.contains(part), "{uri}: CSP lacks {part}");
        }
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert!(h.contains_key(header::REFERRER_POLICY), "{uri}");
        checked += 1;
    }
    // A signed-in page is never stored by caches; nonces differ per response.
    let b = d.browser("equipe.demo@example.org").await;
    let one = Call::get("/formations")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    let two = Call::get("/formations")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(one.headers[header::CACHE_CONTROL], "no-store");
    assert_ne!(
        one.headers[header::CONTENT_SECURITY_POLICY],
        two.headers[header::CONTENT_SECURITY_POLICY]
    );
    assert!(checked >= 20);
}

/// What each role gets on a route, as status codes.
struct Expect {
    visitor: u16,
    learner_a: u16,
    observer_a: u16,
    editor_a: u16,
    manager_a: u16,
    manager_b: u16,
    editor_b: u16,
    admin: u16,
}

impl Expect {
    fn all(s: u16) -> Self {
        Self::signed(s, s)
    }

    /// `visitor` for visitors, `signed` for everyone signed in.
    fn signed(visitor: u16, signed: u16) -> Self {
        Self {
            visitor,
            learner_a: signed,
            observer_a: signed,
            editor_a: signed,
            manager_a: signed,
            manager_b: signed,
            editor_b: signed,
            admin: signed,
        }
    }

    fn get(&self, role: &str) -> u16 {
        match role {
            "visitor" => self.visitor,
            "learner_a" => self.learner_a,
            "observer_a" => self.observer_a,
            "editor_a" => self.editor_a,
            "manager_a" => self.manager_a,
            "manager_b" => self.manager_b,
            "editor_b" => self.editor_b,
            _ => self.admin,
        }
    }
}

async fn authorization_matrix(d: &Demo) -> usize {
    let r = &d.router;
    let store = d.app.store();
    let a = d.app.campus("demo").await.unwrap();
    let support = a.support_member_id.unwrap();
    let draft_member = store
        .members(a.id, false)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.status == "brouillon")
        .expect("a draft member on demo");
    let drafts: Vec<_> = store
        .formations(a.id, store::Visibility::All, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.status == "brouillon")
        .collect();
    // A draft of the member the editor edits, and one of another member.
    let own_draft = drafts.iter().find(|f| f.provider_id == support);
    let other_draft = drafts
        .iter()
        .find(|f| f.provider_id != support)
        .expect("draft");
    let roles = [
        ("visitor", None),
        ("learner_a", Some("apprenant.demo@example.org")),
        ("observer_a", Some("observation.demo@example.org")),
        ("editor_a", Some("redaction.demo@example.org")),
        ("manager_a", Some("equipe.demo@example.org")),
        ("manager_b", Some("equipe.demo-b@example.org")),
        ("editor_b", Some("redaction.demo-b@example.org")),
        ("admin", Some("admin.reseau@example.org")),
    ];
    let support_member = store.member(support).await.unwrap().unwrap();
    let member_update = json!({
        "name": support_member.name, "kind": support_member.kind, "uai": support_member.uai,
        "code_insee": support_member.code_insee, "status": support_member.status,
        "postcode": support_member.postcode, "description": support_member.description,
        "joined_on": support_member.joined_on
    });
    let formation_write = json!({
        "key": "matrice-1", "title": "Formation de la matrice d'autorisation", "certification_code": 113050,
        "pathway": "scolaire", "modality": "presentiel", "provider_id": support, "status": "brouillon"
    });
    let member_form: Vec<(&str, String)> = vec![
        ("nom", support_member.name.clone()),
        ("type", support_member.kind.clone()),
        ("uai", support_member.uai.clone().unwrap_or_default()),
        (
            "code_insee",
            support_member.code_insee.clone().unwrap_or_default(),
        ),
        (
            "code_postal",
            support_member.postcode.clone().unwrap_or_default(),
        ),
        (
            "description",
            support_member.description.clone().unwrap_or_default(),
        ),
        (
            "date_adhesion",
            support_member.joined_on.clone().unwrap_or_default(),
        ),
        ("statut", support_member.status.clone()),
    ];
    let formation_form: Vec<(&str, String)> = vec![
        ("intitule", other_draft.title.clone()),
        (
            "certifinfo",
            other_draft
                .certification_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ),
        ("voie", other_draft.pathway.clone()),
        ("modalite", other_draft.modality.clone()),
        (
            "code_insee_lieu",
            other_draft.site_code_insee.clone().unwrap_or_default(),
        ),
        (
            "capacite",
            other_draft
                .capacity
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ),
        ("statut", other_draft.status.clone()),
    ];
    let campus_form: Vec<(&str, String)> = vec![
        ("nom", a.name.clone()),
        ("filiere", a.sector.clone()),
        ("theme", a.theme.clone().unwrap_or_default()),
        ("label_debut", a.label_start.clone().unwrap_or_default()),
        ("label_fin", a.label_end.clone().unwrap_or_default()),
        ("fuseau", a.time_zone.clone()),
        ("support", support.to_string()),
        ("perimetre", "departement:973".to_owned()),
    ];
    // An account for the management routes to act on.
    let (target, _) = d
        .app
        .create_account(
            &app::Actor::operator(),
            &app::accounts::NewAccount {
                email: "cible.matrice@example.org".into(),
                display_name: "Cible (fictive)".into(),
                password: None,
                grants: vec![app::policy::Grant {
                    role: domain::accounts::Role::Learner,
                    campus_id: Some(a.id),
                    member_id: None,
                }],
            },
        )
        .await
        .unwrap();
    let campaign = store
        .create_campaign(a.id, "Campagne de la matrice", "2020-01-01", "2099-12-31")
        .await
        .unwrap();
    let support_text = support.to_string();
    let mut cases = 0;
    let mut routes = web::route_list();
    // Signing out last, so that each role keeps its session for the others.
    routes.sort_by_key(|r| r.path == "/deconnexion");
    for (role, email) in roles {
        // Each role fails its sign-in on its own address, so that the
        // failures do not add up to the throttling limit.
        let fake_email = format!("inconnu.{role}@example.org");
        let mut b = match email {
            Some(e) => d.browser(e).await,
            None => Browser::default(),
        };
        // A token of this role's own, to revoke.
        let own_token = match email {
            Some(e) => {
                d.app.create_token_for(e, "matrice", false).await.unwrap();
                let user = store.user_by_email(e).await.unwrap().unwrap();
                store.tokens(user.id).await.unwrap()[0].id.to_string()
            }
            None => "1".to_owned(),
        };
        for route in &routes {
            let (uri, expect): (String, Expect) = match (route.method, route.path.as_str()) {
                (
                    "GET",
                    "/healthz"
                    | "/static/style.css"
                    | "/"
                    | "/membres"
                    | "/formations"
                    | "/metiers"
                    | "/donnees"
                    | "/connexion"
                    | "/api/v1/openapi.json"
                    | "/api/v1/formations"
                    | "/api/v1/occupations"
                    | "/api/v1/members"
                    | "/api/v1/campuses",
                ) => (route.path.clone(), Expect::all(200)),
                (
                    "GET",
                    "/inscription" | "/confidentialite" | "/mentions-legales" | "/accessibilite",
                ) => (route.path.clone(), Expect::all(200)),
                ("GET", "/mot-de-passe-oublie" | "/reinitialisation") => {
                    (route.path.clone(), Expect::all(200))
                }
                // The same answer whether or not the address has an account.
                ("POST", "/mot-de-passe-oublie") => (route.path.clone(), Expect::all(200)),
                ("POST", "/reinitialisation") => (route.path.clone(), Expect::all(422)),
                // A link that does not exist.
                ("GET", "/invitation") => ("/invitation?jeton=inconnu".into(), Expect::all(404)),
                ("POST", "/invitation") => (route.path.clone(), Expect::all(404)),
                ("POST", "/membres/{id}/inviter") => (
                    format!("/membres/{support}/inviter"),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/rejoindre") => {
                    ("/campus/demo/rejoindre".into(), Expect::all(200))
                }
                // A wrong SIRET: refused for everyone.
                ("POST", "/campus/{slug}/rejoindre") => {
                    ("/campus/demo/rejoindre".into(), Expect::all(422))
                }
                ("GET", "/campus/{slug}/demandes") => (
                    "/campus/demo/demandes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // A request that does not exist (real decisions: `mail_flows`).
                ("POST", "/campus/{slug}/demandes/{id}") => {
                    ("/campus/demo/demandes/999999".into(), Expect::all(404))
                }
                ("GET" | "POST", "/campus/{slug}/modifier") => (
                    "/campus/demo/modifier".into(),
                    Expect {
                        visitor: 401,
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/admin/pages/{slug}") => (
                    "/admin/pages/mentions-legales".into(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // Too short a text: refused even for the admin, nothing changed.
                ("POST", "/admin/pages/{slug}") => (
                    "/admin/pages/mentions-legales".into(),
                    Expect {
                        visitor: 401,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/admin/comptes") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/admin/comptes/{id}/desactiver" | "/admin/comptes/{id}/reactiver") => (
                    route.path.replace("{id}", &target.to_string()),
                    Expect {
                        visitor: 401,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/comptes") => (
                    "/campus/demo/comptes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/campus/{slug}/comptes") => (
                    "/campus/demo/comptes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                // A role that does not exist (real removals: `account_admin`).
                ("POST", "/roles/{id}/retirer") => {
                    ("/roles/999999/retirer".into(), Expect::all(404))
                }
                // An empty registration: refused for everyone, nothing created.
                ("POST", "/inscription") => (route.path.clone(), Expect::all(422)),
                ("GET", "/compte/donnees" | "/compte/profil") => {
                    (route.path.clone(), Expect::signed(303, 200))
                }
                ("GET", "/compte/donnees.json" | "/compte/donnees.csv") => {
                    (route.path.clone(), Expect::signed(401, 200))
                }
                // An empty name, a wrong password: refused, nothing changed.
                ("POST", "/compte/profil" | "/compte/supprimer") => {
                    (route.path.clone(), Expect::signed(401, 422))
                }
                ("GET", "/registre-rgpd") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}" | "/campus/{slug}/membres") => {
                    (route.path.replace("{slug}", "demo"), Expect::all(200))
                }
                // Editing the support member (published): its editors, its campus, the network.
                ("GET" | "POST", "/membres/{id}/modifier") => (
                    format!("/membres/{support}/modifier"),
                    Expect {
                        visitor: 401,
                        editor_a: if route.method == "GET" { 200 } else { 303 },
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(403)
                    },
                ),
                // Editing a draft of another provider: invisible to everyone else.
                ("GET" | "POST", "/formations/{id}/modifier") => (
                    format!("/formations/{}/modifier", other_draft.id),
                    Expect {
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(404)
                    },
                ),
                // The audit log of campus A: its managers and the network.
                ("GET", "/campus/{slug}/journal") => (
                    "/campus/demo/journal".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // The observatory's sector mapping: an empty one restores the
                // filière's defaults (its managers and the network).
                ("POST", "/campus/{slug}/observatoire/secteur") => (
                    "/campus/demo/observatoire/secteur".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                // The needs survey of campus A: campaigns and results for
                // its team and observers; opening one for its managers (an
                // empty form is refused); answering for a member employer.
                ("POST", "/campus/{slug}/enquetes") => (
                    "/campus/demo/enquetes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 422,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                // The observatory of campus A (page, exports, JSON) and its
                // survey's campaigns and results: aggregates for its managers
                // and observers, and the network.
                (
                    "GET",
                    "/campus/{slug}/observatoire"
                    | "/campus/{slug}/observatoire/{table}"
                    | "/api/v1/campuses/{slug}/observatory"
                    | "/campus/{slug}/enquetes"
                    | "/campus/{slug}/enquetes/{id}"
                    | "/campus/{slug}/enquetes/{id}/resultats.csv",
                ) => (
                    route
                        .path
                        .replace("{slug}", "demo")
                        .replace("{table}", "ecart.csv")
                        .replace("{id}", &campaign.to_string()),
                    Expect {
                        visitor: 401,
                        observer_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/enquetes/{id}/reponse") => (
                    format!("/campus/demo/enquetes/{campaign}/reponse"),
                    Expect {
                        visitor: 401,
                        editor_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // For the support lycée, which is not an employer: refused
                // (422) for those who may write for it, 403 for the others.
                ("POST", "/campus/{slug}/enquetes/{id}/reponse") => (
                    format!("/campus/demo/enquetes/{campaign}/reponse"),
                    Expect {
                        visitor: 401,
                        editor_a: 422,
                        manager_a: 422,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/metiers/{code}") => ("/metiers/K1207".into(), Expect::all(200)),
                ("GET", "/api/v1/occupations/{code_rome}") => {
                    ("/api/v1/occupations/K1207".into(), Expect::all(200))
                }
                ("GET", "/certifications/{code}" | "/api/v1/certifications/{code}") => {
                    (route.path.replace("{code}", "111669"), Expect::all(200))
                }
                // A draft member of campus A: its team and the network only.
                ("GET", "/membres/{id}" | "/api/v1/members/{id}") => (
                    route.path.replace("{id}", &draft_member.id.to_string()),
                    Expect {
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(404)
                    },
                ),
                // A draft formation of another provider than the editor's.
                ("GET", "/formations/{id}" | "/api/v1/formations/{id}") => (
                    route.path.replace("{id}", &other_draft.id.to_string()),
                    Expect {
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(404)
                    },
                ),
                ("GET", "/compte") => ("/compte".into(), Expect::signed(303, 200)),
                ("GET", "/api/v1/me") => ("/api/v1/me".into(), Expect::signed(401, 200)),
                ("POST", "/connexion") => ("/connexion".into(), Expect::all(422)),
                // Only a session awaiting its second factor has anything to do here.
                ("GET" | "POST", "/connexion/code") => ("/connexion/code".into(), Expect::all(303)),
                ("GET", "/compte/double-authentification") => {
                    (route.path.clone(), Expect::signed(303, 200))
                }
                // A wrong code: refused, unless the second factor is already on.
                ("POST", "/compte/double-authentification") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        manager_b: 303,
                        admin: 303,
                        ..Expect::all(422)
                    },
                ),
                ("POST", "/deconnexion") => ("/deconnexion".into(), Expect::all(303)),
                ("POST", "/compte/sessions/terminer") => {
                    ("/compte/sessions/terminer".into(), Expect::signed(401, 303))
                }
                ("POST", "/compte/jetons") => ("/compte/jetons".into(), Expect::signed(401, 200)),
                ("POST", "/compte/jetons/{id}/revoquer") => (
                    route.path.replace("{id}", &own_token),
                    Expect::signed(401, 303),
                ),
                // Updating the support member: its editors, its campus, the network.
                ("POST", "/api/v1/campuses/{slug}/members") => (
                    "/api/v1/campuses/demo/members".into(),
                    Expect {
                        visitor: 401,
                        editor_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/api/v1/campuses/{slug}/formations") => (
                    "/api/v1/campuses/demo/formations".into(),
                    Expect {
                        visitor: 401,
                        editor_a: 0,
                        manager_a: 0,
                        admin: 0,
                        ..Expect::all(403)
                    },
                ),
                (m, p) => panic!("route {m} {p} has no entry in the authorization matrix"),
            };
            let mut call = if route.method == "GET" {
                Call::get(&uri)
            } else {
                Call::post(&uri)
            };
            call = call.cookie(b.cookie.as_deref());
            if uri.starts_with("/api/") && route.method == "POST" {
                let body = if uri.ends_with("/members") {
                    member_update.clone()
                } else {
                    formation_write.clone()
                };
                call = call.json(body).header("x-csrf-token", &b.csrf);
            } else if route.method == "POST" {
                let mut form = vec![("csrf", b.csrf.as_str())];
                match route.path.as_str() {
                    "/connexion" => form.extend([
                        ("email", fake_email.as_str()),
                        ("mot_de_passe", "mauvais mot de passe"),
                    ]),
                    "/compte/sessions/terminer" => form.push(("session", "inconnue")),
                    "/connexion/code" | "/compte/double-authentification" => {
                        form.push(("code", "000000"))
                    }
                    "/compte/profil" => form.push(("nom", "")),
                    "/campus/{slug}/comptes" => {
                        form.extend([("email", "cible.matrice@example.org"), ("role", "observer")])
                    }
                    "/admin/pages/{slug}" => form.push(("texte", "court")),
                    "/campus/{slug}/modifier" => {
                        form.extend(campus_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    "/mot-de-passe-oublie" | "/membres/{id}/inviter" => {
                        form.push(("email", fake_email.as_str()))
                    }
                    "/reinitialisation" => form.extend([
                        ("jeton", "inconnu"),
                        ("mot_de_passe", "une phrase de passe assez longue"),
                    ]),
                    "/invitation" => form.push(("jeton", "inconnu")),
                    "/campus/{slug}/rejoindre" => form.extend([
                        ("nom", "Organisation fictive"),
                        ("type", "employeur"),
                        ("siret", "123"),
                        ("contact_email", "contact@example.org"),
                    ]),
                    "/campus/{slug}/demandes/{id}" => form.push(("decision", "accepter")),
                    "/campus/{slug}/enquetes/{id}/reponse" => form.extend([
                        ("membre", support_text.as_str()),
                        ("code_rome", "J1501"),
                        ("recrutements", "2"),
                    ]),
                    "/compte/supprimer" => form.push(("mot_de_passe", "pas le bon mot de passe")),
                    "/compte/jetons" => form.push(("nom", "matrice")),
                    "/membres/{id}/modifier" => {
                        form.extend(member_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    "/formations/{id}/modifier" => {
                        form.extend(formation_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    _ => {}
                }
                call = call.form(form);
            }
            let res = call.send(r).await;
            let want = expect.get(role);
            let got = res.status.as_u16();
            // 0: created the first time, unchanged afterwards.
            let ok = if want == 0 {
                got == 201 || got == 200
            } else {
                got == want
            };
            assert!(
                ok,
                "{role} {} {uri}: got {got}, want {want}\n{}",
                route.method,
                &res.body[..res.body.len().min(300)]
            );
            cases += 1;
        }
        b.cookie = None;
    }
    // Guessing the ids of another campus gives nothing either.
    let b = d.browser("equipe.demo-b@example.org").await;
    if let Some(own) = own_draft {
        let uri = format!("/formations/{}", own.id);
        assert_eq!(
            Call::get(&uri)
                .cookie(b.cookie.as_deref())
                .send(r)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let page = Call::get(&format!("/membres/{support}"))
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        !page.body.contains("example.org"),
        "contacts of campus A stay private"
    );
    let listed = Call::get("/api/v1/formations?campus=demo&q=matrice")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(
        listed.json()["total"],
        0,
        "campus A's drafts are not searchable from B"
    );
    let editor = d.browser("redaction.demo@example.org").await;
    let own = Call::get(&format!("/membres/{support}"))
        .cookie(editor.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        own.body.contains("example.org"),
        "an editor sees their own organisation's contacts"
    );
    cases
}

async fn audit_log(d: &Demo) {
    let r = &d.router;
    let v = d.app.verify_audit().await.unwrap();
    assert_eq!(v.broken, None);
    assert!(v.entries > 20, "{v:?}");
    let all = d.app.store().audit_after(0, 10_000).await.unwrap();
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

/// The last mail queued for `to`, and the secret of the link it carries.
async fn last_mail(d: &Demo, to: &str) -> (store::MailRow, String) {
    let mail = d
        .app
        .store()
        .outbox(1_000)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.to_address == to)
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let at = mail.body.find("jeton=").expect("a link") + "jeton=".len();
    let token: String = mail.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (mail, token)
}

async fn mail_flows(d: &Demo) {
    let r = &d.router;
    // Forgotten password: the same answer for any address; a single-use,
    // expiring link; every session ends with the new password.
    let email = "observation.demo@example.org";
    let old = d.browser(email).await;
    let known = Call::post("/mot-de-passe-oublie")
        .form(vec![("email", email)])
        .send(r)
        .await;
    let unknown = Call::post("/mot-de-passe-oublie")
        .form(vec![("email", "personne@example.org")])
        .send(r)
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, unknown.body);
    let (mail, token) = last_mail(d, email).await;
    assert!(mail.body.contains("/reinitialisation?jeton="));
    assert_eq!(
        Call::get(&format!("/reinitialisation?jeton={token}"))
            .send(r)
            .await
            .status,
        StatusCode::OK
    );
    let weak = Call::post("/reinitialisation")
        .form(vec![("jeton", &token), ("mot_de_passe", "court")])
        .send(r)
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &token),
            ("mot_de_passe", "un tout nouveau mot de passe"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Call::get("/compte")
            .cookie(old.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "sessions ended"
    );
    let again = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &token),
            ("mot_de_passe", "encore un autre mot de passe"),
        ])
        .send(r)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");
    sign_in(d, email, "un tout nouveau mot de passe").await;
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
        "the old password is gone"
    );
    Call::post("/mot-de-passe-oublie")
        .form(vec![("email", email)])
        .send(r)
        .await;
    let (_, late) = last_mail(d, email).await;
    d.app.config.clock.advance(chrono::Duration::minutes(61));
    let res = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &late),
            ("mot_de_passe", "un mot de passe trop tardif"),
        ])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired after an hour"
    );

    // Invitation of a member editor by a campus manager.
    let a = d.app.campus("demo").await.unwrap();
    let support = a.support_member_id.unwrap();
    let manager = d.browser("equipe.demo@example.org").await;
    let invited = "nouvelle.redaction@example.org";
    let res = Call::post(&format!("/membres/{support}/inviter"))
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("email", invited)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let (_, token) = last_mail(d, invited).await;
    let page = Call::get(&format!("/invitation?jeton={token}"))
        .send(r)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Lycée polyvalent Bertène Juminer"));
    let res = Call::post("/invitation")
        .form(vec![
            ("jeton", &token),
            ("nom", "Nouvelle rédaction (fictive)"),
            ("mot_de_passe", "un mot de passe pour la fiche"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let editor = sign_in(d, invited, "un mot de passe pour la fiche").await;
    let form = Call::get(&format!("/membres/{support}/modifier"))
        .cookie(editor.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(
        form.status,
        StatusCode::OK,
        "the invitation granted the member editor role"
    );
    assert_eq!(
        Call::get(&format!("/invitation?jeton={token}"))
            .send(r)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "used once"
    );

    // An organisation asks to join; the manager accepts; its contact is invited.
    let res = Call::post("/campus/demo/rejoindre")
        .form(vec![
            ("nom", "Crèche Les Lucioles (fictive)"),
            ("type", "etablissement-medico-social"),
            ("siret", "99100004300000"),
            ("code_insee", "97302"),
            ("contact_email", "direction.lucioles@example.org"),
            ("message", "Nous accueillons des stagiaires du CAP AEPE."),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("Demande envoyée"));
    let requests = d.app.store().join_requests(a.id).await.unwrap();
    let req = requests
        .iter()
        .find(|q| q.name == "Crèche Les Lucioles (fictive)")
        .unwrap();
    let uri = format!("/campus/demo/demandes/{}", req.id);
    let other = d.browser("equipe.demo-b@example.org").await;
    assert_eq!(
        Call::get("/campus/demo/demandes")
            .cookie(other.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let res = Call::post(&uri)
        .cookie(other.cookie.as_deref())
        .form(vec![("csrf", &other.csrf), ("decision", "accepter")])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "another campus' manager cannot decide"
    );
    let list = Call::get("/campus/demo/demandes")
        .cookie(manager.cookie.as_deref())
        .send(r)
        .await;
    assert!(list.body.contains("Crèche Les Lucioles"));
    let res = Call::post(&uri)
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("decision", "accepter")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let decided = d.app.store().join_request(req.id).await.unwrap().unwrap();
    assert_eq!(decided.decision.as_deref(), Some("acceptee"));
    assert!(
        decided.contact_email.is_none(),
        "the contact address is not kept after the decision"
    );
    let member = d
        .app
        .store()
        .member(decided.member_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.status, "brouillon");
    last_mail(d, "direction.lucioles@example.org").await;
    let res = Call::post(&uri)
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("decision", "refuser")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "decided once");
}

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

async fn run_all(url: String) {
    let d = demo(url).await;
    sessions_and_csrf(&d).await;
    throttling(&d).await;
    tokens(&d).await;
    headers_on_every_route(&d).await;
    let n = authorization_matrix(&d).await;
    survey(&d).await;
    editing(&d).await;
    second_factor(&d).await;
    mail_flows(&d).await;
    account_admin(&d).await;
    audit_log(&d).await;
    // Last: its purge moves the clock three years ahead.
    personal_data(&d).await;
    println!(
        "authorization matrix: {n} cases ({} routes × 8 roles)",
        web::route_list().len()
    );
}

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

#[tokio::test]
async fn accounts_on_sqlite() {
    run_all(store::testing::sqlite_url("auth")).await;
}

#[tokio::test]
async fn accounts_on_postgres() {
    if let Some(url) = store::testing::postgres_url("auth").await {
        run_all(url).await;
    }
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

/// Creates a network admin account (generated password) on a bare app.
async fn network_admin(app: &app::App, email: &str, name: &str) {
    app.create_account(
        &app::Actor::operator(),
        &app::accounts::NewAccount {
            email: email.into(),
            display_name: name.into(),
            password: None,
            grants: vec![app::policy::Grant {
                role: domain::accounts::Role::NetworkAdmin,
                campus_id: None,
                member_id: None,
            }],
        },
    )
    .await
    .unwrap();
}

/// A minimal SMTP server for one message: answers like a relay and hands
/// back what it received.
async fn fake_smtp() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut transcript = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            transcript.push_str(&line);
            transcript.push('\n');
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else if line.starts_with("EHLO") || line.starts_with("HELO") {
                b"250 test\r\n"
            } else if line == "DATA" {
                in_data = true;
                b"354 go ahead\r\n"
            } else if line == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = tx.send(transcript);
    });
    (port, rx)
}

/// With an SMTP server configured, the outbox is sent and marked sent.
#[tokio::test]
async fn mail_goes_out_through_smtp() {
    let (port, received) = fake_smtp().await;
    let mut config = app::Config::new(store::testing::sqlite_url("smtp"), data_dir());
    config.password_cost = app::config::PasswordCost::for_tests();
    config.smtp = Some(app::config::Smtp {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "Passerelle <ne-pas-repondre@example.org>".into(),
    });
    let app = app::App::open(config).await.unwrap();
    network_admin(&app, "dominique@example.org", "Dominique (fictive)").await;
    app.request_password_reset("dominique@example.org", &Default::default())
        .await
        .unwrap();
    assert_eq!(app.send_outbox().await.unwrap(), 1);
    let transcript = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(
        transcript.contains("RCPT TO:<dominique@example.org>"),
        "{transcript}"
    );
    assert!(
        transcript.contains("reinitialisation?jeton="),
        "{transcript}"
    );
    let outbox = app.store().outbox(10).await.unwrap();
    assert!(outbox[0].sent_at.is_some());
    assert_eq!(app.send_outbox().await.unwrap(), 0, "sent once");
}
