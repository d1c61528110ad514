//! The row details panel: every field of one log with copy, filter-for and filter-out, the
//! request and extra data as JSON trees, a link to the trace, and "show context": the logs just
//! before and after this one from the same source, user or trace.

use super::json::JsonTree;
use super::{LevelBadge, State};
use crate::app::api::{self, ApiError};
use crate::app::ctx;
use crate::app::routes::logs::ViewNav;
use crate::query::LogQuery;
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::components::A;
use tracewire_shared::api::{LogView, Page};

/// Logs shown on each side of the anchor in the context view.
const CONTEXT: usize = 10;

/// The details panel of the log `id`.
#[component]
pub fn Details(id: String, view_q: Memo<LogQuery>, nav: ViewNav) -> impl IntoView {
    let ctx = ctx();
    let path = format!(
        "/api/v1/logging/logs/{}",
        crate::query::encode_component(&id)
    );
    let log = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<LogView>(&path, &[]).await }
    });
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let nav_close = nav;
    let close = move |_| nav_close.go(&view_q.get_untracked());
    view! {
        <aside class="details" role="dialog" aria-modal="false" aria-labelledby="details-title">
            <div class="details-head">
                <h2 id="details-title" tabindex="-1" node_ref=heading>"Log details"</h2>
                <button class="btn ghost" on:click=close aria-label="Close details (Esc)">"✕"</button>
            </div>
            {move || match log.get() {
                None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(l)) => {
                    let field = {
                        move |name: &'static str, key: Option<&'static str>, value: Option<String>| {
                            value.map(|v| {
                                let (v_copy, v_for, v_out) = (v.clone(), v.clone(), v.clone());
                                let (nav_for, nav_out) = (nav, nav);
                                view! {
                                    <tr>
                                        <th scope="row">{name}</th>
                                        <td class="mono value">{v}</td>
                                        <td class="actions">
                                            <button class="icon" title=format!("Copy {name}") aria-label=format!("Copy {name}")
                                                on:click=move |_| api::copy_text(&v_copy)>"Copy"</button>
                                            {key.filter(|k| crate::query::FIELD_FILTERS.iter().any(|f| f.0 == *k) || *k == "level").map(|k| view! {
                                                <button class="icon" title="Filter for this value" aria-label=format!("Filter for {name}")
                                                    on:click=move |_| { let mut q = view_q.get_untracked(); q.filter_for(k, &v_for); nav_for.go(&q); }>"+"</button>
                                            })}
                                            {key.map(|k| view! {
                                                <button class="icon" title="Filter out this value" aria-label=format!("Filter out {name}")
                                                    on:click=move |_| { let mut q = view_q.get_untracked(); q.filter_out(k, &v_out); nav_out.go(&q); }>"−"</button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            })
                        }
                    };
                    let time = |s: &str| ctx.api_time(s, Precision::Millis);
                    let trace = l.trace_id.clone();
                    view! {
                        <div class="details-body">
                            <p class="details-msg"><LevelBadge level=l.level.clone()/>" "<span class="msg">{l.message.clone()}</span></p>
                            {trace.clone().map(|t| view! {
                                <p><A href=format!("/traces/{t}")>"View the whole trace →"</A></p>
                            })}
                            <table class="fields">
                                <tbody>
                                    {field("time", None, Some(time(&l.timestamp)))}
                                    {field("level", Some("level"), Some(l.level.clone()))}
                                    {field("source", Some("source"), Some(l.source.clone()))}
                                    {field("message", None, Some(l.message.clone()))}
                                    {field("module", Some("module"), l.module.clone())}
                                    {field("function", Some("function"), l.function.clone())}
                                    {field("trace_id", Some("trace"), l.trace_id.clone())}
                                    {field("span_id", None, l.span_id.clone())}
                                    {field("user_id", Some("user"), l.user_id.clone())}
                                    {field("request_method", Some("method"), l.request_method.clone())}
                                    {field("request_path", Some("path"), l.request_path.clone())}
                                    {field("response_status", Some("status"), l.response_status.map(|s| s.to_string()))}
                                    {field("duration", None, l.duration_ms.map(timefmt::format_ms))}
                                    {field("dedup_count", None, Some(l.dedup_count.to_string()))}
                                    {field("first_seen_at", None, Some(time(&l.first_seen_at)))}
                                    {field("last_seen_at", None, Some(time(&l.last_seen_at)))}
                                    {field("created_at", None, Some(time(&l.created_at)))}
                                    {field("id", None, Some(l.id.to_string()))}
                                    {field("project_id", None, Some(l.project_id.to_string()))}
                                </tbody>
                            </table>
                            {l.request_data.clone().map(|v| view! { <h3>"Request data"</h3><JsonTree value=v/> })}
                            {l.extra_data.clone().map(|v| view! { <h3>"Extra data"</h3><JsonTree value=v/> })}
                            <Context anchor=l.clone()/>
                        </div>
                    }.into_any()
                }
            }}
        </aside>
    }
}

/// The logs around `anchor` sharing one of its fields, oldest first, anchor marked.
#[component]
fn Context(anchor: LogView) -> impl IntoView {
    let ctx = ctx();
    let by = RwSignal::new("source".to_owned());
    let state = RwSignal::new(State::Idle);
    let rows = RwSignal::new(None::<Vec<LogView>>);
    let anchor_id = anchor.id;
    let a2 = anchor.clone();
    let load = move |_| {
        let anchor = a2.clone();
        let key = by.get_untracked();
        state.set(State::Loading);
        leptos::task::spawn_local(async move {
            match context_of(&anchor, &key).await {
                Ok(list) => {
                    rows.set(Some(list));
                    state.set(State::Idle);
                }
                Err(e) => state.set(State::Failed(e.to_string())),
            }
        });
    };
    let mut options = vec![("source", "same source")];
    if anchor.user_id.is_some() {
        options.push(("user", "same user"));
    }
    if anchor.trace_id.is_some() {
        options.push(("trace", "same trace"));
    }
    view! {
        <h3>"Context"</h3>
        <div class="row">
            <label for="ctx-by" class="sr-only">"Context of"</label>
            <select id="ctx-by" on:change=move |ev| by.set(event_target_value(&ev))>
                {options.into_iter().map(|(k, label)| view! { <option value=k>{label}</option> }).collect_view()}
            </select>
            <button class="btn small" on:click=load>{format!("Show {CONTEXT} before and after")}</button>
        </div>
        {move || match state.get() {
            State::Loading => Some(view! { <p class="loading" role="status">"Loading context…"</p> }.into_any()),
            State::Failed(m) => Some(view! { <p class="error" role="alert">{m}</p> }.into_any()),
            State::Idle => None,
        }}
        {move || rows.get().map(|list| {
            if list.len() <= 1 {
                return view! { <p class="muted">"No other logs around this one."</p> }.into_any();
            }
            view! {
                <ol class="context mono">
                    {list.into_iter().map(|l| {
                        let mark = l.id == anchor_id;
                        view! {
                            <li class:anchor=mark class=format!("lvl-{}", l.level.to_ascii_lowercase())>
                                <span class="muted">{ctx.api_time(&l.timestamp, Precision::Millis)}</span>" "
                                <span class="lvl">{l.level.clone()}</span>" "
                                <span>{l.message.clone()}</span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any()
        })}
    }
}

/// The logs before and after `anchor` that share its `key` field (oldest first): one page
/// newest-first ending at the anchor, one page oldest-first (`order=asc`) starting at it.
async fn context_of(anchor: &LogView, key: &str) -> Result<Vec<LogView>, ApiError> {
    let Some(ts) = timefmt::parse_us(&anchor.timestamp) else {
        return Ok(vec![anchor.clone()]);
    };
    let (param, value) = match key {
        "user" => ("user_id", anchor.user_id.clone()),
        "trace" => ("trace_id", anchor.trace_id.clone()),
        _ => ("source", Some(anchor.source.clone())),
    };
    let side = |bound: &str, order: &str| {
        let mut p: Vec<(String, String)> = Vec::new();
        if let Some(v) = &value {
            p.push((param.to_owned(), v.clone()));
        }
        p.push((
            bound.to_owned(),
            tracewire_shared::validate::format_timestamp_us(ts),
        ));
        p.push(("order".to_owned(), order.to_owned()));
        // Room for the anchor and rows at its very time, which both pages hold.
        p.push(("limit".to_owned(), (2 * CONTEXT + 1).to_string()));
        p
    };
    let before: Page<LogView> = api::get("/api/v1/logging/logs", &side("to", "desc")).await?;
    let after: Page<LogView> = api::get("/api/v1/logging/logs", &side("from", "asc")).await?;
    Ok(crate::query::merge_context(
        anchor.clone(),
        before.items,
        after.items,
        CONTEXT,
    ))
}
