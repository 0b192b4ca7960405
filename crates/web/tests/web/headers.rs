//! Security headers on every route.

use crate::support::*;

crate::on_both_backends!(headers_on_every_route);

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
