//! A report on the shipped reference data, run by hand:
//! `cargo test -p ingest --release --test referentiels_report -- --ignored --nocapture`.
//! It prints counts, parse times and a sample of the quality issues; it
//! asserts nothing about time (times depend on the machine).

use std::path::Path;
use std::time::Instant;

use ingest::referentiels::{
    load_all, load_certifinfo, load_rncp, load_rome, load_territories, QualityIssue,
};

fn sample(name: &str, issues: &[QualityIssue]) {
    println!("{name}: {} issue(s)", issues.len());
    for i in issues.iter().take(8) {
        println!("  {}:{} [{}] {}", i.file, i.line, i.field, i.message);
    }
}

#[test]
#[ignore = "report for people, run with --ignored --nocapture"]
fn report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");

    let start = Instant::now();
    let t = load_territories(&dir).unwrap();
    let t_time = start.elapsed();
    let start = Instant::now();
    let r = load_rome(&dir).unwrap();
    let r_time = start.elapsed();
    let known = r.known_codes();
    let start = Instant::now();
    let c = load_certifinfo(&dir, &known).unwrap();
    let c_time = start.elapsed();
    let start = Instant::now();
    let n = load_rncp(&dir, &known).unwrap();
    let n_time = start.elapsed();
    let start = Instant::now();
    let _ = load_all(&dir).unwrap();
    let all_time = start.elapsed();

    println!(
        "territoires {t_time:?}: {} régions, {} académies, {} départements, {} zones d'emploi, {} communes",
        t.regions.len(),
        t.academies.len(),
        t.departements.len(),
        t.employment_areas.len(),
        t.communes.len()
    );
    println!(
        "rome4 {r_time:?}: {} fiches, {} appellations, {} compétences/savoirs, {} liens, {} mobilités, {} centres, {} liens centres",
        r.occupations.len(),
        r.titles.len(),
        r.skills.len(),
        r.occupation_skills.len(),
        r.mobilities.len(),
        r.interests.len(),
        r.occupation_interests.len()
    );
    println!(
        "certifinfo {c_time:?}: {} certifications, {} liens ROME",
        c.certifications.len(),
        c.certification_romes.len()
    );
    println!(
        "rncp {n_time:?}: {} fiches, {} ROME, {} NSF, {} blocs, {} certificateurs",
        n.fiches.len(),
        n.romes.len(),
        n.nsf.len(),
        n.blocs.len(),
        n.certifiers.len()
    );
    println!("load_all (territories on a second thread): {all_time:?}");
    for info in [&t.info, &r.info, &c.info, &n.info] {
        println!(
            "{} {} {} {}",
            info.name, info.version, info.published_on, info.checksum
        );
    }
    sample("territoires", &t.issues);
    sample("rome4", &r.issues);
    sample("certifinfo", &c.issues);
    sample("rncp", &n.issues);
}
