//! The site and the API through HTTP, on the demonstration campus: each
//! scenario on a fresh demonstration of its own, on both backends.

use std::path::PathBuf;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// The test configuration: cheap password hashing (the only difference
/// from production), and an index on disk, as a server has, so that
/// tantivy's directory lock is exercised by the concurrent writes.
fn config(url: String) -> app::Config {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut config = app::Config::new(url, data_dir());
    config.password_cost = app::config::PasswordCost::for_tests();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    config.index_dir = Some(
        std::env::temp_dir()
            .join("passerelle-tests")
            .join(format!("index-{}-{n}", std::process::id())),
    );
    config
}

/// The demo campuses with their accounts, and a read-write token of the
/// network admin: what every scenario of this module starts from.
pub struct Site {
    app: app::App,
    router: Router,
    admin: String,
}

/// A fresh [`Site`] on its own database.
pub async fn site(url: String) -> Site {
    let (app, router, admin) = demo_app(url).await;
    Site { app, router, admin }
}

async fn demo_app(url: String) -> (app::App, Router, String) {
    let app = app::App::open(config(url)).await.expect("open");
    app.import_referentiels(&data_dir(), &|_| {})
        .await
        .expect("reference data");
    assert!(app.seed_demo().await.expect("demo"));
    let accounts = app.seed_demo_accounts().await.expect("demo accounts");
    assert_eq!(accounts.len(), 8);
    let token = app
        .create_token_for("admin.reseau@example.org", "tests", true)
        .await
        .expect("token");
    let router = web::router(app.clone());
    (app, router, token)
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Res {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
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

async fn get(router: &Router, uri: &str) -> Res {
    call(router, "GET", uri, None, None).await
}

fn titles(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["title"]
                .as_str()
                .or(i["name"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

crate::on_both_backends!(
    setup = crate::site::site;
    pages_answer_in_french,
    search_is_french_with_facets_and_pages,
    drafts_and_contacts_stay_private,
    writes_need_a_token_and_valid_identifiers,
    concurrent_writers_are_all_indexed,
    bad_requests_get_json_errors,
    invented_values_say_so,
    rome_fiches_through_the_api,
    lheo_quality_notes_are_for_staff,
);

/// Every main page answers in French with the security headers.
async fn pages_answer_in_french(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // Every main page answers in French with the security headers.
    for (uri, needle) in [
        ("/", "Les campus"),
        ("/campus/demo", "Services à la personne, bien-être"),
        ("/campus/demo/membres", "<svg"),
        ("/membres", "organisations"),
        ("/formations", "Catalogue des formations"),
        ("/metiers?q=aide", "Aide-soignant"),
        (
            "/metiers/K1207",
            "Educateur spécialisé / Educatrice spécialisée",
        ),
        ("/certifications/111669", "aide-soignant"),
        ("/donnees", "v460"),
    ] {
        let res = get(r, uri).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}");
        assert!(res.body.contains(needle), "{uri} lacks {needle}");
        assert!(res.body.contains("<html lang=\"fr\">"), "{uri}");
        let csp = res.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("object-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(res.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    assert_eq!(get(r, "/healthz").await.status, StatusCode::OK);
    assert_eq!(get(r, "/nulle-part").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(r, "/metiers/Z9999").await.status, StatusCode::NOT_FOUND);
}

/// French search (accents, stemming, a typo), facets and pages of
/// formations and members.
async fn search_is_french_with_facets_and_pages(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // French search: accents both ways, stemming, one typo.
    for q in ["educateur", "%C3%A9ducatrice", "EDUCATRICE"] {
        let v = get(r, &format!("/api/v1/occupations?q={q}")).await.json();
        assert_eq!(v["items"][0]["id"], "K1207", "{q}: {v}");
        assert_eq!(v["items"][0]["url"], "/metiers/K1207");
    }
    let v = get(r, "/api/v1/formations?q=soins%20infirmiers")
        .await
        .json();
    assert!(titles(&v).iter().any(|t| t.contains("infirmier")), "{v}");
    let v = get(r, "/api/v1/formations?q=auxilliaire").await.json();
    assert!(
        titles(&v)
            .iter()
            .any(|t| t.contains("auxiliaire de puériculture")),
        "{v}"
    );
    let v = get(r, "/api/v1/members?q=lycee%20juminer").await.json();
    assert!(titles(&v)[0].contains("Bertène Juminer"), "{v}");

    // Facets and pagination.
    let all = get(r, "/api/v1/formations").await.json();
    let total = all["total"].as_u64().unwrap();
    assert_eq!(
        total, 60,
        "published formations of both demo campuses (57 + 3)"
    );
    assert_eq!(all["pages"], 3);
    let p2 = get(r, "/api/v1/formations?page=2").await.json();
    assert_ne!(titles(&all), titles(&p2));
    assert_eq!(titles(&all).len(), 20);
    let appr = get(r, "/api/v1/formations?voie=apprentissage").await.json();
    let n_appr = appr["total"].as_u64().unwrap();
    assert!(n_appr > 0 && n_appr < total);
    assert!(appr["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["pathway"] == "apprentissage"));
    let facet = all["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == "voie")
        .unwrap();
    let counted = facet[1]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v[0] == "apprentissage")
        .unwrap()[1]
        .as_u64();
    assert_eq!(counted, Some(n_appr));
    let both = get(r, "/api/v1/formations?voie=apprentissage&niveau=3")
        .await
        .json();
    assert!(both["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["level"] == 3 && i["pathway"] == "apprentissage"));
    let page = get(r, "/formations?voie=apprentissage&q=cap").await;
    assert!(
        page.body.contains("checked"),
        "the chosen facet stays ticked"
    );

    // Members: facets by kind and département, pages.
    let lycees = get(r, "/api/v1/members?type=lycee").await.json();
    assert!(lycees["total"].as_u64().unwrap() >= 9, "{lycees}");
    assert!(lycees["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["kind"] == "lycee"));
    let dir = get(r, "/membres").await;
    assert!(
        dir.body.contains("Page 1 sur 2") && dir.body.contains("/membres?page=2"),
        "directory pages"
    );
    assert!(get(r, "/membres?page=2")
        .await
        .body
        .contains("Page 2 sur 2"));
    assert!(get(r, "/membres?type=lycee").await.body.contains("checked"));
}

/// Drafts and contacts are shown to staff only.
async fn drafts_and_contacts_stay_private(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // Drafts and contacts stay private.
    let demo = app.store().campus_by_slug("demo").await.unwrap().unwrap();
    let drafts: Vec<_> = app
        .store()
        .formations(demo.id, store::Visibility::All, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.status == "brouillon")
        .collect();
    assert_eq!(drafts.len(), 3);
    let draft = format!("/formations/{}", drafts[0].id);
    assert_eq!(get(r, &draft).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        call(r, "GET", &draft, Some(admin), None).await.status,
        StatusCode::OK
    );
    let member = format!("/membres/{}", demo.support_member_id.unwrap());
    let public = get(r, &member).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(
        !public.body.contains("example.org"),
        "contacts are personal data"
    );
    let staff = call(r, "GET", &member, Some(admin), None).await;
    assert!(staff.body.contains("example.org"));
    assert_eq!(staff.headers[header::CACHE_CONTROL], "no-store");
    let listed = get(r, "/campus/demo/membres").await;
    assert!(!listed.body.contains("Larivot"), "draft member hidden");
    assert!(!get(r, "/api/v1/members?q=larivot")
        .await
        .body
        .contains("Larivot"));
}

/// Writing members and formations through the API: a token, valid
/// identifiers, idempotent upserts, the index following.
async fn writes_need_a_token_and_valid_identifiers(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // Writes need the admin token and valid identifiers.
    let member_body = json!({
        "name": "Crèche Les Colibris (fictive)", "kind": "etablissement-medico-social",
        "siret": "12002701600051", "code_insee": "97304", "status": "publie"
    });
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        None,
        Some(member_body.clone()),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"], "unauthorized");
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        Some("wrong-token-000000000"),
        Some(member_body.clone()),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        Some(admin),
        Some(member_body.clone()),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let err = res.json();
    assert_eq!(err["error"], "invalid");
    assert_eq!(err["fields"][0]["field"], "siret");
    assert!(
        err["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Luhn"),
        "{err}"
    );
    let mut ok_body = member_body.clone();
    ok_body["siret"] = json!("12002701600050");
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        Some(admin),
        Some(ok_body.clone()),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let new_id = res.json()["id"].as_i64().unwrap();
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        Some(admin),
        Some(ok_body),
    )
    .await;
    assert_eq!(res.json()["outcome"], "unchanged");
    let v = get(r, "/api/v1/members?q=colibris").await.json();
    assert_eq!(v["items"][0]["id"], new_id, "the index follows writes");

    let formation = json!({
        "key": "api-1", "title": "Titre professionnel Assistant de vie aux familles (API)",
        "certification_code": 114929, "pathway": "continue", "modality": "hybride",
        "provider_id": new_id, "site_code_insee": "97304", "capacity": 12, "status": "publie",
        "sessions": [{"starts_on": "2027-01-11", "ends_on": "2027-06-30", "places": 12}]
    });
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/formations",
        Some(admin),
        Some(formation),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let fid = res.json()["id"].as_i64().unwrap();
    let detail = get(r, &format!("/api/v1/formations/{fid}")).await.json();
    assert_eq!(detail["sessions"][0]["starts_on"], "2027-01-11");
    assert!(
        detail["occupations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == "K1302"),
        "{detail}"
    );
    let v = get(r, "/api/v1/formations?q=assistant%20vie%20familles%20api")
        .await
        .json();
    assert_eq!(v["items"][0]["id"], fid);
    let wrong = json!({"key": "api-2", "title": "X", "pathway": "nulle", "provider_id": 999999, "site_code_insee": "99999"});
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/demo/formations",
        Some(admin),
        Some(wrong),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Concurrent writers with one token: every stored write answers
/// success and is found afterwards.
async fn concurrent_writers_are_all_indexed(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // Concurrent writers with one token: every stored write answers
    // success (the index is updated by one writer, never failing a request)
    // and every one of them is found afterwards.
    let writes = (0..60).map(|i| {
        let r = r.clone();
        let token = admin.to_owned();
        tokio::spawn(async move {
            let body = json!({
                "name": format!("Structure concurrente {i} (fictive)"),
                "kind": "employeur", "status": "publie"
            });
            call(
                &r,
                "POST",
                "/api/v1/campuses/demo/members",
                Some(&token),
                Some(body),
            )
            .await
        })
    });
    for write in writes.collect::<Vec<_>>() {
        let res = write.await.expect("writer task");
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    let v = call(
        r,
        "GET",
        "/api/v1/members?q=structure%20concurrente",
        Some(admin),
        None,
    )
    .await
    .json();
    assert_eq!(v["total"], 60, "every concurrent write is indexed: {v}");
}

/// Bad requests get JSON errors with the right status, the same on both
/// backends.
async fn bad_requests_get_json_errors(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    let member_body = json!({
        "name": "Crèche Les Colibris (fictive)", "kind": "etablissement-medico-social",
        "siret": "12002701600051", "code_insee": "97304", "status": "publie"
    });
    // The API's contract on bad requests: JSON errors with the right
    // status, the same on both backends.
    for (method, uri, body, status, code) in [
        (
            "GET",
            "/api/v1/members/abc",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/formations/99999999999999999999",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/formations?page=-1",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/members?page=0",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/occupations?page=abc",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/formations?q=a%00b",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/campuses/demo/members",
            Some(json!({"name": "Nul\u{0}part (fictive)", "kind": "employeur"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/campuses/demo/members",
            Some(json!({"name": "x".repeat(3 << 20), "kind": "employeur"})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "POST",
            "/api/v1/campuses/nope/members",
            Some(json!({"name": "Ailleurs (fictive)", "kind": "employeur"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let res = call(r, method, uri, Some(admin), body).await;
        assert_eq!(res.status, status, "{method} {uri}: {}", res.body);
        assert_eq!(
            res.headers[header::CONTENT_TYPE],
            "application/json",
            "{method} {uri}"
        );
        assert_eq!(res.json()["error"], code, "{method} {uri}: {}", res.body);
    }
    // A bad id in a page's address is a page that does not exist.
    assert_eq!(
        get(r, "/formations/abc").await.status,
        StatusCode::NOT_FOUND
    );
    let bad = call(
        r,
        "POST",
        "/api/v1/campuses/demo/members",
        Some(admin),
        Some(json!({"name": 3})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = call(
        r,
        "POST",
        "/api/v1/campuses/nope/members",
        Some(admin),
        Some(member_body),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

/// Invented values say so wherever they leave.
async fn invented_values_say_so(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // Invented values say so wherever they leave.
    let v = get(r, "/api/v1/members?q=universite%20de%20guyane")
        .await
        .json();
    assert_eq!(v["items"][0]["invented"], true, "{v}");
    let siret = v["items"][0]["siret"].as_str().unwrap();
    assert!(
        siret.starts_with("000"),
        "an invented SIRET is out of INSEE's range: {siret}"
    );
}

/// ROME fiches through the API; unknown ones and routes are not found.
async fn rome_fiches_through_the_api(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    // ROME fiche through the API.
    let v = get(r, "/api/v1/occupations/J1501").await.json();
    assert_eq!(v["code_rome"], "J1501");
    assert!(v["appellations"].as_array().unwrap().len() > 3);
    assert!(!v["competences"].as_array().unwrap().is_empty());
    assert!(!v["mobilites"].as_array().unwrap().is_empty());
    assert_eq!(
        get(r, "/api/v1/occupations/J9999").await.json()["error"],
        "not_found"
    );
    assert_eq!(get(r, "/api/v1/nope").await.json()["error"], "not_found");
}

/// A LHÉO import with data-quality problems: stored, the notice shown to
/// staff only.
async fn lheo_quality_notes_are_for_staff(s: &Site) {
    let (app, r, admin) = (&s.app, &s.router, s.admin.as_str());
    let _ = (app, admin);
    let demo = app.store().campus_by_slug("demo").await.unwrap().unwrap();
    let total = get(r, "/api/v1/formations").await.json()["total"]
        .as_u64()
        .unwrap();
    // A LHÉO import with data-quality problems: stored, and the notice is
    // shown to staff only.
    let xml = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ingest/tests/fixtures/lheo/qualite.xml"
    ))
    .unwrap();
    let report = app
        .import_lheo("qualite.xml", &xml, "demo", false)
        .await
        .expect("import");
    assert!(report.created > 0 && !report.quality.is_empty());
    let again = app
        .import_lheo("qualite.xml", &xml, "demo", false)
        .await
        .expect("re-import");
    assert!(again.changed_nothing(), "{again:?}");
    let v = call(
        r,
        "GET",
        "/api/v1/formations?q=&campus=demo&page=1",
        Some(admin),
        None,
    )
    .await
    .json();
    assert!(v["total"].as_u64().unwrap() > total);
    let imported = app
        .store()
        .formations(demo.id, store::Visibility::All, None)
        .await
        .unwrap()
        .into_iter()
        .find(|f| !f.external_key.starts_with("demo-") && f.external_key != "api-1")
        .expect("imported formation");
    let uri = format!("/formations/{}", imported.id);
    assert!(call(r, "GET", &uri, Some(admin), None)
        .await
        .body
        .contains("Qualité des données"));
    assert!(!get(r, &uri).await.body.contains("Qualité des données"));
}

/// Checks the OpenAPI document: version 3.1, every API route documented,
/// every `$ref` resolvable.
#[tokio::test]
async fn openapi_document_is_complete() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(web::ApiDoc::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Every API route of the route table is documented.
    let api_routes: Vec<String> = web::route_list()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json")
        .map(|r| r.path)
        .collect();
    assert!(api_routes.len() >= 11);
    for p in &api_routes {
        assert!(paths.contains(&p.as_str()), "{p} undocumented");
    }
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").expect("local ref");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling {r}"
        );
    }
}
