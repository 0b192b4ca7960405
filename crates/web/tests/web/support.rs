//! What every module of the web tests shares: requests through the router
//! (`Call`, `Res`), a signed-in browser, and a fresh demonstration on its
//! own database for each test (`demo`), on SQLite and on PostgreSQL
//! (`on_both_backends!`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

pub use axum::body::{to_bytes, Body};
pub use axum::http::{header, Request, StatusCode};
pub use axum::Router;
pub use serde_json::{json, Value};
pub use tower::ServiceExt;

/// Declares, for each scenario `name(&Demo)` of the module, a test
/// `name::on_sqlite` and a test `name::on_postgres`, each on a fresh
/// demonstration of its own: one failure names one behaviour on one
/// backend. `setup = path;` first gives another fixture than [`demo`].
#[macro_export]
macro_rules! on_both_backends {
    (setup = $setup:path; $($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn on_sqlite() {
                let url = store::testing::sqlite_url(stringify!($scenario));
                super::$scenario(&$setup(url).await).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(url) = store::testing::postgres_url(stringify!($scenario)).await {
                    super::$scenario(&$setup(url).await).await;
                }
            }
        }
    )*};
    ($($scenario:ident),* $(,)?) => {
        $crate::on_both_backends!(setup = $crate::support::demo; $($scenario),*);
    };
}

pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// The origin the test requests claim to come from.
pub const HOST: &str = "localhost";

pub const ORIGIN: &str = "http://localhost";

pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The session cookie the response sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("__Host-passerelle="))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// One request. `form` is sent URL-encoded, `json` as JSON; `extra` adds
/// headers (they replace the default Host / Origin when named alike).
pub struct Call<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub cookie: Option<&'a str>,
    pub bearer: Option<&'a str>,
    pub form: Option<Vec<(&'a str, &'a str)>>,
    pub json: Option<Value>,
    pub extra: Vec<(&'a str, &'a str)>,
}

impl<'a> Call<'a> {
    pub fn get(uri: &'a str) -> Self {
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

    pub fn post(uri: &'a str) -> Self {
        Self {
            method: "POST",
            ..Self::get(uri)
        }
    }

    pub fn cookie(mut self, c: Option<&'a str>) -> Self {
        self.cookie = c;
        self
    }

    pub fn bearer(mut self, t: &'a str) -> Self {
        self.bearer = Some(t);
        self
    }

    pub fn form(mut self, f: Vec<(&'a str, &'a str)>) -> Self {
        self.form = Some(f);
        self
    }

    pub fn json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }

    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra.push((name, value));
        self
    }

    pub async fn send(self, router: &Router) -> Res {
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
pub struct Browser {
    pub cookie: Option<String>,
    pub csrf: String,
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub async fn sign_in(d: &Demo, email: &str, password: &str) -> Browser {
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

pub struct Demo {
    pub app: app::App,
    pub router: Router,
    pub passwords: HashMap<String, String>,
}

pub async fn demo(url: String) -> Demo {
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
    pub async fn browser(&self, email: &str) -> Browser {
        sign_in(self, email, &self.passwords[email]).await
    }
}

/// The last mail queued for `to`, and the secret of the link it carries.
pub async fn last_mail(d: &Demo, to: &str) -> (store::MailRow, String) {
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

/// Creates a network admin account (generated password) on a bare app.
pub async fn network_admin(app: &app::App, email: &str, name: &str) {
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
