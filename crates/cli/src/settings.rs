//! Settings read from the environment, once, at start: a setting that is
//! present but malformed stops the command with its name, rather than being
//! silently replaced by the default.

use app::Config;

/// Configuration from the environment; `follow_index` for the commands that
/// own the on-disk search index (serve, demo, reindex). A setting that is
/// present but malformed stops the command with its name, rather than being
/// silently replaced by the default.
pub(crate) fn config(database_url: Option<String>, follow_index: bool) -> anyhow::Result<Config> {
    let database_url = database_url.unwrap_or_else(|| app::config::DEFAULT_DATABASE_URL.to_owned());
    let mut config = Config::new(database_url.clone(), Config::default_data_dir());
    config.index_dir = follow_index.then(|| Config::default_index_dir(&database_url));
    config.follow_index = follow_index;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let flag = |name: &str| -> anyhow::Result<Option<bool>> {
        match var(name).as_deref().map(str::trim) {
            None => Ok(None),
            Some("1") => Ok(Some(true)),
            Some("0") => Ok(Some(false)),
            Some(other) => anyhow::bail!("{name} vaut « {other} » : attendu 0 ou 1"),
        }
    };
    // Set when a proxy in front terminates TLS: adds HSTS.
    config.https = flag("PASSERELLE_HTTPS")?.unwrap_or(false);
    if let Some(url) = var("PASSERELLE_SMTP_URL") {
        config.smtp = Some(app::config::Smtp {
            url,
            from: var("PASSERELLE_MAIL_FROM")
                .unwrap_or_else(|| "Passerelle <ne-pas-repondre@localhost>".into()),
        });
    }
    if let Some(url) = var("PASSERELLE_PUBLIC_URL") {
        config.public_url = url.trim_end_matches('/').to_owned();
    }
    // Waives the second factor of network admins and campus managers (the
    // demonstration does; the sign-in page says so).
    config.require_totp = flag("PASSERELLE_REQUIRE_TOTP")?.unwrap_or(true);
    // Anonymous API requests per second and burst per address; "0" disables
    // the limit (benchmarks).
    match var("PASSERELLE_API_RATE").as_deref().map(str::trim) {
        Some("0") => config.api_rate = None,
        Some(v) => {
            let parsed = v
                .split_once(',')
                .and_then(|(r, b)| {
                    Some((r.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?))
                })
                .filter(|(r, b)| r.is_finite() && b.is_finite() && *r > 0.0 && *b >= 1.0);
            let Some((per_second, burst)) = parsed else {
                anyhow::bail!("PASSERELLE_API_RATE vaut « {v} » : attendu DÉBIT,RAFALE (par exemple 20,60) ou 0");
            };
            config.api_rate = Some(app::config::ApiRate { per_second, burst });
        }
        None => {}
    }
    // The reverse proxies whose X-Forwarded-For is believed (docs/SECURITY.md).
    if let Some(list) = var("PASSERELLE_TRUSTED_PROXIES") {
        config.trusted_proxies = list
            .split(',')
            .map(|p| p.parse())
            .collect::<Result<_, String>>()
            .map_err(|e| anyhow::anyhow!("PASSERELLE_TRUSTED_PROXIES : {e}"))?;
    }
    let positive = |name: &str| -> anyhow::Result<Option<i64>> {
        var(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        anyhow::anyhow!("{name} vaut « {v} » : attendu un nombre entier positif")
                    })
            })
            .transpose()
    };
    // Failed sign-ins allowed per account and per address in 15 minutes.
    if let Some(n) = positive("PASSERELLE_SIGNIN_LIMIT_ACCOUNT")? {
        config.throttle.per_account = n;
    }
    if let Some(n) = positive("PASSERELLE_SIGNIN_LIMIT_ADDRESS")? {
        config.throttle.per_address = n;
    }
    if let Some(n) = positive("PASSERELLE_SIGNUP_LIMIT_ADDRESS")? {
        config.throttle.signups_per_address = n;
    }
    // Retention periods, in days (see docs/SECURITY.md).
    if let Some(d) = positive("PASSERELLE_RETENTION_AUDIT_DAYS")? {
        config.retention.audit_personal = chrono::Duration::days(d.min(36_500));
    }
    if let Some(d) = positive("PASSERELLE_RETENTION_LEARNER_DAYS")? {
        config.retention.inactive_learner = chrono::Duration::days(d.min(36_500));
    }
    Ok(config)
}
