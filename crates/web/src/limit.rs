//! Rate limit of the public API: a token bucket per client address prefix
//! (IPv4 /24, IPv6 /48), per server. Requests that authenticated (a live
//! session or a valid token) are not counted here; anything else is, even
//! when it carries a cookie or a wrong token (sign-in and account creation
//! have their own limits, kept in the database so that they hold across
//! servers); this one protects each server's CPU from anonymous floods,
//! which is a per-server matter. The client address is the one
//! `auth::client_ip` resolves (trusted proxies' `X-Forwarded-For`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

/// Above this many tracked addresses, idle buckets are dropped.
const MAX_TRACKED: usize = 10_000;

/// The buckets of one server.
pub struct Limiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// A limiter allowing `per_second` requests on average and `burst` at
    /// once; `None` when the configuration disables it.
    pub fn new(limit: Option<app::config::ApiRate>) -> Option<Arc<Limiter>> {
        limit.map(|l| {
            Arc::new(Limiter {
                per_second: l.per_second,
                burst: l.burst,
                buckets: Mutex::new(HashMap::new()),
            })
        })
    }

    /// Takes one token for `key`; the seconds to wait when there is none.
    fn take(&self, key: &str, now: Instant) -> Result<(), f64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > MAX_TRACKED {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *tokens) / self.per_second)
        }
    }
}

/// Takes a token for an anonymous API request from `ip`: `None` when it
/// may go on (or the limit is off, or the address is unknown), otherwise
/// the `429` to answer. Called by the authentication middleware once it
/// knows whether the request really authenticated.
pub fn check(limiter: Option<&Limiter>, ip: Option<IpAddr>) -> Option<Response> {
    let (limiter, ip) = (limiter?, ip?);
    let wait = limiter
        .take(&app::accounts::ip_prefix(ip), Instant::now())
        .err()?;
    let mut res = WebError::api(app::AppError::TooManyRequests).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}", wait.ceil().max(1.0) as u64)) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_the_configured_rate() {
        let l = Limiter::new(Some(app::config::ApiRate {
            per_second: 2.0,
            burst: 3.0,
        }))
        .unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take("a", t0).is_ok());
        }
        assert!(l.take("a", t0).is_err());
        assert!(l.take("b", t0).is_ok(), "per address");
        assert!(l
            .take("a", t0 + std::time::Duration::from_millis(500))
            .is_ok());
        assert!(l
            .take("a", t0 + std::time::Duration::from_millis(500))
            .is_err());
    }
}
