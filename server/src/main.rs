//! `tracewire` binary: parse settings, set up logging, open the store, bootstrap, serve.

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracewire_server::bootstrap::{BootstrapSecrets, bootstrap};
use tracewire_server::config::{
    Cli, Command, ConfigFileError, RetentionCommand, UserCommand, config_file_env, config_file_path,
};
use tracewire_server::store::{self, redact_url};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // The settings file becomes environment variables before any thread exists (clap then
    // applies flag > environment > file > default).
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = config_file_path(&args, std::env::var("TRACEWIRE_CONFIG").ok()) {
        let pairs = std::fs::read_to_string(&path)
            .map_err(|source| ConfigFileError::Read {
                path: path.clone(),
                source,
            })
            .and_then(|text| config_file_env(&text, &path));
        match pairs {
            Ok(pairs) => {
                for (name, value) in pairs {
                    if std::env::var_os(&name).is_none() {
                        // SAFETY: single-threaded here; the runtime starts below.
                        unsafe { std::env::set_var(name, value) };
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(cli))
}

async fn serve(cli: Cli) -> ExitCode {
    let config = cli.serve;
    // PostgreSQL's NOTICEs (`relation "_sqlx_migrations" already exists, skipping` on every
    // start) are chatter, not news: only warnings from the server reach the log by default.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    // Colour codes only for a person at a terminal: in a file, journald or a pipe they are noise.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
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
    if let Some(Command::User {
        action: UserCommand::Add { username, role },
    }) = &cli.command
    {
        return add_user(store.as_ref(), username, role).await;
    }
    if let Some(Command::User {
        action: UserCommand::Passwd { username },
    }) = &cli.command
    {
        return set_password(store.as_ref(), username).await;
    }
    if let Some(Command::Retention {
        action: RetentionCommand::Run,
    }) = &cli.command
    {
        return run_retention(store.as_ref(), &config).await;
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
        println!(
            "Sentry SDKs send to it with the DSN {}",
            tracewire_server::ingest::sentry::dsn(k, config.listen)
        );
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

/// The actor of audit rows written by CLI commands (whoever can run the binary on the database).
const CLI_ACTOR: &str = "cli";

/// The password of `user add` / `user passwd`: `TRACEWIRE_USER_PASSWORD`, else stdin's first
/// line (so it appears neither in the process list nor in shell history).
fn read_password() -> Result<String, ExitCode> {
    match std::env::var("TRACEWIRE_USER_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => {
            let mut line = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut line) {
                eprintln!("error: cannot read the password from stdin: {e}");
                return Err(ExitCode::FAILURE);
            }
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

/// Prints a CLI command's failure: each bad field on its own line.
fn report(error: tracewire_server::error::Error) -> ExitCode {
    match error {
        tracewire_server::error::Error::Validation(errors) => {
            for e in errors {
                eprintln!("error: {}: {}", e.path, e.message);
            }
        }
        e => eprintln!("error: {e}"),
    }
    ExitCode::FAILURE
}

/// `tracewire user add`.
async fn add_user(store: &dyn store::Store, username: &str, role: &str) -> ExitCode {
    let password = match read_password() {
        Ok(p) => p,
        Err(code) => return code,
    };
    match tracewire_server::auth::users::add_user(store, CLI_ACTOR, username, &password, role).await
    {
        Ok(_) => {
            println!("Created user `{username}` with role {role}");
            ExitCode::SUCCESS
        }
        Err(e) => report(e),
    }
}

/// `tracewire user passwd`.
async fn set_password(store: &dyn store::Store, username: &str) -> ExitCode {
    let password = match read_password() {
        Ok(p) => p,
        Err(code) => return code,
    };
    match tracewire_server::auth::users::set_password(store, CLI_ACTOR, username, &password).await {
        Ok(()) => {
            println!("Set a new password for `{username}`; their sessions were ended");
            ExitCode::SUCCESS
        }
        Err(e) => report(e),
    }
}

/// `tracewire retention run`: one run with the configured policy, a line per batch.
async fn run_retention(
    store: &dyn store::Store,
    config: &tracewire_server::config::ServeConfig,
) -> ExitCode {
    use tracewire_server::retention::{self, BatchReport, RetentionSettings};
    let settings = RetentionSettings::from_config(config);
    let progress = |b: &BatchReport| {
        println!(
            "{} {}: archived {} deleted {} -> {} ({} bytes)",
            b.table,
            b.level.unwrap_or("-"),
            b.archived,
            b.deleted,
            b.file.path.display(),
            b.file.bytes
        );
    };
    let now = tracewire_server::clock::now_us();
    match retention::run_once(store, &settings, now, CLI_ACTOR, progress, || false).await {
        Ok(r) if r.skipped => {
            println!("another collector holds the retention lease; nothing done");
            ExitCode::SUCCESS
        }
        Ok(r) => {
            println!(
                "retention done: {} rows archived, {} deleted, {} files in {}",
                r.archived(),
                r.deleted(),
                r.batches.len(),
                settings.archive_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}; rows of the failed batch were not deleted");
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
