//! Command line and environment configuration. Every flag also reads a `TRACEWIRE_*` variable;
//! the doc comments double as `--help`.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

/// Tracewire collector: ingest, storage and query API for web application logs.
#[derive(Debug, Parser)]
#[command(name = "tracewire", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of `serve` (also accepted without the subcommand).
    #[command(flatten)]
    pub serve: ServeConfig,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

/// Settings of the collector.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "TRACEWIRE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database: `sqlite://path` (created on first start) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "TRACEWIRE_DATABASE_URL",
        default_value = "sqlite://tracewire.db"
    )]
    pub database_url: String,

    /// SQLite `synchronous` mode: NORMAL survives a crash of the collector, FULL also survives
    /// power loss at the cost of one fsync per write group.
    #[arg(long, env = "TRACEWIRE_SQLITE_SYNCHRONOUS", default_value = "NORMAL",
          value_parser = ["OFF", "NORMAL", "FULL", "EXTRA"])]
    pub sqlite_synchronous: String,

    /// Largest ingest body in bytes, as received.
    #[arg(long, env = "TRACEWIRE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest ingest body in bytes after gzip decompression.
    #[arg(long, env = "TRACEWIRE_MAX_DECOMPRESSED_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_decompressed_bytes: usize,

    /// Most entries (logs + exceptions + metrics) in one batch.
    #[arg(long, env = "TRACEWIRE_MAX_ENTRIES", default_value_t = 1000)]
    pub max_entries: usize,

    /// Sustained entries per second each ingest key may send (token bucket refill rate).
    #[arg(long, env = "TRACEWIRE_RATE_LIMIT", default_value_t = 200_000.0)]
    pub rate_limit: f64,

    /// Burst size of each key's token bucket, in entries.
    #[arg(long, env = "TRACEWIRE_RATE_BURST", default_value_t = 400_000.0)]
    pub rate_burst: f64,

    /// Batches that may wait for the database writer before ingest answers 429.
    #[arg(long, env = "TRACEWIRE_WRITER_QUEUE", default_value_t = 512)]
    pub writer_queue: usize,

    /// Most entries the writer puts in one transaction.
    #[arg(long, env = "TRACEWIRE_WRITER_GROUP_ENTRIES", default_value_t = 20_000)]
    pub writer_group_entries: usize,

    /// Extra key names to redact (comma separated, matched case-insensitively as substrings).
    #[arg(long, env = "TRACEWIRE_REDACT_KEYS", value_delimiter = ',')]
    pub redact_keys: Vec<String>,

    /// Regexes whose matches inside string values are redacted (comma separated).
    #[arg(long, env = "TRACEWIRE_REDACT_PATTERNS", value_delimiter = ',')]
    pub redact_patterns: Vec<String>,

    /// Log the collector's own output as JSON lines instead of human-readable text.
    #[arg(long, env = "TRACEWIRE_LOG_JSON")]
    pub log_json: bool,

    /// Directory of the admin UI build to serve at `/` (a status page when absent).
    #[arg(long, env = "TRACEWIRE_UI_DIR", default_value = "admin-ui/dist")]
    pub ui_dir: std::path::PathBuf,
}

impl ServeConfig {
    /// Defaults for tests and embedding: everything as `--help` documents, on `database_url`.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let mut cli = Cli::parse_from(["tracewire"]);
        cli.serve.database_url = database_url.into();
        cli.serve
    }
}
