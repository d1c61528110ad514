//! Seed property 9 as a property test over HTTP, on SQLite and PostgreSQL: for random logs and
//! random filter combinations, every returned row satisfies every filter, and paging through
//! all pages with the cursor returns exactly the matching rows, once each, newest first.
//!
//! The expected set is computed here from what the test sent. The collector also stores its
//! own request logs (self-tracing, stamped "now"), so the generated logs live in three hours of
//! 2021 and every query carries a `to` bound inside that era (a random one, or the era's end).
//! The era starts off the hour, so `total` is checked both where it comes from the per-hour
//! tally (whole hours) and where the partial hours at a range's ends are counted row by row.
//!
//! The index follower (trace, user and full-text entries written after the acknowledgement, on
//! SQLite) is stopped and stepped by the test instead: each case indexes a random number of the
//! rows stored so far, so queries meet every mix of indexed rows and not-yet-indexed tail,
//! including none and all of either.
//!
//! On PostgreSQL the property also runs with three collectors on the database, batches and
//! result pages spread over them (a cursor issued by one is followed on the next).
//!
//! Queries also carry negative filters (`not.<field>`, repeated; a log without the field is
//! kept) and walk either newest first or, with `order=asc`, oldest first. Some logs share a
//! timestamp, so the cursor's tie-break on id is exercised in both directions.

mod common;

use common::{Backend, TestServer};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::collections::HashSet;
use tracewire_shared::validate::{format_timestamp_us, parse_timestamp_us};
use uuid::Uuid;

const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const SOURCES: [&str; 2] = ["frontend", "backend"];
const MODULES: [&str; 3] = ["cart", "auth", "search"];
const TRACES: [&str; 3] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "0af7651916cd43dd8448eb211c80319c",
    "11111111111111111111111111111111",
];
const USERS: [&str; 3] = ["u1", "u2", "u3"];
const PATHS: [&str; 5] = [
    "/api/users",
    "/api/users/42",
    "/api/orders",
    "/home",
    "/Api/x",
];
const PREFIXES: [&str; 3] = ["/api/", "/api/users", "/home"];
/// Words with LIKE metacharacters and near-misses, so unescaped patterns would over-match.
const WORDS: [&str; 6] = ["alpha", "Beta", "gamma_1", "gammax1", "50% off", "50x off"];
/// Three characters or more go through SQLite's trigram index, shorter ones ("ph") scan.
const QUERIES: [&str; 6] = ["alpha", "BETA", "a_1", "50%", "off", "ph"];

/// Length of the era the generated logs fall in (ms).
const ERA_MS: i64 = 3 * 3_600_000;

/// One generated log.
#[derive(Debug, Clone)]
struct Gen {
    level: usize,
    source: usize,
    module: Option<usize>,
    trace: Option<usize>,
    user: Option<usize>,
    path: Option<usize>,
    word: usize,
    offset_ms: i64,
}

/// One generated query.
#[derive(Debug, Clone)]
struct Filter {
    source: Option<usize>,
    levels: Vec<usize>,
    min_level: Option<usize>,
    module: Option<usize>,
    trace: Option<usize>,
    user: Option<usize>,
    path: Option<(bool, usize)>,
    q: Option<usize>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: u32,
    /// `not.<field>` filters: (field index into [`NOT_FIELDS`], value index).
    nots: Vec<(usize, usize)>,
    /// `order=asc`.
    ascending: bool,
}

/// Fields a generated negative filter names, by parameter.
const NOT_FIELDS: [&str; 7] = [
    "not.level",
    "not.source",
    "not.module",
    "not.trace_id",
    "not.user_id",
    "not.path",
    "not.path*",
];

/// Timestamps several logs share, so equal times page by id.
const SHARED_OFFSETS_MS: [i64; 3] = [1_000, 3_600_000, 7_200_123];

fn gen_log() -> impl Strategy<Value = Gen> {
    (
        (0usize..5, 0usize..2, prop::option::of(0usize..3)),
        (prop::option::of(0usize..3), prop::option::of(0usize..3)),
        (
            prop::option::of(0usize..5),
            0usize..6,
            prop_oneof![
                3 => 0i64..ERA_MS,
                1 => prop::sample::select(SHARED_OFFSETS_MS.to_vec()),
            ],
        ),
    )
        .prop_map(
            |((level, source, module), (trace, user), (path, word, offset_ms))| Gen {
                level,
                source,
                module,
                trace,
                user,
                path,
                word,
                offset_ms,
            },
        )
}

fn gen_filter() -> impl Strategy<Value = Filter> {
    (
        (
            prop::option::weighted(0.3, 0usize..2),
            prop::collection::vec(0usize..5, 0..3),
            prop::option::weighted(0.3, 0usize..5),
            prop::option::weighted(0.3, 0usize..3),
        ),
        (
            prop::option::weighted(0.2, 0usize..3),
            prop::option::weighted(0.2, 0usize..3),
            prop::option::weighted(0.3, (any::<bool>(), 0usize..5)),
            prop::option::weighted(0.3, 0usize..QUERIES.len()),
        ),
        (
            prop::option::weighted(0.3, 0i64..ERA_MS),
            prop::option::weighted(0.3, 0i64..ERA_MS),
            1u32..25,
        ),
        (
            prop::collection::vec((0usize..NOT_FIELDS.len(), 0usize..5), 0..3),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (source, levels, min_level, module),
                (trace, user, path, q),
                (from_ms, to_ms, limit),
                (nots, ascending),
            )| {
                let (from_ms, to_ms) = match (from_ms, to_ms) {
                    (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                    other => other,
                };
                Filter {
                    source,
                    levels,
                    min_level,
                    module,
                    trace,
                    user,
                    path,
                    q,
                    from_ms,
                    to_ms,
                    limit,
                    nots,
                    ascending,
                }
            },
        )
}

/// The logs a filter must return (by message, which is unique), computed from what was sent.
fn matches(f: &Filter, g: &Gen) -> bool {
    let path = g.path.map(|p| PATHS[p]);
    let message = WORDS[g.word].to_lowercase();
    f.source.is_none_or(|s| s == g.source)
        && (f.levels.is_empty() || f.levels.contains(&g.level))
        && f.min_level.is_none_or(|m| g.level >= m)
        && f.module.is_none_or(|m| g.module == Some(m))
        && f.trace.is_none_or(|t| g.trace == Some(t))
        && f.user.is_none_or(|u| g.user == Some(u))
        && f.path.is_none_or(|(prefix, i)| match prefix {
            true => path.is_some_and(|p| p.starts_with(PREFIXES[i % PREFIXES.len()])),
            false => path == Some(PATHS[i]),
        })
        && f.q
            .is_none_or(|q| message.contains(&QUERIES[q].to_lowercase()))
        && f.from_ms.is_none_or(|from| g.offset_ms >= from)
        && f.to_ms.is_none_or(|to| g.offset_ms <= to)
        && f.nots.iter().all(|(field, v)| !excluded(*field, *v, g))
}

/// Whether the negative filter (field, value) leaves `g` out: only when `g` has that value;
/// a log without the field is never left out by it.
fn excluded(field: usize, v: usize, g: &Gen) -> bool {
    match NOT_FIELDS[field] {
        "not.level" => g.level == v % LEVELS.len(),
        "not.source" => g.source == v % SOURCES.len(),
        "not.module" => g.module == Some(v % MODULES.len()),
        "not.trace_id" => g.trace == Some(v % TRACES.len()),
        "not.user_id" => g.user == Some(v % USERS.len()),
        "not.path" => g.path == Some(v % PATHS.len()),
        _ => g
            .path
            .is_some_and(|p| PATHS[p].starts_with(PREFIXES[v % PREFIXES.len()])),
    }
}

/// The query-string value of a negative filter.
fn not_param(field: usize, v: usize) -> (&'static str, String) {
    match NOT_FIELDS[field] {
        "not.level" => ("not.level", LEVELS[v % LEVELS.len()].to_lowercase()),
        "not.source" => ("not.source", SOURCES[v % SOURCES.len()].into()),
        "not.module" => ("not.module", MODULES[v % MODULES.len()].into()),
        "not.trace_id" => ("not.trace_id", TRACES[v % TRACES.len()].into()),
        "not.user_id" => ("not.user_id", USERS[v % USERS.len()].into()),
        "not.path" => ("not.path", PATHS[v % PATHS.len()].into()),
        _ => ("not.path", format!("{}*", PREFIXES[v % PREFIXES.len()])),
    }
}

fn params(f: &Filter, era_us: i64) -> Vec<(&'static str, String)> {
    let at = |ms: i64| format_timestamp_us(era_us + ms * 1000);
    let mut p = vec![("limit", f.limit.to_string())];
    p.push(("to", at(f.to_ms.unwrap_or(ERA_MS))));
    if let Some(s) = f.source {
        p.push(("source", SOURCES[s].into()));
    }
    if !f.levels.is_empty() {
        let names: Vec<&str> = f.levels.iter().map(|l| LEVELS[*l]).collect();
        p.push(("level", names.join(",")));
    }
    if let Some(m) = f.min_level {
        p.push(("min_level", LEVELS[m].to_lowercase()));
    }
    if let Some(m) = f.module {
        p.push(("module", MODULES[m].into()));
    }
    if let Some(t) = f.trace {
        p.push(("trace_id", TRACES[t].into()));
    }
    if let Some(u) = f.user {
        p.push(("user_id", USERS[u].into()));
    }
    match f.path {
        Some((true, i)) => p.push(("path", format!("{}*", PREFIXES[i % PREFIXES.len()]))),
        Some((false, i)) => p.push(("path", PATHS[i].into())),
        None => {}
    }
    if let Some(q) = f.q {
        p.push(("q", QUERIES[q].into()));
    }
    if let Some(from) = f.from_ms {
        p.push(("from", at(from)));
    }
    p.extend(f.nots.iter().map(|(field, v)| not_param(*field, *v)));
    if f.ascending {
        p.push(("order", "asc".into()));
    }
    p
}

/// Sends `logs` as one batch per source, spreading the batches over `servers`.
async fn send(
    servers: &[TestServer],
    logs: &[(usize, Gen)],
    era_us: i64,
) -> Result<(), TestCaseError> {
    for (source_index, source) in SOURCES.iter().enumerate() {
        // Offset by the logs' numbers, so every collector takes batches over the cases.
        let first = logs.first().map_or(0, |(n, _)| *n);
        let server = &servers[(first + source_index) % servers.len()];
        let entries: Vec<Value> = logs
            .iter()
            .filter(|(_, g)| g.source == source_index)
            .map(|(n, g)| {
                json!({"level": LEVELS[g.level], "message": format!("{} m{n}", WORDS[g.word]),
                       "timestamp": format_timestamp_us(era_us + g.offset_ms * 1000),
                       "module": g.module.map(|m| MODULES[m]), "trace_id": g.trace.map(|t| TRACES[t]),
                       "user_id": g.user.map(|u| USERS[u]), "request_path": g.path.map(|p| PATHS[p])})
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let batch =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": source, "logs": entries});
        let (status, body) = server.ingest(&batch).await;
        prop_assert_eq!(status, 200, "{}", body);
    }
    Ok(())
}

fn property_9(backend: Backend) {
    property_9_over(backend, 1);
}

/// Property 9 with `collectors` collectors on one database: batches and result pages are spread
/// over them round-robin, so a cursor one collector issued is followed on another.
fn property_9_over(backend: Backend, collectors: usize) {
    let era_us = parse_timestamp_us("2021-03-01T10:17:23.456Z").expect("era");
    // Everything stored so far (cases accumulate; proptest's closure is `Fn`).
    let sent: std::cell::RefCell<Vec<(usize, Gen)>> = std::cell::RefCell::new(Vec::new());
    let sent = &sent;
    let strategy = (
        prop::collection::vec(gen_log(), 0..40),
        prop::collection::vec(gen_filter(), 1..6),
        0..80i64,
    );
    let tweak = |c: &mut tracewire_server::config::ServeConfig| {
        c.rate_limit = 1e9;
        c.rate_burst = 1e9;
        c.index_interval_ms = 0;
    };
    let setup = async {
        let first = TestServer::start_with(backend, tweak).await;
        let token = first.admin_token().await;
        let mut servers = vec![];
        for _ in 1..collectors {
            let mut config = tracewire_server::config::ServeConfig::for_database(&first.db.url);
            tweak(&mut config);
            servers.push(TestServer::start_on(first.db.alias(), config).await);
        }
        servers.insert(0, first);
        (servers, token)
    };
    common::check_property(
        12,
        strategy,
        setup,
        |fixture, (logs, filters, index_step)| async move {
            let (servers, token) = &*fixture;
            let base = sent.borrow().len();
            let new: Vec<(usize, Gen)> = logs
                .into_iter()
                .enumerate()
                .map(|(i, g)| (base + i, g))
                .collect();
            send(servers, &new, era_us).await?;
            sent.borrow_mut().extend(new);
            if index_step > 0 {
                servers[0]
                    .store
                    .index_logs(index_step)
                    .await
                    .expect("index step");
            }
            let sent = sent.borrow().clone();
            for f in &filters {
                let expected: HashSet<String> = sent
                    .iter()
                    .filter(|(_, g)| matches(f, g))
                    .map(|(n, g)| format!("{} m{n}", WORDS[g.word]))
                    .collect();
                let mut seen: HashSet<String> = HashSet::new();
                let mut last_ts: Option<i64> = None;
                let mut cursor: Option<String> = None;
                for page in 0..1000 {
                    let server = &servers[page % servers.len()];
                    let mut query = params(f, era_us);
                    if let Some(c) = &cursor {
                        query.push(("cursor", c.clone()));
                    }
                    let r = server
                        .client
                        .get(server.url("/api/v1/logging/logs"))
                        .bearer_auth(token)
                        .query(&query)
                        .send()
                        .await
                        .expect("query");
                    prop_assert_eq!(r.status().as_u16(), 200);
                    let body: Value = r.json().await.expect("json");
                    prop_assert_eq!(
                        body["total"].as_u64(),
                        Some(expected.len() as u64),
                        "{:?}",
                        f
                    );
                    let items = body["items"].as_array().expect("items");
                    prop_assert!(items.len() <= f.limit as usize);
                    for item in items {
                        let message = item["message"].as_str().expect("message").to_owned();
                        prop_assert!(
                            expected.contains(&message),
                            "unexpected {} for {:?}",
                            message,
                            f
                        );
                        let ts = item["timestamp"]
                            .as_str()
                            .and_then(parse_timestamp_us)
                            .expect("ts");
                        if f.ascending {
                            prop_assert!(last_ts.is_none_or(|l| ts >= l), "not oldest first");
                        } else {
                            prop_assert!(last_ts.is_none_or(|l| ts <= l), "not newest first");
                        }
                        last_ts = Some(ts);
                        prop_assert!(seen.insert(message), "duplicate across pages");
                    }
                    match body["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_owned()),
                        None => break,
                    }
                }
                prop_assert_eq!(seen.len(), expected.len(), "missed rows for {:?}", f);
            }
            Ok(())
        },
        |(mut servers, _)| async move {
            // The aliases first: the first collector's database handle owns the database.
            while let Some(server) = servers.pop() {
                server.stop().await;
            }
        },
    );
}

property_on_both_backends!(property_9_filters_and_paging_are_exact, super::property_9);

/// ARCHITECTURE §5 (stateless collectors): three collectors on one PostgreSQL answer exactly as
/// one does, whichever of them stored a batch or issued a cursor.
#[test]
fn property_9_holds_across_three_collectors_on_postgresql() {
    property_9_over(Backend::Postgres, 3);
}
