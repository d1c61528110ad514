//! The per-key ingest rate limit kept in PostgreSQL, shared by every collector on the database
//! (migration 0012): the one SQL statement that refills and charges a bucket agrees with the
//! pure [`TokenBucket`] step for step, concurrent charges from many connections never pass more
//! than the bucket allows, and SQLite, which one process owns, leaves the buckets to the
//! collector. `scale_out.rs` checks the limit across three collector processes.

mod common;

use common::{Backend, TestServer};
use proptest::prelude::*;
use std::sync::Arc;
use tracewire_server::ingest::ratelimit::{RateRequest, TokenBucket};
use tracewire_server::store::Store;
use uuid::Uuid;

/// One charge: time step in quarter seconds (negative: the clock went back) and entries. Whole
/// rates and bursts with quarter-second steps keep every token count a small dyadic fraction,
/// so the database's arithmetic and the model's are exact and can be compared for equality.
fn steps() -> impl Strategy<Value = Vec<(i64, usize)>> {
    prop::collection::vec(
        (
            prop_oneof![6 => 0i64..12, 1 => -4i64..0],
            prop_oneof![3 => 1usize..200, 1 => 200usize..3000],
        ),
        1..40,
    )
}

#[test]
fn the_database_bucket_agrees_with_the_token_bucket_step_for_step() {
    common::check_property(
        24,
        (1u32..500, 1u32..2000, steps()),
        TestServer::start(Backend::Postgres),
        |server, (rate, burst, steps)| async move {
            let (rate, burst) = (f64::from(rate), f64::from(burst));
            let key = Uuid::new_v4();
            let start_us = 1_700_000_000_000_000i64;
            let mut model: Option<TokenBucket> = None;
            let mut now_us = start_us;
            for (quarters, entries) in steps {
                now_us += quarters * 250_000;
                // Both start full at the key's first charge.
                let model =
                    model.get_or_insert_with(|| TokenBucket::new(rate, burst, now_us as f64 / 1e6));
                let request = RateRequest::new(key, entries, rate, burst, Some(now_us));
                let stored = server
                    .store
                    .take_rate_tokens(&request)
                    .await
                    .expect("charge")
                    .expect("PostgreSQL shares the buckets");
                let expected = model.take(entries as f64, now_us as f64 / 1e6);
                prop_assert_eq!(
                    stored,
                    expected,
                    "{} entries at {} µs (rate {}, burst {})",
                    entries,
                    now_us - start_us,
                    rate,
                    burst
                );
            }
            Ok(())
        },
        |server| server.stop(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_charges_never_pass_more_than_the_bucket_allows() {
    let server = TestServer::start(Backend::Postgres).await;
    let store: Arc<dyn Store> = server.store.clone();
    let key = Uuid::new_v4();
    let (rate, burst) = (200.0, 500.0);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut passed = 0usize;
            let mut refused = 0usize;
            for _ in 0..40 {
                let request = RateRequest::new(key, 25, rate, burst, None);
                match store.take_rate_tokens(&request).await {
                    Ok(Some(Ok(()))) => passed += 25,
                    Ok(Some(Err(wait))) => {
                        assert!(wait > 0.0, "a refusal says when to retry: {wait}");
                        refused += 1;
                    }
                    other => panic!("unexpected answer {other:?}"),
                }
            }
            (passed, refused)
        }));
    }
    let (mut passed, mut refused) = (0, 0);
    for task in tasks {
        let (p, r) = task.await.expect("task");
        passed += p;
        refused += r;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // 8 × 40 × 25 = 8,000 entries asked for within a fraction of a second.
    let allowed = burst + rate * elapsed;
    assert!(
        passed as f64 <= allowed + 1e-6,
        "{passed} entries passed in {elapsed:.3} s; the bucket allows {allowed:.0}"
    );
    assert!(
        passed as f64 >= burst,
        "the full bucket passes its burst: {passed}"
    );
    assert!(refused > 0);
    server.stop().await;
}

#[tokio::test]
async fn sqlite_leaves_the_buckets_to_the_collector() {
    let server = TestServer::start(Backend::Sqlite).await;
    let request = RateRequest::new(Uuid::new_v4(), 10, 1.0, 1.0, None);
    let answer = server
        .store
        .take_rate_tokens(&request)
        .await
        .expect("answer");
    assert_eq!(answer, None);
    server.stop().await;
}
