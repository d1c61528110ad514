//! Realistic log batches for the ingest bench, written straight as JSON text (cheaper than
//! building `serde_json::Value`s, so the clients leave more CPU to the collector).

use rand::Rng;
use rand::seq::IndexedRandom;
use std::fmt::Write as _;
use uuid::Uuid;

const LEVELS: &[&str] = &[
    "INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARNING", "ERROR", "CRITICAL",
];
const TEMPLATES: &[&str] = &[
    "user {} logged in",
    "order {} created with {} items",
    "payment {} authorized in {} ms",
    "cache miss for key product:{}:{}",
    "retrying request {} (attempt {})",
    "upstream timeout after {} ms calling inventory {}",
    "rendered page {} in {} ms",
    "session {} expired after {} s",
    "invalid coupon {} for cart {}",
    "email {} queued for user {}",
    "search for {} returned {} results",
    "slow query {} took {} ms",
    "feature flag {} evaluated to {}",
    "websocket {} closed with code {}",
    "file {} uploaded ({} bytes)",
    "token refresh for client {} at {}",
    "cart {} recalculated: {} lines",
    "job {} finished in {} ms",
    "webhook {} delivered, status {}",
    "rate limit near for tenant {}: {} req",
    "image {} resized to {}",
    "checkout {} failed: card declined code {}",
    "inventory reserved for sku {} qty {}",
    "report {} exported with {} rows",
    "permission denied for user {} on {}",
    "config reloaded, version {} by {}",
    "health probe {} latency {} ms",
    "shipment {} label printed, carrier {}",
    "notification {} sent via channel {}",
    "batch {} imported: {} records",
];
const PATHS: &[&str] = &[
    "/api/orders",
    "/api/cart/items",
    "/api/users/me",
    "/api/products/search",
    "/checkout/confirm",
    "/api/payments/authorize",
    "/api/inventory/reserve",
    "/account/settings",
];
const MODULES: &[(&str, &str)] = &[
    ("cart", "submit"),
    ("auth", "login"),
    ("orders", "create_order"),
    ("payments", "authorize"),
    ("search", "query"),
    ("inventory", "reserve"),
];

/// Generates realistic log batches as JSON text (300–600 bytes per log).
pub(crate) struct LogGen {
    rng: rand::rngs::StdRng,
    client_no: usize,
}

impl LogGen {
    pub(crate) fn new(client_no: usize) -> Self {
        use rand::SeedableRng;
        Self {
            rng: rand::rngs::StdRng::seed_from_u64(rand::random::<u64>() ^ client_no as u64),
            client_no,
        }
    }

    /// One batch body of `n` logs with a fresh batch_id.
    pub(crate) fn batch(&mut self, n: usize) -> String {
        let now = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_else(|_| "2026-01-01T00:00:00Z".to_owned());
        let mut s = String::with_capacity(n * 520 + 128);
        let _ = write!(
            s,
            r#"{{"batch_id":"{}","source":"backend","sdk":{{"name":"bench","version":"0.1.0"}},"logs":["#,
            Uuid::now_v7()
        );
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            self.log(&mut s, &now);
        }
        s.push_str("]}");
        s
    }

    fn log(&mut self, s: &mut String, now: &str) {
        let r = &mut self.rng;
        let level = LEVELS.choose(r).copied().unwrap_or("INFO");
        let template = TEMPLATES.choose(r).copied().unwrap_or("event {} {}");
        let mut message = String::with_capacity(64);
        for (i, part) in template.split("{}").enumerate() {
            if i > 0 {
                let _ = write!(message, "{}", r.random_range(1..1_000_000u32));
            }
            message.push_str(part);
        }
        let (module, function) = MODULES.choose(r).copied().unwrap_or(("app", "main"));
        let path = PATHS.choose(r).copied().unwrap_or("/");
        let status = [200, 200, 200, 201, 204, 400, 404, 500][r.random_range(0..8)];
        let _ = write!(
            s,
            r#"{{"level":"{level}","message":"{message}","timestamp":"{now}","module":"{module}","function":"{function}","trace_id":"{:032x}","span_id":"{:016x}","user_id":"user-{}","request_method":"{}","request_path":"{path}","response_status":{status},"duration_ms":{},"extra_data":{{"client":{},"region":"{}","attempt":{}"#,
            r.random::<u128>(),
            r.random::<u64>(),
            r.random_range(1..50_000u32),
            if r.random_bool(0.6) { "GET" } else { "POST" },
            r.random_range(1..2_000u32),
            self.client_no,
            ["eu-west-1", "us-east-1", "ap-south-1"][r.random_range(0..3)],
            r.random_range(1..4u32),
        );
        // 3–6 fields in extra_data.
        let extra = r.random_range(0..4u32);
        if extra > 0 {
            let _ = write!(s, r#","cart_total":{:.2}"#, r.random_range(1.0..900.0f64));
        }
        if extra > 1 {
            let _ = write!(
                s,
                r#","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/{}.0""#,
                r.random_range(100..140u32)
            );
        }
        if extra > 2 {
            let _ = write!(
                s,
                r#","feature_flags":["checkout_v{}","search_beta"]"#,
                r.random_range(1..5u32)
            );
        }
        s.push_str("}}");
    }
}
