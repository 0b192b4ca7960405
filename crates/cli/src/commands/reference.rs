//! Reference data (territories, ROME 4.0, Certif Info, RNCP).

use std::path::Path;
use std::time::{Duration, Instant};

use app::App;

use super::import_error;

pub(crate) async fn import_referentiels(app: &App, dir: &Path) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(6);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let step = |msg: &str| {
        bar.inc(1);
        bar.set_message(msg.to_owned());
    };
    let reports = app
        .import_referentiels(dir, &step)
        .await
        .map_err(import_error)?;
    bar.finish_and_clear();
    let mut changed = false;
    for r in &reports {
        match r.outcome {
            app::maintenance::DatasetOutcome::Unchanged => {
                println!("{} ({}) : inchangé, rien à faire.", r.title, r.version)
            }
            app::maintenance::DatasetOutcome::Loaded { rows } => {
                changed = true;
                println!("{} ({}) : {rows} lignes chargées", r.title, r.version);
                for (what, n) in &r.counts {
                    println!("  {n:>8} {what}");
                }
                if !r.issues.is_empty() {
                    println!(
                        "  {} anomalies écartées (rapport de qualité), par exemple :",
                        r.issues.len()
                    );
                    for i in r.issues.iter().take(5) {
                        println!("    {}:{} {} : {}", i.file, i.line, i.field, i.message);
                    }
                }
            }
        }
    }
    if changed {
        println!(
            "Données de référence importées en {:.1} s.",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("Données de référence déjà à jour : aucune modification.");
    }
    Ok(())
}
