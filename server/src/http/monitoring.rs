//! `GET /api/v1/monitoring/{metrics,slow-requests,slow-queries,error-rates,web-vitals}`: reads of
//! the aggregates and slow entries ingest derives from request logs and `metrics` entries.
//! Every read needs a session (viewer or admin) and leaves an audit row, like log queries.

use super::auth::CurrentUser;
use super::extract::AppQuery;
use super::views::page;
use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::monitoring::aggregate::{SketchesWanted, SummaryRow};
use crate::monitoring::combined::combined_summaries;
use crate::monitoring::read::bucket_summaries;
use crate::monitoring::series;
use crate::query::Params;
use crate::query::cursor::Cursor;
use crate::state::AppState;
use crate::store::{SeriesFilter, SlowQueryRow, SlowRequestRow};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{
    ErrorRates, METRIC_TYPE_HTTP_REQUEST, METRIC_TYPE_WEB_VITAL, MetricsResponse, Period,
    SlowRequest, SlowStatement, WebVitals,
};
use tracewire_shared::validate::format_timestamp_us;

/// `/api/v1/monitoring/…` reads of aggregates and slow entries; any session, each read audited.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/monitoring/metrics", get(metrics))
        .route("/api/v1/monitoring/slow-requests", get(slow_requests))
        .route("/api/v1/monitoring/slow-queries", get(slow_queries))
        .route("/api/v1/monitoring/error-rates", get(error_rates))
        .route("/api/v1/monitoring/web-vitals", get(web_vitals))
}

const HOUR_US: i64 = 3_600_000_000;

/// `from`/`to` with a default window ending now; `to` before `from` is a 422.
fn window(p: &mut Params<'_>, default_us: i64) -> (i64, i64) {
    let (from, to) = p.range();
    let to = to.unwrap_or_else(now_us);
    (from.unwrap_or(to - default_us), to)
}

/// `period`, or the one [`series::choose_period`] picks for the window.
fn period(p: &mut Params<'_>, from: i64, to: i64) -> Period {
    match p.get("period") {
        None => series::choose_period(from, to),
        Some(raw) => Period::parse(raw).unwrap_or_else(|| {
            p.fail("period", "expected 1m, 5m, 1h or 1d");
            Period::Minute
        }),
    }
}

/// `source` as stored.
fn source(p: &mut Params<'_>) -> Option<String> {
    let raw = p.get("source")?;
    if raw != "frontend" && raw != "backend" {
        p.fail("source", "expected frontend or backend");
    }
    Some(raw.to_owned())
}

/// `threshold_ms`, at least 0; defaults to `default`.
fn threshold(p: &mut Params<'_>, default: f64) -> f64 {
    match p.get("threshold_ms").map(str::parse::<f64>) {
        None => default,
        Some(Ok(v)) if v.is_finite() && v >= 0.0 => v,
        Some(_) => {
            p.fail(
                "threshold_ms",
                "expected a number of milliseconds, 0 or more",
            );
            default
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/metrics",
    tag = "monitoring",
    params(tracewire_shared::api::monitoring::MetricsQuery),
    responses(
        (status = 200, description = "Series of aggregates over the window", body = MetricsResponse),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn metrics(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<MetricsResponse>> {
    let mut p = Params::new(
        &query,
        &[
            "metric_type",
            "metric_name",
            "endpoint",
            "source",
            "period",
            "from",
            "to",
            "combine",
        ],
    );
    let combine = match p.get("combine") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            p.fail("combine", "expected true or false");
            false
        }
    };
    let metric_type = match p.get("metric_type") {
        Some(t) => t.to_owned(),
        None => {
            p.fail(
                "metric_type",
                "required, e.g. http_request, db_query or web_vital",
            );
            String::new()
        }
    };
    let (from, to) = window(&mut p, HOUR_US);
    let filter = SeriesFilter {
        metric_type,
        metric_name: p.get("metric_name").map(str::to_owned),
        endpoint: p.get("endpoint").map(str::to_owned),
        source: source(&mut p),
        period: period(&mut p, from, to),
        from_us: from,
        to_us: to,
    };
    let filter = p.finish(filter).map_err(Error::Validation)?;
    // Per-series buckets merge several rows only across projects and sources; a combined
    // series merges every row of a bucket.
    let sketches = if combine {
        SketchesWanted::All
    } else {
        SketchesWanted::WhereMerged
    };
    let mut rows = if combine && filter.metric_name.is_none() && filter.endpoint.is_none() {
        // The whole family: settled buckets from the roll-up's family totals.
        combined_summaries(state.store.as_ref(), filter.clone(), settled_before(&state)).await?
    } else {
        read_rows(&state, filter.clone(), sketches).await?
    };
    if combine {
        // One series for everything matched: the sketches of every endpoint and method merge
        // per bucket, so the percentiles are of all requests (never averages of percentiles).
        for r in &mut rows {
            r.series.metric_name = String::new();
            r.series.endpoint = filter.endpoint.clone();
        }
    }
    let body = MetricsResponse {
        period: filter.period,
        from: format_timestamp_us(from),
        to: format_timestamp_us(to),
        series: series::series(&rows, filter.period),
        dropped: i64::try_from(state.ingest.series_dropped()).unwrap_or(i64::MAX),
    };
    let details = json!({"metric_type": filter.metric_type, "period": filter.period.as_str(),
                         "from": body.from, "to": body.to, "series": body.series.len()});
    audit(&state, &current, "monitoring.metrics", details).await?;
    Ok(Json(body))
}

/// The parameters shared by both slow lists.
struct SlowParams {
    threshold_ms: f64,
    from: i64,
    to: i64,
    limit: u32,
    before: Option<(i64, uuid::Uuid)>,
}

fn slow_params(query: &HashMap<String, String>, default_threshold: f64) -> Result<SlowParams> {
    let mut p = Params::new(query, &["threshold_ms", "from", "to", "limit", "cursor"]);
    let threshold_ms = threshold(&mut p, default_threshold);
    let (from, to) = window(&mut p, 24 * HOUR_US);
    let limit = p.limit();
    let before = p.cursor().map(|c| (c.time_us, c.id));
    p.finish(SlowParams {
        threshold_ms,
        from,
        to,
        limit,
        before,
    })
    .map_err(Error::Validation)
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/slow-requests",
    tag = "monitoring",
    params(super::openapi::SlowListParams),
    responses(
        (status = 200, description = "Requests over the threshold, slowest first", body = Page<SlowRequest>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn slow_requests(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<Page<SlowRequest>>> {
    let s = slow_params(&query, state.config.slow_request_ms)?;
    let rows = state
        .store
        .slow_requests(s.threshold_ms, s.from, s.to, s.before, s.limit)
        .await?;
    let total = state
        .store
        .count_slow_requests(s.threshold_ms, None, s.from, s.to)
        .await?;
    let body: Page<SlowRequest> = page(rows, total, s.limit, |r: &SlowRequestRow| Cursor {
        time_us: r.timestamp,
        id: r.id,
    });
    let details = json!({"threshold_ms": s.threshold_ms, "rows": body.items.len()});
    audit(&state, &current, "monitoring.slow_requests", details).await?;
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/slow-queries",
    tag = "monitoring",
    params(super::openapi::SlowListParams),
    responses(
        (status = 200, description = "Database statements over the threshold, slowest first", body = Page<SlowStatement>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn slow_queries(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<Page<SlowStatement>>> {
    let s = slow_params(&query, state.config.slow_query_ms)?;
    let rows = state
        .store
        .slow_queries(s.threshold_ms, s.from, s.to, s.before, s.limit)
        .await?;
    let total = state
        .store
        .count_slow_queries(s.threshold_ms, s.from, s.to)
        .await?;
    let body: Page<SlowStatement> = page(rows, total, s.limit, |r: &SlowQueryRow| Cursor {
        time_us: r.timestamp,
        id: r.id,
    });
    let details = json!({"threshold_ms": s.threshold_ms, "rows": body.items.len()});
    audit(&state, &current, "monitoring.slow_queries", details).await?;
    Ok(Json(body))
}

/// Rows of one metric family over a window, at the period the window calls for.
async fn family_rows(
    state: &AppState,
    query: &HashMap<String, String>,
    metric_type: &str,
    default_window_us: i64,
    sketches: SketchesWanted,
) -> Result<(i64, i64, Vec<SummaryRow>)> {
    let mut p = Params::new(query, &["from", "to", "source"]);
    let (from, to) = window(&mut p, default_window_us);
    let source = source(&mut p);
    let filter = p
        .finish(SeriesFilter {
            metric_type: metric_type.to_owned(),
            metric_name: None,
            endpoint: None,
            source,
            period: series::choose_period(from, to),
            from_us: from,
            to_us: to,
        })
        .map_err(Error::Validation)?;
    Ok((from, to, read_rows(state, filter, sketches).await?))
}

/// Rows for `filter.period` buckets over the filter's window ([`bucket_summaries`]).
async fn read_rows(
    state: &AppState,
    filter: SeriesFilter,
    sketches: SketchesWanted,
) -> Result<Vec<SummaryRow>> {
    Ok(bucket_summaries(
        state.store.as_ref(),
        filter,
        settled_before(state),
        sketches,
    )
    .await?)
}

/// Buckets that ended before this are read as the roll-up stored them: two roll-up intervals
/// ago (the job's period plus the time one run may take).
fn settled_before(state: &AppState) -> i64 {
    now_us() - 2 * 1_000_000 * state.config.rollup_interval_secs as i64
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/error-rates",
    tag = "monitoring",
    params(super::openapi::FamilyParams),
    responses(
        (status = 200, description = "Error rate per endpoint over the window", body = ErrorRates),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn error_rates(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<ErrorRates>> {
    let (from, to, rows) = family_rows(
        &state,
        &query,
        METRIC_TYPE_HTTP_REQUEST,
        HOUR_US,
        SketchesWanted::None,
    )
    .await?;
    let body = ErrorRates {
        from: format_timestamp_us(from),
        to: format_timestamp_us(to),
        items: series::error_rates(&rows),
    };
    let details = json!({"from": body.from, "to": body.to, "rows": body.items.len()});
    audit(&state, &current, "monitoring.error_rates", details).await?;
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/web-vitals",
    tag = "monitoring",
    params(super::openapi::FamilyParams),
    responses(
        (status = 200, description = "p75 of each web vital per page", body = WebVitals),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn web_vitals(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery,
) -> Result<Json<WebVitals>> {
    let (from, to, rows) = family_rows(
        &state,
        &query,
        METRIC_TYPE_WEB_VITAL,
        24 * HOUR_US,
        SketchesWanted::All,
    )
    .await?;
    let body = WebVitals {
        from: format_timestamp_us(from),
        to: format_timestamp_us(to),
        items: series::web_vitals(&rows),
    };
    let details = json!({"from": body.from, "to": body.to, "rows": body.items.len()});
    audit(&state, &current, "monitoring.web_vitals", details).await?;
    Ok(Json(body))
}

async fn audit(
    state: &AppState,
    current: &CurrentUser,
    action: &str,
    details: serde_json::Value,
) -> Result<()> {
    state
        .auth
        .audit(&current.user.username, action, None, details)
        .await?;
    Ok(())
}
