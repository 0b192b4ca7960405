//! `serve` and `demo`: the server, and the demonstration campus.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use app::App;
use clap::{Args, Subcommand};

use super::{app_error, import_error, open};
use crate::settings::config;

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve plain HTTP on an address other than loopback (session cookies
    /// are `Secure`: browsers only send them over HTTPS or to localhost).
    #[arg(long)]
    allow_plain_http: bool,
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the SQLite database (`DIR/passerelle.db`), unless DATABASE_URL is set.
    #[arg(long, default_value = "passerelle-data")]
    data_dir: PathBuf,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
    #[command(subcommand)]
    what: Option<DemoCommand>,
}

#[derive(Subcommand)]
pub(crate) enum DemoCommand {
    /// Write synthetic job postings (JSON lines, France Travail format, labelled synthetic)
    /// drawn from the reference data; the same seed gives the same file.
    Postings {
        /// How many postings.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file (standard output when absent).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Last month of creation dates (YYYY-MM); the 12 months before it are covered.
        #[arg(long, default_value = "2026-11")]
        until: String,
    },
}

/// Session cookies are `Secure`: plain HTTP only works on loopback, where
/// browsers accept them. Anywhere else, HTTPS (through a proxy) or an
/// explicit choice.
pub(crate) fn check_transport(
    listen: SocketAddr,
    https: bool,
    allow_plain_http: bool,
) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() && !https && !allow_plain_http {
        bail!(
            "refus de servir en HTTP simple sur {listen} : les cookies de session exigent HTTPS. \
             Placez Passerelle derrière un proxy TLS (PASSERELLE_HTTPS=1) ou, en connaissance de cause, \
             passez --allow-plain-http"
        );
    }
    Ok(())
}

pub(crate) async fn serve(app: App, listen: SocketAddr) -> anyhow::Result<()> {
    app.spawn_index_follower(Duration::from_secs(2));
    app.spawn_daily_purge();
    app.spawn_mail_sender();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    println!("Passerelle écoute sur http://{listen}");
    web::serve(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// `serve`: checks the transport, opens the application and serves.
pub(crate) async fn serve_command(url: Option<String>, a: ServeArgs) -> anyhow::Result<()> {
    let config = config(url, true)?;
    check_transport(a.listen, config.https, a.allow_plain_http)?;
    serve(open(config).await?, a.listen).await
}

/// `demo`: loads the reference data and the demonstration campus (or only
/// writes synthetic postings), then serves unless told not to.
pub(crate) async fn demo(url: Option<String>, a: DemoArgs) -> anyhow::Result<()> {
    if let Some(DemoCommand::Postings {
        count,
        seed,
        output,
        until,
    }) = a.what
    {
        return demo_postings(url, count, seed, output, &until).await;
    }
    let url =
        url.unwrap_or_else(|| format!("sqlite://{}", a.data_dir.join("passerelle.db").display()));
    let mut config = config(Some(url), true)?;
    config.require_totp = false;
    if !a.no_serve {
        check_transport(a.listen, config.https, false)?;
    }
    let app = open(config).await?;
    let dir = app.config.data_dir.clone();
    super::reference::import_referentiels(&app, &dir).await?;
    if app.seed_demo().await.map_err(import_error)? {
        println!("Campus de démonstration « demo » créé.");
    } else {
        println!("Campus de démonstration « demo » déjà présent : réutilisé.");
    }
    app.seed_demo_observatory().await.map_err(import_error)?;
    let accounts = app.seed_demo_accounts().await.map_err(app_error)?;
    if !accounts.is_empty() {
        println!(
            "Comptes de démonstration (mots de passe générés, affichés cette fois seulement) :"
        );
        for a in &accounts {
            println!("  {:<32} {:<28} {}", a.email, a.role_label, a.password);
        }
    }
    if !a.no_serve {
        serve(app, a.listen).await?;
    }
    Ok(())
}

/// `demo postings`: synthetic job postings drawn from the reference data.
async fn demo_postings(
    url: Option<String>,
    count: usize,
    seed: u64,
    output: Option<PathBuf>,
    until: &str,
) -> anyhow::Result<()> {
    let app = open(config(url, false)?).await?;
    let (y, m) = until
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
        .filter(|(_, m)| (1..=12).contains(m))
        .with_context(|| format!("--until « {until} » : attendu AAAA-MM"))?;
    let data = app.generator_data(&[], &[]).await.map_err(app_error)?;
    let started = Instant::now();
    match &output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("création de {}", path.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            data.write(&mut w, count, seed, (y, m))?;
            w.flush()?;
            eprintln!(
                "{count} offres synthétiques écrites dans {} en {:.1} s.",
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            data.write(&mut w, count, seed, (y, m))?;
            w.flush()?;
        }
    }
    Ok(())
}
