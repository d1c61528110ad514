//! `tracewire-demo`: the demo shop's backend. Settings in [`tracewire_demo::DemoConfig`]
//! (`--help`); logs go to the console and, with their trace ids, to the collector.

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;
use tracewire_demo::{DemoConfig, DemoError};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

#[tokio::main]
async fn main() -> ExitCode {
    let config = DemoConfig::parse();
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracewire-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: DemoConfig) -> Result<(), DemoError> {
    let tracewire = tracewire_middleware::init(tracewire_middleware::Config::new(
        config.collector.clone(),
        config.key.clone(),
    ))?;
    let console = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(console))
        .with(
            tracewire
                .tracing_layer()
                .with_filter(tracewire_demo::shipped_events()),
        )
        .init();
    let listener = TcpListener::bind(config.listen).await?;
    println!("demo shop on http://{}", listener.local_addr()?);
    tracewire_demo::run(&config, tracewire, listener, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM (what `npm start` sends when it stops).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
