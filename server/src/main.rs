//! `tracewire` binary: parse settings, set up logging, open the store, bootstrap, serve.

use clap::Parser;
use std::process::ExitCode;
use tracewire_server::bootstrap::{BootstrapSecrets, bootstrap};
use tracewire_server::config::{Cli, Command};
use tracewire_server::store::{self, redact_url};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.serve;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_json {
        fmt.json().init();
    } else {
        fmt.init();
    }

    let url = redact_url(&config.database_url);
    let store = match store::connect(
        &config.database_url,
        &tracewire_server::store_options(&config),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(database = %url, error = %e, "cannot open the database");
            return ExitCode::FAILURE;
        }
    };
    if matches!(cli.command, Some(Command::Migrate)) {
        tracing::info!(database = %url, "migrations applied");
        return ExitCode::SUCCESS;
    }

    let boot = match bootstrap(store.as_ref(), &BootstrapSecrets::from_env()).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "first-start setup failed");
            return ExitCode::FAILURE;
        }
    };
    // Printed once, on the start that created them; they are not recoverable later.
    if let Some(p) = &boot.generated_admin_password {
        println!("Created admin user `admin` with password: {p}");
    }
    if let Some(k) = &boot.generated_ingest_key {
        println!("Created project `default` with ingest key: {k}");
    }

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %config.listen, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(database = %url, "storage ready");
    match tracewire_server::run(config, store, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "collector failed");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; draining");
}
