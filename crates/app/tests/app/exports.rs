//! What leaves Passerelle as files and tables, on the demonstration data:
//! the members and formations spreadsheets and the observatory's four
//! tables, kept as `insta` snapshots (`snapshots/`) that both backends must
//! match to the byte, so that any change of an export shows in review.

use std::path::PathBuf;

use app::imports::SheetFormat;
use app::observatory::TableKind;
use app::{Actor, App, Config};

async fn demo(url: &str) -> App {
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"));
    let mut config = Config::new(url, data.clone());
    config.follow_index = false;
    let app = App::open(config).await.expect("open");
    app.import_referentiels(&data, &|_| {})
        .await
        .expect("reference data");
    app.seed_demo().await.expect("demo");
    app.seed_demo_observatory().await.expect("observatory");
    app
}

/// A table as `;`-separated lines, for a snapshot people can read.
fn lines(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = headers.join(";");
    for r in rows {
        out.push('\n');
        out.push_str(&r.join(";"));
    }
    out
}

#[tokio::test]
async fn exports_and_observatory_tables_are_the_same_on_both_backends() {
    for url in store::testing::backend_urls("exports").await {
        let app = demo(&url).await;
        let members = app.members_file("demo", SheetFormat::Csv).await.unwrap();
        insta::assert_snapshot!("members_csv", String::from_utf8(members).unwrap());
        let formations = app.formations_file("demo", SheetFormat::Csv).await.unwrap();
        insta::assert_snapshot!("formations_csv", String::from_utf8(formations).unwrap());
        let o = app
            .observatory_for(&Actor::operator(), "demo", None, None, false)
            .await
            .unwrap();
        for kind in [
            TableKind::Tension,
            TableKind::Gap,
            TableKind::Skills,
            TableKind::Outcomes,
        ] {
            let (headers, rows) = o.text_table(kind);
            insta::assert_snapshot!(
                format!("observatory_{}", kind.name()),
                lines(&headers, &rows)
            );
        }
    }
}
