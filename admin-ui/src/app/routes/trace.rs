//! The trace view (`/traces/{trace_id}`): every frontend and backend log and exception of one
//! trace on one timeline, each at its offset from the first entry, logs with a duration drawn
//! as a bar of that length.

use crate::app::api;
use crate::app::components::{LevelBadge, Message};
use crate::app::ctx;
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use tracewire_shared::api::{Trace, TraceItem};

/// One timeline row, flattened from a log or an exception occurrence.
struct Entry {
    start_us: i64,
    duration_ms: Option<f64>,
    source: String,
    level: String,
    text: String,
    detail: Option<String>,
    link: String,
    exception: bool,
}

fn entries(trace: &Trace) -> Vec<Entry> {
    trace
        .items
        .iter()
        .map(|item| match item {
            TraceItem::Log { log } => Entry {
                start_us: timefmt::parse_us(&log.timestamp).unwrap_or(0),
                duration_ms: log.duration_ms,
                source: log.source.clone(),
                level: log.level.clone(),
                text: log.message.clone(),
                detail: match (&log.request_method, &log.request_path, log.response_status) {
                    (Some(m), Some(p), Some(s)) => Some(format!("{m} {p} → {s}")),
                    (Some(m), Some(p), None) => Some(format!("{m} {p}")),
                    _ => log.module.clone(),
                },
                link: format!("/logs?trace={}&range=30d&log={}", trace.trace_id, log.id),
                exception: false,
            },
            TraceItem::Exception { exception } => Entry {
                start_us: timefmt::parse_us(&exception.timestamp).unwrap_or(0),
                duration_ms: None,
                source: exception.source.clone(),
                level: "ERROR".to_owned(),
                text: format!(
                    "{}: {}",
                    exception.exception_type, exception.exception_message
                ),
                detail: exception.request_path.clone(),
                link: format!("/exceptions/{}", exception.exception_id),
                exception: true,
            },
        })
        .collect()
}

/// The trace page.
#[component]
pub fn TraceView() -> impl IntoView {
    let ctx = ctx();
    let params = use_params_map();
    let trace_id = Memo::new(move |_| params.with(|p| p.get("trace_id").unwrap_or_default()));
    let trace = LocalResource::new(move || {
        let id = trace_id.get();
        async move {
            let path = format!(
                "/api/v1/logging/traces/{}",
                crate::query::encode_component(&id)
            );
            api::get::<Trace>(&path, &[]).await
        }
    });
    let empty = Signal::derive(String::new);
    view! {
        <section class="panel trace">
            <h1>"Trace "<span class="mono">{move || trace_id.get()}</span></h1>
            {move || match trace.get() {
                None => view! { <p class="loading" role="status">"Loading trace…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error-box" role="alert"><p>{e.to_string()}</p></div> }.into_any(),
                Some(Ok(t)) if t.items.is_empty() => view! {
                    <div class="empty"><p>"Nothing recorded for this trace."</p></div>
                }.into_any(),
                Some(Ok(t)) => {
                    let list = entries(&t);
                    let t0 = list.iter().map(|e| e.start_us).min().unwrap_or(0);
                    let end = list.iter().map(|e| e.start_us + (e.duration_ms.unwrap_or(0.0) * 1000.0) as i64)
                        .max().unwrap_or(t0).max(t0 + 1);
                    let span = (end - t0) as f64;
                    let sources: Vec<String> = {
                        let mut s: Vec<String> = list.iter().map(|e| e.source.clone()).collect();
                        s.sort();
                        s.dedup();
                        s
                    };
                    view! {
                        <p class="muted">
                            {format!("{} logs, {} exceptions, from {} over {} · sources: {}",
                                t.log_count, t.exception_count, ctx.time(t0, Precision::Millis),
                                timefmt::format_ms(span / 1000.0), sources.join(", "))}
                        </p>
                        <table class="timeline">
                            <thead><tr>
                                <th scope="col">"Offset"</th>
                                <th scope="col">"Source"</th>
                                <th scope="col">"Level"</th>
                                <th scope="col">"Entry"</th>
                                <th scope="col" class="c-bar">"Timeline"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let left = (e.start_us - t0) as f64 / span * 100.0;
                                    let width = e.duration_ms.map_or(0.0, |d| d * 1000.0 / span * 100.0);
                                    view! {
                                        <tr class:exception=e.exception class=format!("src-{}", e.source)>
                                            <td class="mono">{format!("+{}", timefmt::format_ms((e.start_us - t0) as f64 / 1000.0))}</td>
                                            <td><span class=format!("src src-{}", e.source)>{e.source.clone()}</span></td>
                                            <td><LevelBadge level=e.level.clone()/></td>
                                            <td class="c-msg">
                                                <A href=e.link.clone()><Message text=e.text.clone() term=empty/></A>
                                                {e.detail.clone().map(|d| view! { <div class="muted mono small">{d}</div> })}
                                            </td>
                                            <td class="c-bar">
                                                <div class="lane">
                                                    <div class=if e.exception { "bar mark exc" } else if e.duration_ms.is_some() { "bar" } else { "bar mark" }
                                                        style:left=timefmt::percent(left.clamp(0.0, 100.0))
                                                        style:width=timefmt::percent(width.clamp(0.0, 100.0 - left.clamp(0.0, 100.0)))
                                                        title=e.duration_ms.map(timefmt::format_ms)></div>
                                                </div>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}
