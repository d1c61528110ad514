//! The metrics dashboard (`/performance`: `/metrics` is the collector's Prometheus endpoint):
//! request rate, error rate and p50/p95/p99 latency over the chosen range, for all requests or
//! one endpoint, at the period that fits the range; a shared cursor across the charts, and a
//! click opens the log explorer on that endpoint and bucket.
//! Below: error rate by endpoint with sparklines, slow requests and slow queries (threshold
//! adjustable, rows link to their trace) and web vitals p75 per page. Range, endpoint and
//! thresholds live in the URL, spelled as the log explorer spells its range.

use crate::app::api::{self, ApiError};
use crate::app::components::fetch::{decoded, json_resource};
use crate::app::components::linechart::{Line, LineChart, Unit, format_value};
use crate::app::ctx;
use crate::chart::{bucket_starts, log_path_filter, period_for};
use crate::query::{LogQuery, PRESETS, TimeRange, decode_query, encode_pairs};
use crate::timefmt::{self, Precision, fixed2};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use std::collections::BTreeMap;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{
    DEFAULT_SLOW_QUERY_MS, DEFAULT_SLOW_REQUEST_MS, ErrorRates, MetricSeries, MetricsResponse,
    SlowRequest, SlowStatement, WebVitals,
};

/// The dashboard's URL state.
#[derive(Clone, PartialEq)]
struct View {
    /// Range (the explorer's spelling: `range`, or `from` + `to`).
    range: TimeRange,
    /// One route template, or all.
    endpoint: String,
    /// `frontend`, `backend`, or empty for every source (the collector's own API requests
    /// included).
    source: String,
    /// Slow request threshold, ms.
    slow_ms: f64,
    /// Slow query threshold, ms.
    slow_query_ms: f64,
}

impl View {
    fn from_query(search: &str) -> View {
        let pairs = decode_query(search);
        let q = LogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let ms = |key: &str, default: f64| {
            get(key)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(default)
        };
        View {
            range: q.range,
            endpoint: get("endpoint").unwrap_or_default(),
            source: get("source")
                .filter(|s| s == "frontend" || s == "backend")
                .unwrap_or_default(),
            slow_ms: ms("slow_ms", DEFAULT_SLOW_REQUEST_MS),
            slow_query_ms: ms("slow_query_ms", DEFAULT_SLOW_QUERY_MS),
        }
    }

    fn to_url(&self) -> String {
        let mut q = LogQuery {
            range: self.range.clone(),
            ..LogQuery::default()
        };
        q.fields.clear();
        let mut pairs = q.to_pairs();
        if !self.endpoint.is_empty() {
            pairs.push(("endpoint".into(), self.endpoint.clone()));
        }
        if !self.source.is_empty() {
            pairs.push(("source".into(), self.source.clone()));
        }
        if self.slow_ms != DEFAULT_SLOW_REQUEST_MS {
            pairs.push(("slow_ms".into(), crate::ruleform::number_text(self.slow_ms)));
        }
        if self.slow_query_ms != DEFAULT_SLOW_QUERY_MS {
            pairs.push((
                "slow_query_ms".into(),
                crate::ruleform::number_text(self.slow_query_ms),
            ));
        }
        if pairs.is_empty() {
            "/performance".into()
        } else {
            format!("/performance?{}", encode_pairs(&pairs))
        }
    }
}

fn window(range: &TimeRange) -> (i64, i64) {
    range.bounds(api::now_us())
}

fn range_params(from: i64, to: i64) -> Vec<(String, String)> {
    vec![
        (
            "from".into(),
            tracewire_shared::validate::format_timestamp_us(from),
        ),
        (
            "to".into(),
            tracewire_shared::validate::format_timestamp_us(to),
        ),
    ]
}

fn failed(e: &ApiError) -> AnyView {
    view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
}

/// Values of one series per bucket start (absent buckets: `fill`).
fn per_bucket(
    series: Option<&MetricSeries>,
    starts: &[i64],
    value: fn(&tracewire_shared::api::monitoring::MetricPoint) -> f64,
    fill: Option<f64>,
) -> Vec<Option<f64>> {
    let by_start: BTreeMap<i64, f64> = series
        .map(|s| {
            s.points
                .iter()
                .filter_map(|p| Some((timefmt::parse_us(&p.start)?, value(p))))
                .collect()
        })
        .unwrap_or_default();
    starts
        .iter()
        .map(|s| by_start.get(s).copied().or(fill))
        .collect()
}

/// The dashboard page.
#[component]
pub fn MetricsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let view_state = Memo::new(move |_| View::from_query(&location.search.get()));
    let go: Go = StoredValue::new(std::sync::Arc::new(move |v: View| {
        navigate(&v.to_url(), NavigateOptions::default());
    }));
    let reload = RwSignal::new(0u32);
    // The window is fixed when the view (or a refresh) changes, so every panel shows one span.
    let win = Memo::new(move |_| {
        reload.get();
        window(&view_state.with(|v| v.range.clone()))
    });
    let cursor = RwSignal::new(None::<i64>);
    let rates = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        let source = view_state.with(|v| v.source.clone());
        {
            let mut p = range_params(from, to);
            if !source.is_empty() {
                p.push(("source".into(), source));
            }
            ("/api/v1/monitoring/error-rates".to_owned(), p, 0)
        }
    }));
    let endpoints = Memo::new(move |_| {
        let mut list: Vec<String> = match decoded::<ErrorRates>(&rates) {
            Some(Ok(r)) => r.items.into_iter().filter_map(|i| i.endpoint).collect(),
            _ => Vec::new(),
        };
        list.sort();
        list.dedup();
        let current = view_state.with(|v| v.endpoint.clone());
        if !current.is_empty() && !list.contains(&current) {
            list.push(current);
        }
        list
    });
    let set_range = move |value: String| {
        let mut v = view_state.get_untracked();
        v.range = TimeRange::Preset(value);
        go.with_value(|g| g(v));
    };
    let set_endpoint = move |value: String| {
        let mut v = view_state.get_untracked();
        v.endpoint = value;
        go.with_value(|g| g(v));
    };
    let set_source = move |value: String| {
        let mut v = view_state.get_untracked();
        v.source = value;
        go.with_value(|g| g(v));
    };
    view! {
        <section class="panel metrics-page">
            <div class="page-head">
                <h1>"Metrics"</h1>
                <div class="spacer"></div>
                <div class="field">
                    <label for="m-endpoint">"Endpoint"</label>
                    <select id="m-endpoint" on:change=move |ev| set_endpoint(event_target_value(&ev))>
                        <option value="" selected=move || view_state.with(|v| v.endpoint.is_empty())>"All endpoints"</option>
                        {move || endpoints.get().into_iter().map(|e| {
                            let sel = e.clone();
                            view! { <option value=e.clone() selected=move || view_state.with(|v| v.endpoint == sel)>{e.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="m-source">"Source"</label>
                    <select id="m-source" on:change=move |ev| set_source(event_target_value(&ev))>
                        {[("", "All"), ("backend", "Backend"), ("frontend", "Frontend")].into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || view_state.with(|v| v.source == value)>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="m-range">"Time range"</label>
                    <select id="m-range" on:change=move |ev| set_range(event_target_value(&ev))>
                        {PRESETS.iter().map(|(key, label, _)| view! {
                            <option value=*key selected=move || view_state.with(|v| v.range == TimeRange::Preset((*key).to_owned()))>{*label}</option>
                        }).collect_view()}
                        {move || view_state.with(|v| matches!(v.range, TimeRange::Absolute { .. })).then(|| view! {
                            <option value="" selected=true disabled=true>"Custom range"</option>
                        })}
                    </select>
                </div>
                <button class="btn" type="button" title="Load again (moves relative ranges to now)"
                    on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Charts view_state win cursor/>
        </section>
        <ErrorRateTable rates view_state win/>
        <SlowRequests view_state win go/>
        <SlowQueries view_state win go/>
        <Vitals win/>
    }
}

/// Rate, error rate and latency charts of the view's endpoint (or all requests).
#[component]
fn Charts(
    view_state: Memo<View>,
    win: Memo<(i64, i64)>,
    cursor: RwSignal<Option<i64>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let series = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        let (endpoint, source) = view_state.with(|v| (v.endpoint.clone(), v.source.clone()));
        {
            let period = period_for(to - from);
            let mut p = range_params(from, to);
            p.push(("metric_type".into(), "http_request".into()));
            p.push(("period".into(), period.as_str().into()));
            p.push(("combine".into(), "true".into()));
            if !endpoint.is_empty() {
                p.push(("endpoint".into(), endpoint));
            }
            if !source.is_empty() {
                p.push(("source".into(), source));
            }
            ("/api/v1/monitoring/metrics".to_owned(), p, 0)
        }
    }));
    let on_pick = Callback::new(move |start: i64| {
        let (from, to) = win.get_untracked();
        let step = period_for(to - from).seconds() * 1_000_000;
        let mut q = LogQuery {
            range: TimeRange::Absolute {
                from_us: start,
                to_us: start + step - 1,
            },
            ..LogQuery::default()
        };
        let endpoint = view_state.with_untracked(|v| v.endpoint.clone());
        if !endpoint.is_empty() {
            q.set_field("path", &log_path_filter(&endpoint));
        }
        navigate(
            &format!("/logs?{}", q.to_query_string()),
            NavigateOptions::default(),
        );
    });
    move || match decoded::<MetricsResponse>(&series) {
        None => view! { <p class="loading" role="status">"Loading metrics…"</p> }.into_any(),
        Some(Err(e)) => failed(&e),
        Some(Ok(m)) => {
            let (from, to) = win.get_untracked();
            let starts = bucket_starts(from, to, m.period.seconds() * 1_000_000);
            let s = m.series.first();
            let rate = per_bucket(s, &starts, |p| p.rate, Some(0.0));
            let err = per_bucket(s, &starts, |p| p.error_rate, None);
            let p50 = per_bucket(s, &starts, |p| p.p50, None);
            let p95 = per_bucket(s, &starts, |p| p.p95, None);
            let p99 = per_bucket(s, &starts, |p| p.p99, None);
            let total: i64 = s.map_or(0, |s| s.points.iter().map(|p| p.count).sum());
            view! {
                <p class="muted">{format!("{total} requests, one point per {}. Click a point to open its logs.",
                    match m.period.as_str() { "1m" => "minute", "5m" => "5 minutes", "1h" => "hour", _ => "day" })}
                    {(m.dropped > 0).then(|| format!(" {} observations were dropped by the series cap.", m.dropped))}</p>
                <div class="charts">
                    <LineChart title="Request rate" unit=Unit::PerSecond starts=starts.clone()
                        lines=vec![Line { label: "requests", class: "s-rate", values: rate }]
                        from to cursor on_pick/>
                    <LineChart title="Error rate" unit=Unit::Ratio starts=starts.clone()
                        lines=vec![Line { label: "5xx", class: "s-err", values: err }]
                        from to cursor on_pick/>
                    <LineChart title="Latency" unit=Unit::Ms starts
                        lines=vec![
                            Line { label: "p50", class: "s-p50", values: p50 },
                            Line { label: "p95", class: "s-p95", values: p95 },
                            Line { label: "p99", class: "s-p99", values: p99 },
                        ]
                        from to cursor on_pick/>
                </div>
            }
            .into_any()
        }
    }
}

/// Endpoints by error rate over the window, each with an error-rate sparkline.
#[component]
fn ErrorRateTable(
    rates: LocalResource<Result<String, ApiError>>,
    view_state: Memo<View>,
    win: Memo<(i64, i64)>,
) -> impl IntoView {
    let series = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        let source = view_state.with(|v| v.source.clone());
        {
            let mut p = range_params(from, to);
            if !source.is_empty() {
                p.push(("source".into(), source));
            }
            p.push(("metric_type".into(), "http_request".into()));
            p.push(("period".into(), period_for(to - from).as_str().into()));
            ("/api/v1/monitoring/metrics".to_owned(), p, 0)
        }
    }));
    let sparks = Memo::new(move |_| {
        // Per endpoint and bucket: (errors, requests), summed over methods.
        let mut by: BTreeMap<String, BTreeMap<i64, (i64, i64)>> = BTreeMap::new();
        if let Some(Ok(m)) = decoded::<MetricsResponse>(&series) {
            for s in &m.series {
                let e = by
                    .entry(s.endpoint.clone().unwrap_or_default())
                    .or_default();
                for p in &s.points {
                    if let Some(us) = timefmt::parse_us(&p.start) {
                        let slot = e.entry(us).or_default();
                        slot.0 += p.errors;
                        slot.1 += p.count;
                    }
                }
            }
        }
        by
    });
    view! {
        <section class="panel" aria-labelledby="h-err">
            <h2 id="h-err">"Error rate by endpoint"</h2>
            {move || match decoded::<ErrorRates>(&rates) {
                None => view! { <p class="loading" role="status">"Loading error rates…"</p> }.into_any(),
                Some(Err(e)) => failed(&e),
                Some(Ok(r)) if r.items.is_empty() => view! { <p class="empty muted">"No requests in this range."</p> }.into_any(),
                Some(Ok(r)) => {
                    let (from, to) = win.get_untracked();
                    let starts = bucket_starts(from, to, period_for(to - from).seconds() * 1_000_000);
                    view! {
                        <table class="metrics-table">
                            <thead><tr>
                                <th scope="col">"Endpoint"</th><th scope="col">"Source"</th>
                                <th scope="col" class="num">"Requests"</th><th scope="col" class="num">"Errors"</th>
                                <th scope="col" class="num">"Error rate"</th><th scope="col">"Over the range"</th>
                            </tr></thead>
                            <tbody>
                                {r.items.into_iter().map(|i| {
                                    let ep = i.endpoint.clone().unwrap_or_default();
                                    let line = sparks.with(|s| spark_points(s.get(&ep), &starts));
                                    view! { <tr>
                                        <td class="mono">{if ep.is_empty() { "(no route)".to_owned() } else { ep.clone() }}</td>
                                        <td>{i.source.clone()}</td>
                                        <td class="num">{i.requests}</td>
                                        <td class="num">{i.errors}</td>
                                        <td class="num">{format_value(i.error_rate, Unit::Ratio)}</td>
                                        <td><svg class="spark line" viewBox="0 0 96 24" preserveAspectRatio="none" role="img"
                                            aria-label=format!("error rate of {} over the range", if ep.is_empty() { "requests without a route" } else { ep.as_str() })>
                                            <polyline points=line vector-effect="non-scaling-stroke"/>
                                            <line x1="0" y1="23.5" x2="96" y2="23.5"/>
                                        </svg></td>
                                    </tr> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// A 96×24 sparkline of error rate per bucket (buckets without requests at 0).
fn spark_points(buckets: Option<&BTreeMap<i64, (i64, i64)>>, starts: &[i64]) -> String {
    let n = starts.len().max(2) as f64 - 1.0;
    starts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let rate = buckets
                .and_then(|b| b.get(s))
                .filter(|(_, c)| *c > 0)
                .map_or(0.0, |(e, c)| *e as f64 / *c as f64);
            format!(
                "{},{}",
                fixed2(i as f64 / n * 96.0),
                fixed2(23.0 - rate * 22.0)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A threshold input that writes the URL on change.
fn threshold_input(id: &'static str, value: f64, on_set: impl Fn(f64) + 'static) -> impl IntoView {
    view! {
        <label for=id>"Slower than (ms)"</label>
        <input id=id type="number" min="0" step="50" class="narrow"
            value=crate::ruleform::number_text(value)
            on:change=move |ev| {
                if let Ok(v) = event_target_value(&ev).trim().parse::<f64>()
                    && v.is_finite() && v >= 0.0
                {
                    on_set(v);
                }
            }/>
    }
}

/// Writes a view to the URL; `Copy` through the stored value.
type Go = StoredValue<std::sync::Arc<dyn Fn(View) + Send + Sync>>;

/// Slow requests in the window, newest first, each linking to its trace.
#[component]
fn SlowRequests(view_state: Memo<View>, win: Memo<(i64, i64)>, go: Go) -> impl IntoView {
    let ctx = ctx();
    let list = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        let (ms, endpoint) = view_state.with(|v| (v.slow_ms, v.endpoint.clone()));
        {
            let mut p = range_params(from, to);
            p.push(("threshold_ms".into(), crate::ruleform::number_text(ms)));
            p.push(("limit".into(), "50".into()));
            if !endpoint.is_empty() {
                p.push(("endpoint".into(), endpoint));
            }
            ("/api/v1/monitoring/slow-requests".to_owned(), p, 0)
        }
    }));
    view! {
        <section class="panel" aria-labelledby="h-slow">
            <div class="page-head">
                <h2 id="h-slow">"Slow requests"</h2>
                <div class="spacer"></div>
                {move || threshold_input("slow-ms", view_state.with(|v| v.slow_ms), move |ms| {
                    let mut v = view_state.get_untracked();
                    v.slow_ms = ms;
                    go.with_value(|g| g(v));
                })}
            </div>
            {move || match decoded::<Page<SlowRequest>>(&list) {
                None => view! { <p class="loading" role="status">"Loading slow requests…"</p> }.into_any(),
                Some(Err(e)) => failed(&e),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="empty muted">"No request over this threshold in the range."</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <p class="muted">{format!("{} slow requests (newest {} shown)", page.total, page.items.len())}</p>
                    <table class="metrics-table">
                        <thead><tr><th scope="col">"Time"</th><th scope="col">"Request"</th>
                            <th scope="col" class="num">"Status"</th><th scope="col" class="num">"Duration"</th><th scope="col">"Trace"</th></tr></thead>
                        <tbody>{page.items.into_iter().map(|r| view! { <tr>
                            <td class="mono">{ctx.api_time(&r.timestamp, Precision::Millis)}</td>
                            <td class="mono">{format!("{} {}", r.method.clone().unwrap_or_default(),
                                r.path.clone().or(r.endpoint.clone()).unwrap_or_default())}</td>
                            <td class="num">{r.status.map(|s| s.to_string())}</td>
                            <td class="num">{timefmt::format_ms(r.duration_ms)}</td>
                            <td>{trace_link(r.trace_id.clone())}</td>
                        </tr> }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// Slow database statements in the window, each linking to the trace of its request.
#[component]
fn SlowQueries(view_state: Memo<View>, win: Memo<(i64, i64)>, go: Go) -> impl IntoView {
    let ctx = ctx();
    let list = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        let ms = view_state.with(|v| v.slow_query_ms);
        {
            let mut p = range_params(from, to);
            p.push(("threshold_ms".into(), crate::ruleform::number_text(ms)));
            p.push(("limit".into(), "50".into()));
            ("/api/v1/monitoring/slow-queries".to_owned(), p, 0)
        }
    }));
    view! {
        <section class="panel" aria-labelledby="h-slowq">
            <div class="page-head">
                <h2 id="h-slowq">"Slow queries"</h2>
                <div class="spacer"></div>
                {move || threshold_input("slow-query-ms", view_state.with(|v| v.slow_query_ms), move |ms| {
                    let mut v = view_state.get_untracked();
                    v.slow_query_ms = ms;
                    go.with_value(|g| g(v));
                })}
            </div>
            {move || match decoded::<Page<SlowStatement>>(&list) {
                None => view! { <p class="loading" role="status">"Loading slow queries…"</p> }.into_any(),
                Some(Err(e)) => failed(&e),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="empty muted">"No statement over this threshold in the range."</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <table class="metrics-table">
                        <thead><tr><th scope="col">"Time"</th><th scope="col">"Statement"</th><th scope="col">"Endpoint"</th>
                            <th scope="col" class="num">"Rows"</th><th scope="col" class="num">"Duration"</th><th scope="col">"Trace"</th></tr></thead>
                        <tbody>{page.items.into_iter().map(|s| view! { <tr>
                            <td class="mono">{ctx.api_time(&s.timestamp, Precision::Millis)}</td>
                            <td class="mono stmt" title=s.statement.clone().unwrap_or_default()>{s.summary.clone()}</td>
                            <td class="mono">{s.endpoint.clone()}</td>
                            <td class="num">{s.rows.map(|r| r.to_string())}</td>
                            <td class="num">{timefmt::format_ms(s.duration_ms)}</td>
                            <td>{trace_link(s.trace_id.clone())}</td>
                        </tr> }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// A link to the trace view, or a dash.
fn trace_link(trace: Option<String>) -> AnyView {
    match trace {
        Some(t) => {
            let short: String = t.chars().take(8).collect();
            view! { <A href=format!("/traces/{}", crate::query::encode_component(&t))>
            <span class="mono" title=t.clone()>{short}"…"</span></A> }
            .into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// Web vitals p75 per page.
#[component]
fn Vitals(win: Memo<(i64, i64)>) -> impl IntoView {
    let list = json_resource(Memo::new(move |_| {
        let (from, to) = win.get();
        {
            (
                "/api/v1/monitoring/web-vitals".to_owned(),
                range_params(from, to),
                0,
            )
        }
    }));
    view! {
        <section class="panel" aria-labelledby="h-vitals">
            <h2 id="h-vitals">"Web vitals (p75 per page)"</h2>
            {move || match decoded::<WebVitals>(&list) {
                None => view! { <p class="loading" role="status">"Loading web vitals…"</p> }.into_any(),
                Some(Err(e)) => failed(&e),
                Some(Ok(v)) if v.items.is_empty() => view! { <p class="empty muted">"No web vitals in this range. The browser logger reports them from pages that load it."</p> }.into_any(),
                Some(Ok(v)) => view! {
                    <table class="metrics-table">
                        <thead><tr><th scope="col">"Page"</th><th scope="col">"Metric"</th>
                            <th scope="col" class="num">"p75"</th><th scope="col">"Rating"</th><th scope="col" class="num">"Samples"</th></tr></thead>
                        <tbody>{v.items.into_iter().map(|i| {
                            let value = if i.metric == "CLS" { crate::ruleform::number_text(i.p75) } else { timefmt::format_ms(i.p75) };
                            let class = format!("tag vital-{}", i.rating);
                            view! { <tr>
                                <td class="mono">{i.page.clone().unwrap_or_else(|| "(all pages)".into())}</td>
                                <td>{i.metric.clone()}</td>
                                <td class="num">{value}</td>
                                <td><span class=class>{i.rating.replace('-', " ")}</span></td>
                                <td class="num">{i.count}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
