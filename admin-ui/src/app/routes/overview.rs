//! The overview (`/`, the landing page after sign-in): errors logged and the request error rate
//! in the chosen period against the period before, firing alerts, new and rising exception
//! groups, and the ingest rate, each a link to its detail view. Every card loads and fails on
//! its own, so one slow endpoint never blanks the page.

use crate::app::api::{self, ApiError};
use crate::app::components::fetch::{decoded, json_resource, pair};
use crate::app::components::linechart::{Unit, format_value};
use crate::query::{LogQuery, TimeRange, decode_query, encode_pairs};
use crate::timefmt;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use tracewire_shared::Level;
use tracewire_shared::api::monitoring::{AlertRule, AlertState, ErrorRates};
use tracewire_shared::api::{Page, Patterns, Statistics, Trend};
use tracewire_shared::validate::format_timestamp_us;

/// Periods offered, as (URL value, label, hours, log explorer preset).
const PERIODS: &[(&str, &str, i64, &str)] = &[
    ("1h", "Last hour", 1, "1h"),
    ("24h", "Last 24 hours", 24, "24h"),
];

/// The period shown and the one before it, as (from, to) µs each.
type Windows = ((i64, i64), (i64, i64));

const STATS: &str = "/api/v1/logging/logs/statistics";
const RATES: &str = "/api/v1/monitoring/error-rates";

fn span(params: (i64, i64)) -> Vec<(String, String)> {
    vec![
        ("from".into(), format_timestamp_us(params.0)),
        ("to".into(), format_timestamp_us(params.1)),
    ]
}

/// "+25 % vs the hour before" (or "new" / "same").
fn change(now: f64, before: f64) -> String {
    if before == 0.0 {
        return if now == 0.0 {
            "none before either".into()
        } else {
            "none the period before".into()
        };
    }
    let pct = ((now - before) / before * 100.0).round() as i64;
    match pct {
        0 => "same as the period before".into(),
        p if p > 0 => format!("+{p} % vs the period before"),
        p => format!("{p} % vs the period before"),
    }
}

fn card_error(e: &ApiError) -> AnyView {
    view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
}

/// The overview page.
#[component]
pub fn Overview() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let period = Memo::new(move |_| {
        let pairs = decode_query(&location.search.get());
        let want = pairs
            .iter()
            .find(|(k, _)| k == "period")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        PERIODS
            .iter()
            .copied()
            .find(|p| p.0 == want)
            .unwrap_or(PERIODS[0])
    });
    let reload = RwSignal::new(0u32);
    // (now window, previous window), fixed per load so every card shows one span.
    let windows = Memo::new(move |_| {
        reload.get();
        let hours = period.get().2;
        let to = api::now_us();
        let len = hours * 3_600_000_000;
        ((to - len, to), (to - 2 * len, to - len - 1))
    });
    let req = |path: &'static str, which: fn(Windows) -> (i64, i64)| {
        Memo::new(move |_| {
            let w = windows.get();
            (path.to_owned(), span(which(w)), 0)
        })
    };
    let stats_now = json_resource(req(STATS, |w| w.0));
    let stats_before = json_resource(req(STATS, |w| w.1));
    let rates_now = json_resource(req(RATES, |w| w.0));
    let rates_before = json_resource(req(RATES, |w| w.1));
    let patterns = json_resource(Memo::new(move |_| {
        let mut p = span(windows.get().0);
        p.push(("limit".into(), "20".into()));
        ("/api/v1/logging/exceptions/patterns".to_owned(), p, 0)
    }));
    let alerts = json_resource(Memo::new(move |_| {
        (
            "/api/v1/monitoring/alerts".to_owned(),
            Vec::new(),
            reload.get(),
        )
    }));
    let stats = move || {
        pair(
            decoded::<Statistics>(&stats_now),
            decoded::<Statistics>(&stats_before),
        )
    };
    let rates = move || {
        pair(
            decoded::<ErrorRates>(&rates_now),
            decoded::<ErrorRates>(&rates_before),
        )
    };
    let logs_link = move |levels: Vec<Level>| {
        let q = LogQuery {
            levels,
            range: TimeRange::Preset(period.get_untracked().3.to_owned()),
            ..LogQuery::default()
        };
        format!("/logs?{}", q.to_query_string())
    };
    let errors_card = move || match stats() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => card_error(&e),
        Some(Ok((a, b))) => {
            let errs = |s: &Statistics| {
                ["ERROR", "CRITICAL"]
                    .iter()
                    .map(|l| s.by_level.get(*l).copied().unwrap_or(0))
                    .sum::<i64>()
            };
            let (now, before) = (errs(&a), errs(&b));
            view! {
                <p class="big">{now}</p>
                <p class="muted">{format!("error and critical logs ({before} the period before: {})", change(now as f64, before as f64))}</p>
                <A href=logs_link(vec![Level::Error, Level::Critical])>"Open these logs"</A>
            }
            .into_any()
        }
    };
    let rate_card = move || match rates() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => card_error(&e),
        Some(Ok((a, b))) => {
            let rate = |r: &ErrorRates| {
                let (e, n) = r
                    .items
                    .iter()
                    .fold((0i64, 0i64), |(e, n), i| (e + i.errors, n + i.requests));
                (if n > 0 { e as f64 / n as f64 } else { 0.0 }, n)
            };
            let ((now, n), (before, _)) = (rate(&a), rate(&b));
            let worst = a.items.iter().find(|i| i.errors > 0).cloned();
            view! {
                <p class="big">{format_value(now, Unit::Ratio)}</p>
                <p class="muted">{format!("of {n} requests answered 5xx (the period before: {}; {})",
                    format_value(before, Unit::Ratio), change(now, before))}</p>
                {worst.map(|w| view! { <p class="small">"Worst: "<span class="mono">{w.endpoint.unwrap_or_default()}</span>
                    {format!(" at {}", format_value(w.error_rate, Unit::Ratio))}</p> })}
                <A href=format!("/performance?range={}", period.get_untracked().3)>"Open metrics"</A>
            }
            .into_any()
        }
    };
    let ingest_card = move || match stats() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => card_error(&e),
        Some(Ok((a, b))) => {
            let minutes = (period.get_untracked().2 * 60) as f64;
            let (now, before) = (a.total as f64 / minutes, b.total as f64 / minutes);
            view! {
                <p class="big">{format!("{}/min", crate::chart::tick_label((now * 10.0).round() / 10.0))}</p>
                <p class="muted">{format!("{} logs stored ({})", a.total, change(now, before))}</p>
                <A href=logs_link(Vec::new())>"Open the log explorer"</A>
            }
            .into_any()
        }
    };
    let firing_card = move || match decoded::<Page<AlertRule>>(&alerts) {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => card_error(&e),
        Some(Ok(page)) => {
            let firing: Vec<AlertRule> = page
                .items
                .into_iter()
                .filter(|r| {
                    r.state.as_ref().is_some_and(|s| {
                        matches!(s.state, AlertState::Firing | AlertState::Pending)
                    })
                })
                .collect();
            if firing.is_empty() {
                view! { <p class="big ok-text">"None"</p><p class="muted">"No rule is firing or pending."</p>
                    <A href="/alerts">"Alert rules"</A> }
                .into_any()
            } else {
                view! {
                    <ul class="plain">
                        {firing.into_iter().map(|r| {
                            let st = r.state.as_ref().map(|s| s.state).unwrap_or(AlertState::Ok);
                            view! { <li>
                                {crate::app::routes::alerts::state_badge(st, r.mute_until.as_deref())}" "
                                <A href=format!("/alerts/history?rule={}", r.id)>{r.name.clone()}</A>
                                <span class="muted small">{format!(" {}", r.severity.as_str())}</span>
                            </li> }
                        }).collect_view()}
                    </ul>
                    <A href="/alerts">"All alert rules"</A>
                }
                .into_any()
            }
        }
    };
    let exceptions_card = move || match decoded::<Patterns>(&patterns) {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(e)) => card_error(&e),
        Some(Ok(p)) => {
            let items: Vec<_> = p
                .items
                .into_iter()
                .filter(|i| matches!(i.trend, Trend::New | Trend::Rising))
                .take(8)
                .collect();
            if items.is_empty() {
                view! { <p class="muted">"No new or rising exception groups."</p>
                <A href="/exceptions">"All exceptions"</A> }
                .into_any()
            } else {
                view! {
                    <table class="metrics-table">
                        <thead><tr><th scope="col">"Exception"</th><th scope="col">"Trend"</th>
                            <th scope="col" class="num">"Now"</th><th scope="col" class="num">"Before"</th></tr></thead>
                        <tbody>{items.into_iter().map(|i| view! { <tr>
                            <td><A href=format!("/exceptions/{}", i.exception_id)><span class="exc-type">{i.exception_type.clone()}</span></A>
                                <div class="exc-msg small">{i.exception_message.clone()}</div></td>
                            <td>{if i.trend == Trend::New {
                                view! { <span class="tag bad">"New"</span> }.into_any()
                            } else {
                                view! { <span class="tag warn">"Rising"</span> }.into_any()
                            }}</td>
                            <td class="num">{i.occurrences}</td>
                            <td class="num">{i.previous_occurrences}</td>
                        </tr> }).collect_view()}</tbody>
                    </table>
                    <A href="/exceptions">"All exceptions"</A>
                }
                .into_any()
            }
        }
    };
    let when = move || {
        let ((from, to), _) = windows.get();
        format!(
            "{} – {}",
            crate::app::ctx().time(from, timefmt::Precision::Minutes),
            crate::app::ctx().time(to, timefmt::Precision::Minutes)
        )
    };
    view! {
        <section class="panel overview">
            <div class="page-head">
                <h1>"Overview"</h1>
                <span class="muted mono small">{when}</span>
                <div class="spacer"></div>
                <label for="ov-period">"Period"</label>
                <select id="ov-period" on:change=move |ev| {
                    let qs = encode_pairs(&[("period".into(), event_target_value(&ev))]);
                    navigate(&format!("/?{qs}"), NavigateOptions::default());
                }>
                    {PERIODS.iter().map(|p| view! {
                        <option value=p.0 selected=move || period.get().0 == p.0>{p.1}</option>
                    }).collect_view()}
                </select>
                <button class="btn" type="button" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <div class="cards">
                <article class="card" aria-labelledby="c-err"><h2 id="c-err">"Errors logged"</h2>{errors_card}</article>
                <article class="card" aria-labelledby="c-rate"><h2 id="c-rate">"Request error rate"</h2>{rate_card}</article>
                <article class="card" aria-labelledby="c-alerts"><h2 id="c-alerts">"Firing alerts"</h2>{firing_card}</article>
                <article class="card" aria-labelledby="c-ingest"><h2 id="c-ingest">"Ingest rate"</h2>{ingest_card}</article>
            </div>
        </section>
        <section class="panel" aria-labelledby="c-exc">
            <h2 id="c-exc">"New and rising exceptions"</h2>
            {exceptions_card}
        </section>
    }
}
