//! Command line and environment configuration. Every flag also reads a `TRACEWIRE_*` variable;
//! the doc comments double as `--help`.

use crate::auth::origin::WebOrigin;
use crate::auth::proxy::ProxyNet;
use clap::builder::{BoolishValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use tracewire_shared::level::Level;

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

/// What `tracewire` runs; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Add users and set their passwords.
    User {
        /// `add` or `passwd`.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Archive and delete rows past their retention.
    Retention {
        /// `run`, the only action so far.
        #[command(subcommand)]
        action: RetentionCommand,
    },
}

/// `tracewire retention …`.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Run retention once (archive, then delete) with the `--retention-*` settings, printing a
    /// line per batch.
    Run,
}

/// `tracewire user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from `TRACEWIRE_USER_PASSWORD`, else from the first
    /// line of standard input (so it never appears in the process list or shell history).
    Add {
        /// Login name (A-Z, a-z, 0-9, '.', '_', '-').
        username: String,
        /// `admin` (everything) or `viewer` (read only).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Set a new password for a user and end their sessions. The password is read like
    /// `user add` reads it.
    Passwd {
        /// Login name of an existing user.
        username: String,
    },
}

/// Settings of the collector; the other commands take theirs (database, retention) from here.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on; the default takes local connections only.
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

    /// Seconds a client has to send a request's head (request line and headers), counted from
    /// when the collector starts waiting for it: on a new connection and between requests on a
    /// kept-alive one, so it is also the idle keep-alive timeout. The connection is closed after.
    #[arg(long, env = "TRACEWIRE_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,

    /// Seconds a client has to send a whole request body, from the request's start; a body
    /// still arriving then is answered 408 and the connection closed.
    #[arg(long, env = "TRACEWIRE_BODY_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,

    /// Most client connections open at once; further connections wait in the listen backlog
    /// until one closes.
    #[arg(long, env = "TRACEWIRE_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Seconds graceful shutdown waits for open connections to finish their requests before
    /// closing them; the database writer still commits everything it acknowledged.
    #[arg(long, env = "TRACEWIRE_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// Largest ingest body in bytes, as received.
    #[arg(long, env = "TRACEWIRE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest ingest body in bytes after gzip decompression.
    #[arg(long, env = "TRACEWIRE_MAX_DECOMPRESSED_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_decompressed_bytes: usize,

    /// Most JSON array elements plus object members in one ingest body, checked before parsing
    /// (parsing costs up to ~100 bytes of memory per element, far more than its bytes on the
    /// wire); over it the batch is refused with 413.
    #[arg(long, env = "TRACEWIRE_MAX_JSON_ELEMENTS", default_value_t = 250_000)]
    pub max_json_elements: usize,

    /// Deepest nesting of arrays and objects in one ingest body; deeper is refused with 413.
    #[arg(long, env = "TRACEWIRE_MAX_JSON_DEPTH", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(4..=128).map(usize::from))]
    pub max_json_depth: usize,

    /// Largest free-form field (`request_data`, `extra_data`, `exception_details`,
    /// `context_data`, `tags`) in bytes of JSON; a larger one is stored truncated to its start
    /// followed by `…[truncated]`, and the rest of the batch is kept.
    #[arg(long, env = "TRACEWIRE_MAX_FIELD_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(256..).map(|n| n as usize))]
    pub max_field_bytes: usize,

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

    /// Regexes whose matches inside every stored text field and string value are redacted
    /// (comma separated).
    #[arg(long, env = "TRACEWIRE_REDACT_PATTERNS", value_delimiter = ',')]
    pub redact_patterns: Vec<String>,

    /// Also redact email addresses in every stored text field. Off by default: an address is
    /// often what operators search logs by to help a user, and user ids are often addresses.
    #[arg(long, env = "TRACEWIRE_REDACT_EMAILS", value_parser = BoolishValueParser::new())]
    pub redact_emails: bool,

    /// Log the collector's own output as JSON lines instead of human-readable text.
    #[arg(long, env = "TRACEWIRE_LOG_JSON", value_parser = BoolishValueParser::new())]
    pub log_json: bool,

    /// TOML settings file; keys are the flag names (`database_url = "…"`). Flags and
    /// environment variables override it.
    #[arg(long, env = "TRACEWIRE_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// Days logs are kept before retention archives and deletes them; 0 keeps them forever.
    #[arg(long, env = "TRACEWIRE_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,

    /// Per-level overrides of `--retention-days`, comma separated: `DEBUG=7,ERROR=90`.
    /// Exception occurrences and metrics are kept as long as the longest log retention.
    #[arg(long, env = "TRACEWIRE_RETENTION_DAYS_BY_LEVEL", value_delimiter = ',')]
    pub retention_days_by_level: Vec<LevelDays>,

    /// Directory of the gzip JSON-lines archives retention writes before it deletes anything
    /// (relative paths are relative to the working directory, like the default database).
    #[arg(long, env = "TRACEWIRE_ARCHIVE_DIR", default_value = "archive")]
    pub archive_dir: std::path::PathBuf,

    /// Seconds between retention runs inside the collector (the first run is one interval after
    /// start); 0 disables the periodic job, for `tracewire retention run` from cron instead.
    #[arg(
        long,
        env = "TRACEWIRE_RETENTION_INTERVAL_SECS",
        default_value_t = 3600
    )]
    pub retention_interval_secs: u64,

    /// After a retention run that deleted rows, rebuild the SQLite database (`VACUUM`), so no
    /// byte of a deleted row is left in the file. Without it, `secure_delete` zeroes deleted
    /// rows and freed pages, but pages SQLite rebalanced while deleting can keep fragments of
    /// deleted rows in their unused space. VACUUM rewrites the whole file and holds the writer
    /// meanwhile (seconds per GB), hence off by default. No effect on PostgreSQL.
    #[arg(long, env = "TRACEWIRE_RETENTION_VACUUM", value_parser = BoolishValueParser::new())]
    pub retention_vacuum: bool,

    /// Rows per retention batch: one archive file and one delete transaction each.
    #[arg(long, env = "TRACEWIRE_RETENTION_BATCH", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub retention_batch: u32,

    /// Requests that take at least this long (milliseconds, by the request log's
    /// `duration_ms`) are recorded as slow requests with their trace id.
    #[arg(long, env = "TRACEWIRE_SLOW_REQUEST_MS", default_value_t = 1000.0)]
    pub slow_request_ms: f64,

    /// Database statements that take at least this long (milliseconds) are kept as slow
    /// queries when the sender did not flag them itself (the middleware flags by its own
    /// `slow_query_ms`).
    #[arg(long, env = "TRACEWIRE_SLOW_QUERY_MS", default_value_t = 500.0)]
    pub slow_query_ms: f64,

    /// Distinct metric series (source, metric, endpoint) per project; observations of further
    /// series are dropped and counted, so a client sending raw paths cannot grow the tables
    /// without bound.
    #[arg(long, env = "TRACEWIRE_MAX_METRIC_SERIES", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_metric_series: usize,

    /// Days metric aggregates and slow entries are kept, as `1m=2,5m=14,1h=90,1d=730,slow=14`
    /// (any subset; the rest keep these defaults).
    #[arg(long, env = "TRACEWIRE_METRIC_RETENTION", default_value = "1m=2,5m=14,1h=90,1d=730,slow=14",
          value_parser = parse_metric_retention)]
    pub metric_retention: crate::monitoring::rollup::MonitoringRetention,

    /// Seconds between metric roll-up runs (5-minute, hourly and daily rows, and their
    /// retention).
    #[arg(long, env = "TRACEWIRE_ROLLUP_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rollup_interval_secs: u64,

    /// Milliseconds between runs of the index follower, which writes the trace, user and
    /// full-text lookups of logs the writer committed (both backends). Queries stay exact at any lag:
    /// rows not yet indexed are scanned. 0 stops the follower (only for tests and measurements).
    #[arg(long, env = "TRACEWIRE_INDEX_INTERVAL_MS", default_value_t = 200)]
    pub index_interval_ms: u64,

    /// Most log rows the index follower covers in one transaction; larger batches write each
    /// index page fewer times, smaller ones hold the write lock for less time.
    #[arg(long, env = "TRACEWIRE_INDEX_BATCH_ROWS", default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub index_batch_rows: u64,

    /// On PostgreSQL, keeps the 10-second dedup window in this collector's memory only instead
    /// of arbitrating it in the database: one statement less per write group, for a collector
    /// alone on its database (with several, identical logs reaching two of them are then
    /// stored as two rows). No effect on SQLite, where the window is always in memory.
    #[arg(long, env = "TRACEWIRE_NO_SHARED_DEDUP", value_parser = BoolishValueParser::new())]
    pub no_shared_dedup: bool,

    /// On PostgreSQL, counts each ingest key's rate limit in this collector's memory instead of
    /// in the database: one statement less per batch, for a collector alone on its database
    /// (with several, each lets a key send the full `--rate-limit`). No effect on SQLite, where
    /// the buckets are always in memory.
    #[arg(long, env = "TRACEWIRE_NO_SHARED_RATE_LIMIT", value_parser = BoolishValueParser::new())]
    pub no_shared_rate_limit: bool,

    /// Skips metric aggregation at ingest (slow requests are still recorded); only to measure
    /// what aggregation costs.
    #[arg(long, env = "TRACEWIRE_NO_METRIC_AGGREGATION", value_parser = BoolishValueParser::new())]
    pub no_metric_aggregation: bool,

    /// Directory of an admin UI build to serve at `/` instead of the one embedded in the
    /// binary (a live development build: `scripts/build-ui.sh` writes
    /// `target/admin-ui/dist`). Without it the embedded build is served, or a status page when
    /// the binary was built with `TRACEWIRE_SKIP_UI_BUILD=1`.
    #[arg(long, env = "TRACEWIRE_UI_DIR")]
    pub ui_dir: Option<std::path::PathBuf>,

    /// Which of the collector's own requests it stores as request logs (source `collector`,
    /// left out of queries unless asked for): `api` (the query, auth and export API), `all`
    /// (also `/healthz`, `/readyz`, the UI's files and unknown paths: probes every few seconds
    /// would otherwise outnumber real logs) or `off`.
    #[arg(long, env = "TRACEWIRE_SELF_LOG", value_enum, default_value_t = SelfLog::Api)]
    pub self_log: SelfLog,

    /// Reverse proxies whose `X-Forwarded-For` is believed (comma separated IPs or CIDR blocks,
    /// e.g. `127.0.0.1,10.0.0.0/8`). Only when the peer is one of them is the client address,
    /// for the login lockout and the audit trail, the rightmost untrusted hop of that header.
    #[arg(long, env = "TRACEWIRE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ProxyNet>,

    /// Mark the session cookie `Secure` (sent over HTTPS only); set it when users reach the
    /// collector through HTTPS.
    #[arg(long, env = "TRACEWIRE_SECURE_COOKIES", value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,

    /// The URL users open the collector at (`https://logs.example.com`), when a proxy in front
    /// rewrites `Host`: cookie-authenticated writes must come from this origin or from the
    /// `Host` they were sent to.
    #[arg(long, env = "TRACEWIRE_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<WebOrigin>,

    /// Password checks (Argon2, 19 MiB each) run at once; 0 means one per CPU.
    #[arg(long, env = "TRACEWIRE_LOGIN_CONCURRENCY", default_value_t = 0)]
    pub login_concurrency: usize,

    /// Logins that may wait for a password check before further ones get 429.
    #[arg(long, env = "TRACEWIRE_LOGIN_QUEUE", default_value_t = 32)]
    pub login_queue: usize,

    /// Seconds between alert evaluation rounds (every enabled rule, then the notifications
    /// they produced); 0 disables the evaluator. With several collectors on one PostgreSQL
    /// database one of them evaluates each round (an advisory lock).
    #[arg(long, env = "TRACEWIRE_ALERT_INTERVAL_SECS", default_value_t = 30)]
    pub alert_interval_secs: u64,

    /// SMTP server of email alert channels; without it email channels report a failed
    /// delivery.
    #[arg(long, env = "TRACEWIRE_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// SMTP port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
    #[arg(long, env = "TRACEWIRE_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// SMTP connection security: `starttls` (must succeed), `tls` (from the first byte) or
    /// `none` (only for a relay on the same host or network).
    #[arg(long, env = "TRACEWIRE_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurityArg::Starttls)]
    pub smtp_security: SmtpSecurityArg,

    /// SMTP AUTH user name, when the server wants one.
    #[arg(long, env = "TRACEWIRE_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// SMTP AUTH password. Prefer the environment variable (a flag shows in the process list);
    /// never printed.
    #[arg(long, env = "TRACEWIRE_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<Redacted>,

    /// Sender of alert emails, e.g. `Tracewire <alerts@example.com>`.
    #[arg(
        long,
        env = "TRACEWIRE_SMTP_FROM",
        default_value = "Tracewire <tracewire@localhost>"
    )]
    pub smtp_from: String,
}

/// See [`ServeConfig::smtp_security`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpSecurityArg {
    /// STARTTLS upgrade, required (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption; only for a relay on the same host or network.
    None,
}

/// A setting that must never be printed (`Debug` shows `<redacted>`), such as the SMTP password.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Redacted {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

fn parse_public_url(s: &str) -> Result<WebOrigin, String> {
    WebOrigin::parse(s).ok_or_else(|| format!("{s:?} is not an http(s) URL"))
}

impl ServeConfig {
    /// Defaults for tests and embedding: everything as `--help` documents, on `database_url`.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let mut cli = Cli::parse_from(["tracewire"]);
        cli.serve.database_url = database_url.into();
        cli.serve
    }
}

/// See [`ServeConfig::self_log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SelfLog {
    /// The API only (queries, auth, export, alerts), the default.
    Api,
    /// Every request but ingest (which would log each batch as another batch).
    All,
    /// Store none of the collector's own requests.
    Off,
}

/// One `LEVEL=DAYS` retention override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelDays {
    /// The level it applies to.
    pub level: Level,
    /// Days kept; 0 keeps forever.
    pub days: u32,
}

/// Parses `--metric-retention`: `period=days` pairs, comma separated.
fn parse_metric_retention(
    s: &str,
) -> Result<crate::monitoring::rollup::MonitoringRetention, String> {
    let mut r = crate::monitoring::rollup::MonitoringRetention::default();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, days) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected period=days, e.g. 1m=2"))?;
        let days: u32 = days
            .trim()
            .parse()
            .ok()
            .filter(|d| *d > 0)
            .ok_or_else(|| format!("{pair:?}: days must be a whole number above 0"))?;
        match key.trim() {
            "1m" => r.minute_days = days,
            "5m" => r.five_minute_days = days,
            "1h" => r.hour_days = days,
            "1d" => r.day_days = days,
            "slow" => r.slow_days = days,
            other => return Err(format!("{other:?}: expected 1m, 5m, 1h, 1d or slow")),
        }
    }
    Ok(r)
}

impl std::str::FromStr for LevelDays {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (level, days) = s
            .split_once('=')
            .ok_or_else(|| format!("expected LEVEL=DAYS, got {s:?}"))?;
        let level = level.parse::<Level>().map_err(|e| e.to_string())?;
        let days = days
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("days must be a whole number, got {days:?}"))?;
        Ok(Self { level, days })
    }
}

/// A settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path as given to `--config` or `TRACEWIRE_CONFIG`.
        path: String,
        /// The I/O error reading it.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Parse {
        /// The path as given to `--config` or `TRACEWIRE_CONFIG`.
        path: String,
        /// The TOML parser's message, without the file's text.
        message: String,
    },
    /// A key that no flag has.
    #[error("unknown setting {key:?} in the config file; known settings: {known}")]
    UnknownKey {
        /// The key as written in the file.
        key: String,
        /// Every accepted key, comma separated, so the message shows the right spelling.
        known: String,
    },
    /// A nested table where a value was expected.
    #[error("setting {0:?} must be a string, number, boolean or array")]
    BadValue(String),
}

/// The settings file named by `--config <path>` / `--config=<path>` in `args`, else by
/// `TRACEWIRE_CONFIG`.
pub fn config_file_path(args: &[String], env: Option<String>) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().cloned();
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(path.to_owned());
        }
    }
    env.filter(|p| !p.is_empty())
}

/// Turns a TOML settings file into `(ENV_NAME, value)` pairs for the flags' environment
/// variables. Keys are the flag names (`database_url` or `database-url`). Applied only where the
/// variable is unset, this gives the precedence flag > environment > file > default.
pub fn config_file_env(text: &str, path: &str) -> Result<Vec<(String, String)>, ConfigFileError> {
    use clap::CommandFactory;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigFileError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })?;
    let command = Cli::command();
    let known: Vec<(String, String)> = command
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?.to_owned();
            Some((a.get_long()?.replace('-', "_"), env))
        })
        .collect();
    let mut pairs = Vec::new();
    for (key, value) in table {
        let normalized = key.replace('-', "_");
        let Some((_, env)) = known.iter().find(|(k, _)| *k == normalized) else {
            let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
            return Err(ConfigFileError::UnknownKey {
                key,
                known: names.join(", "),
            });
        };
        let text = match &value {
            toml::Value::Array(items) => items
                .iter()
                .map(|v| scalar(v).ok_or_else(|| ConfigFileError::BadValue(key.clone())))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => scalar(other).ok_or_else(|| ConfigFileError::BadValue(key.clone()))?,
        };
        pairs.push((env.clone(), text));
    }
    Ok(pairs)
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_maps_keys_to_flag_variables() {
        let text = "listen = \"0.0.0.0:9000\"\ndatabase-url = \"postgres://db/logs\"\nmax_entries = 50\nredact_keys = [\"ssn\", \"pin\"]\nlog_json = true\n";
        let mut pairs = config_file_env(text, "t.toml").unwrap();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("TRACEWIRE_DATABASE_URL".into(), "postgres://db/logs".into()),
                ("TRACEWIRE_LISTEN".into(), "0.0.0.0:9000".into()),
                ("TRACEWIRE_LOG_JSON".into(), "true".into()),
                ("TRACEWIRE_MAX_ENTRIES".into(), "50".into()),
                ("TRACEWIRE_REDACT_KEYS".into(), "ssn,pin".into()),
            ]
        );
    }

    #[test]
    fn config_file_errors_are_clear() {
        assert!(matches!(
            config_file_env("listn = \"x\"", "t.toml"),
            Err(ConfigFileError::UnknownKey { .. })
        ));
        assert!(matches!(
            config_file_env("listen = ", "t.toml"),
            Err(ConfigFileError::Parse { .. })
        ));
        assert!(matches!(
            config_file_env("[listen]\na = 1", "t.toml"),
            Err(ConfigFileError::BadValue(_))
        ));
    }

    #[test]
    fn retention_overrides_parse() {
        let cli = Cli::parse_from(["tw", "--retention-days-by-level", "debug=7,ERROR=90"]);
        assert_eq!(
            cli.serve.retention_days_by_level,
            vec![
                LevelDays {
                    level: Level::Debug,
                    days: 7
                },
                LevelDays {
                    level: Level::Error,
                    days: 90
                }
            ]
        );
        assert!("INFO".parse::<LevelDays>().is_err());
        assert!("LOUD=3".parse::<LevelDays>().is_err());
        assert!("INFO=-1".parse::<LevelDays>().is_err());
    }

    #[test]
    fn proxy_and_cookie_settings_parse() {
        let cli = Cli::parse_from([
            "tw",
            "--trusted-proxies",
            "127.0.0.1, 10.0.0.0/8",
            "--secure-cookies",
            "--public-url",
            "https://logs.example/",
        ]);
        assert_eq!(cli.serve.trusted_proxies.len(), 2);
        assert!(cli.serve.secure_cookies);
        assert_eq!(
            cli.serve.public_url,
            WebOrigin::parse("https://logs.example")
        );
        assert!(Cli::try_parse_from(["tw", "--trusted-proxies", "10.0.0.0/40"]).is_err());
        assert!(Cli::try_parse_from(["tw", "--public-url", "logs.example"]).is_err());
        let defaults = Cli::parse_from(["tw"]).serve;
        assert!(defaults.trusted_proxies.is_empty() && !defaults.secure_cookies);
    }

    #[test]
    fn config_path_from_flag_or_env() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            config_file_path(&args(&["tw", "--config", "a.toml"]), None),
            Some("a.toml".into())
        );
        assert_eq!(
            config_file_path(&args(&["tw", "--config=b.toml"]), Some("c".into())),
            Some("b.toml".into())
        );
        assert_eq!(
            config_file_path(&args(&["tw"]), Some("c.toml".into())),
            Some("c.toml".into())
        );
        assert_eq!(config_file_path(&args(&["tw"]), None), None);
    }
}
