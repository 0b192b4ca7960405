//! Who is asking, and whether a state-changing request really comes from
//! this site.
//!
//! One middleware ([`layer`]) runs before every handler: it resolves the
//! session cookie or the bearer token once, refuses forged state-changing
//! requests (CSRF), and stores the result in the request's extensions, where
//! the [`RequestActor`] and [`Nav`] extractors find it. It also sets the
//! security headers of every response.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::accounts::{ClientInfo, CurrentSession, SESSION_COOKIE};
use app::{Actor, App, AppError};

use crate::error::WebError;

/// Largest form body read for the CSRF check.
const FORM_LIMIT: usize = 1 << 20;

/// Name of the CSRF field in forms (and of the `X-CSRF-Token` header for
/// scripts).
pub const CSRF_FIELD: &str = "csrf";

/// What the middleware learnt about the request.
#[derive(Clone)]
pub struct Auth {
    /// The actor: visitor, session holder or token holder.
    pub actor: Actor,
    /// The browser session, when the request carries a live one.
    pub session: Option<CurrentSession>,
    /// Whether the actor came from a bearer token (API clients).
    pub via_token: bool,
    /// Nonce of this response's Content-Security-Policy.
    pub nonce: String,
    /// Address and browser of the client.
    pub client: ClientInfo,
}

/// The actor behind a request.
pub struct RequestActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for RequestActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestActor(
            parts
                .extensions
                .get::<Auth>()
                .map(|a| a.actor.clone())
                .unwrap_or_default(),
        ))
    }
}

/// What the page header needs: who is signed in, the CSRF token of the
/// sign-out form, and the CSP nonce.
#[derive(Clone, Default)]
pub struct Nav {
    /// Display name of the signed-in person.
    pub user: Option<String>,
    /// CSRF token of the session ("" for visitors).
    pub csrf: String,
    /// CSP nonce for inline scripts (none are used today).
    pub nonce: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Nav {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Auth>()
            .map(Nav::of)
            .unwrap_or_default())
    }
}

impl Nav {
    fn of(auth: &Auth) -> Nav {
        Nav {
            user: auth
                .session
                .as_ref()
                .and_then(|s| s.actor.principal.as_ref())
                .map(|p| p.display_name.clone()),
            csrf: auth
                .session
                .as_ref()
                .map(|s| s.csrf.clone())
                .unwrap_or_default(),
            nonce: auth.nonce.clone(),
        }
    }
}

/// The live session of the request, for handlers that need it (sign-out,
/// account pages).
pub struct Session(pub Option<CurrentSession>);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Session(
            parts
                .extensions
                .get::<Auth>()
                .and_then(|a| a.session.clone()),
        ))
    }
}

/// Address and browser of the client, for throttling and sessions.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<Auth>()
                .map(|a| a.client.clone())
                .unwrap_or_default(),
        ))
    }
}

/// Client address and browser, for throttling and the list of sessions.
fn client_info(
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trusted: &[app::config::IpNet],
) -> ClientInfo {
    ClientInfo {
        ip: peer.map(|p| client_ip(headers, p.ip(), trusted)),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(160).collect()),
    }
}

/// The client's address. The peer of the connection, unless it is one of
/// the trusted proxies: then `X-Forwarded-For` is read from the right
/// (each proxy appends the address it received from) and the first address
/// that is not a trusted proxy is the client. Everything left of it was
/// written by the client itself and is ignored, so a client cannot pick
/// the address it is counted under.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    peer: std::net::IpAddr,
    trusted: &[app::config::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        let parsed = hop
            .parse::<std::net::IpAddr>()
            .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()));
        match parsed {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage in the chain: the last address vouched for is used.
            Err(_) => return client,
        }
    }
    client
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// `Set-Cookie` for a new session: `__Host-` prefix, `Secure`, `HttpOnly`,
/// `SameSite=Lax`, whole site, ends with the browser (the server ends it
/// earlier, see `app::config::SessionLimits`).
pub fn session_cookie_header(value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .expect("cookie values are base64url")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie_header() -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .expect("static cookie")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a state-changing request comes from a page of this site: the
/// browser's `Sec-Fetch-Site` when it sends one, else `Origin` compared
/// with `Host`. A request with neither is not from a modern browser's
/// cross-site form, but it carries no proof either: it is refused unless it
/// authenticates with a bearer token (programs).
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The form field `csrf` of an URL-encoded body.
fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned())
}

fn refuse(api: bool, e: AppError) -> Response {
    if api {
        WebError::api(e).into_response()
    } else {
        WebError::page(e).into_response()
    }
}

/// What the middleware needs: the application and this server's rate
/// limiter of anonymous API requests.
#[derive(Clone)]
pub struct AuthState {
    /// The application.
    pub app: App,
    /// `None` when the configuration disables the limit.
    pub limiter: Option<std::sync::Arc<crate::limit::Limiter>>,
}

/// The middleware; see the module documentation.
pub async fn layer(State(state): State<AuthState>, req: Request, next: Next) -> Response {
    let app = &state.app;
    let nonce = app::accounts::random_secret(16);
    let api = req.uri().path().starts_with("/api/");
    let (mut parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let mut auth = Auth {
        actor: Actor::visitor(),
        session: None,
        via_token: false,
        nonce: nonce.clone(),
        client: client_info(&parts.headers, peer, &app.config.trusted_proxies),
    };
    // The anonymous API limit counts what did not authenticate: a request
    // merely carrying some `Cookie` or a wrong token is counted too.
    let limited = |auth: &Auth| -> Option<Response> {
        if !api || auth.via_token || auth.session.is_some() {
            return None;
        }
        crate::limit::check(state.limiter.as_deref(), auth.client.ip)
    };
    if let Some(token) = bearer(&parts.headers) {
        match app.token_actor(token).await {
            Ok(Some(actor)) => {
                auth.actor = actor;
                auth.via_token = true;
            }
            // A wrong token is an error, not a silent visitor: the program
            // must learn that its credentials are bad.
            Ok(None) => {
                return limited(&auth).unwrap_or_else(|| refuse(true, AppError::Unauthorized))
            }
            Err(e) => return refuse(api, e),
        }
    } else if let Some(cookie) = session_cookie(&parts.headers) {
        match app.session(&cookie).await {
            Ok(Some(s)) => {
                auth.actor = s.actor.clone();
                auth.session = Some(s);
            }
            Ok(None) => {}
            Err(e) => return refuse(api, e),
        }
    }
    if let Some(res) = limited(&auth) {
        return res;
    }
    let mut body = body;
    // A token is not sent by browsers on their own, and an API request with
    // no credentials at all can do nothing (it gets 401): neither can be
    // forged. Page forms (sign-in included) and anything a session cookie
    // authenticates must prove they come from this site.
    let forgeable = !auth.via_token && (!api || auth.session.is_some());
    if !is_safe(&parts.method) && forgeable {
        if !same_origin(&parts.headers) {
            tracing::warn!(path = %parts.uri.path(), "cross-site request refused");
            return refuse(api, AppError::Forbidden);
        }
        if let Some(session) = &auth.session {
            let header_token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let given = match header_token {
                Some(t) => Some(t),
                None => {
                    let bytes = match to_bytes(body, FORM_LIMIT).await {
                        Ok(b) => b,
                        Err(_) => {
                            return refuse(
                                api,
                                AppError::Invalid(vec![domain::network::FieldError::new(
                                    "corps",
                                    "formulaire trop volumineux",
                                )]),
                            )
                        }
                    };
                    let t = form_token(&bytes);
                    body = Body::from(bytes);
                    t
                }
            };
            if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), session.csrf.as_bytes())) {
                tracing::warn!(path = %parts.uri.path(), "CSRF token missing or wrong");
                return refuse(api, AppError::Forbidden);
            }
        }
    }
    let signed_in = auth.session.is_some() || auth.via_token;
    auth.actor.origin = auth.client.ip.map(app::accounts::ip_prefix);
    parts.extensions.insert(auth);
    let mut res = next.run(Request::from_parts(parts, body)).await;
    security_headers(res.headers_mut(), &nonce, app.config.https, signed_in);
    res
}

/// Headers every response carries. Scripts only with this response's nonce
/// (no page needs one today); nothing may frame the site; personal pages
/// are never cached.
fn security_headers(h: &mut HeaderMap, nonce: &str, https: bool, signed_in: bool) {
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    // What a signed-in person sees may hold personal data; only responses
    // that chose a policy of their own (the stylesheet) keep it.
    if signed_in && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if signed_in {
        h.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Authorization"),
        );
    }
}
