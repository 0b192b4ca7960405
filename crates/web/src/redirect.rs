//! Redirections. A `Location` is built from values that may come from a
//! visitor (the page to return to after signing in, a path parameter), so
//! it is checked the way a browser will read it, and building it never
//! panics (axum's `Redirect::to` does on a value that is not a valid header).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::{Position, Url};

/// Where people go after signing in when no valid page was asked for.
pub(crate) const DEFAULT_AFTER_SIGN_IN: &str = "/compte";

/// A `303 See Other` to a path of this site. A value that cannot be a
/// header (a control character), or that a browser would read as another
/// host (`//host`, `/\host`, a path parameter decoded into `/host`), sends
/// to the home page instead.
pub(crate) fn see_other(path: &str) -> Response {
    let local = path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\");
    let location = HeaderValue::try_from(path)
        .ok()
        .filter(|_| local)
        .unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The page to return to after signing in: `next` if, once resolved the
/// way a browser resolves it (WHATWG URL: tabs and newlines removed, `\`
/// read as `/`, dot segments applied), it stays on this site; otherwise
/// `/compte`. The result is the normalised, percent-encoded path, query
/// and fragment, so it is always a valid header.
pub(crate) fn local_path(next: Option<&str>) -> String {
    let Some(next) = next else {
        return DEFAULT_AFTER_SIGN_IN.to_owned();
    };
    // A browser silently drops tabs and newlines and trims control
    // characters and spaces: anything that needs such repairs is refused
    // rather than guessed at.
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return DEFAULT_AFTER_SIGN_IN.to_owned();
    }
    let base = Url::parse("https://passerelle.invalid/").expect("a valid constant URL");
    match base.join(next) {
        // A normalised path may still begin with `//` (`/.//host`): sent
        // as a `Location`, a browser would read it as another host.
        Ok(url) if url.origin() == base.origin() && !url.path().starts_with("//") => {
            url[Position::BeforePath..].to_owned()
        }
        _ => DEFAULT_AFTER_SIGN_IN.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_kept() {
        for ok in [
            "/formations?q=aide",
            "/a/../b",
            "/campus/demo#x",
            "/campus/demo/observatoire",
        ] {
            let kept = local_path(Some(ok));
            assert!(
                kept.starts_with('/') && !kept.starts_with("//"),
                "{ok} → {kept}"
            );
            assert_ne!(kept, DEFAULT_AFTER_SIGN_IN, "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/.//evil.example",
            "/a/..//evil.example",
            "/./\\evil.example",
            "https://evil.example/",
            " /evil",
            "/ /evil",
            "javascript:alert(1)",
            "/\u{0}x",
            "",
        ] {
            let kept = local_path(Some(bad));
            assert!(
                kept == DEFAULT_AFTER_SIGN_IN || (kept.starts_with('/') && !kept.starts_with("//")),
                "{bad:?} → {kept}"
            );
            assert!(HeaderValue::try_from(kept.as_str()).is_ok());
        }
        assert_eq!(local_path(Some("/\t/evil.example")), DEFAULT_AFTER_SIGN_IN);
        assert_eq!(local_path(Some("/\\evil.example")), DEFAULT_AFTER_SIGN_IN);
        assert_eq!(local_path(Some("/.//evil.example")), DEFAULT_AFTER_SIGN_IN);
        assert_eq!(
            local_path(Some("/a/..//evil.example")),
            DEFAULT_AFTER_SIGN_IN
        );
        // Non-ASCII paths come out percent-encoded, a valid header.
        assert_eq!(local_path(Some("/métiers")), "/m%C3%A9tiers");
    }

    #[test]
    fn a_bad_location_never_panics_nor_leaves_the_site() {
        for bad in [
            "/a\r\nSet-Cookie: x=y",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
        ] {
            let res = see_other(bad);
            assert_eq!(res.headers()[header::LOCATION], "/", "{bad:?}");
        }
        assert_eq!(
            see_other("/campus/demo").headers()[header::LOCATION],
            "/campus/demo"
        );
    }
}
