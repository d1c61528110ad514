//! The exception tracker's list (`/exceptions`): groups with type, message, occurrence count, a
//! sparkline of recent occurrences, first and last seen; status tabs (unresolved, regressed,
//! resolved, all) and sort order in the URL.

use crate::app::api;
use crate::app::components::State;
use crate::app::ctx;
use crate::histogram::nice_max;
use crate::query::{decode_query, encode_pairs};
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use tracewire_shared::api::{ExceptionGroup, Page};

/// Status tabs as (URL value, label).
const TABS: &[(&str, &str)] = &[
    ("unresolved", "Unresolved"),
    ("regressed", "Regressed"),
    ("resolved", "Resolved"),
    ("all", "All"),
];

/// Sort orders as (URL value, label).
const SORTS: &[(&str, &str)] = &[
    ("last", "Last seen"),
    ("first", "First seen"),
    ("count", "Occurrences"),
];

/// Hours covered by a row's sparkline.
const SPARK_HOURS: i64 = 24;

/// The exceptions list page.
#[component]
pub fn ExceptionList() -> impl IntoView {
    let ctx = ctx();
    let location = use_location();
    let navigate = use_navigate();
    let pairs = Memo::new(move |_| decode_query(&location.search.get()));
    let get = move |key: &str, default: &str| {
        pairs.with(|p| {
            p.iter()
                .find(|(k, _)| k == key)
                .map_or(default.to_owned(), |(_, v)| v.clone())
        })
    };
    let status = Memo::new(move |_| get("status", "unresolved"));
    let sort = Memo::new(move |_| get("sort", "last"));
    let go = move |status: String, sort: String| {
        let qs = encode_pairs(&[("status".into(), status), ("sort".into(), sort)]);
        navigate(&format!("/exceptions?{qs}"), NavigateOptions::default());
    };
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        let st = status.get();
        reload.get();
        async move {
            let mut p = vec![("limit".to_owned(), "100".to_owned())];
            match st.as_str() {
                "resolved" => p.push(("resolved".into(), "true".into())),
                "unresolved" | "regressed" => p.push(("resolved".into(), "false".into())),
                _ => {}
            }
            api::get::<Page<ExceptionGroup>>("/api/v1/logging/exceptions", &p).await
        }
    });
    let more = RwSignal::new(Vec::<ExceptionGroup>::new());
    let cursor = RwSignal::new(None::<String>);
    let more_state = RwSignal::new(State::Idle);
    Effect::new(move |_| {
        if let Some(Ok(page)) = list.get() {
            more.set(Vec::new());
            cursor.set(page.next_cursor.clone());
        }
    });
    let load_more = move |_| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        let st = status.get_untracked();
        more_state.set(State::Loading);
        leptos::task::spawn_local(async move {
            let mut p = vec![
                ("limit".to_owned(), "100".to_owned()),
                ("cursor".to_owned(), c),
            ];
            if st != "all" {
                p.push(("resolved".into(), (st == "resolved").to_string()));
            }
            match api::get::<Page<ExceptionGroup>>("/api/v1/logging/exceptions", &p).await {
                Ok(page) => {
                    more.update(|m| m.extend(page.items));
                    cursor.set(page.next_cursor);
                    more_state.set(State::Idle);
                }
                Err(e) => more_state.set(State::Failed(e.to_string())),
            }
        });
    };
    let rows = Memo::new(move |_| {
        let mut all: Vec<ExceptionGroup> = match list.get() {
            Some(Ok(p)) => p.items,
            _ => Vec::new(),
        };
        all.extend(more.get());
        let mut seen = std::collections::HashSet::new();
        all.retain(|g| seen.insert(g.id));
        if status.get() == "regressed" {
            all.retain(|g| g.regressed_at.is_some());
        }
        match sort.get().as_str() {
            "first" => all.sort_by(|a, b| b.first_seen_at.cmp(&a.first_seen_at)),
            "count" => all.sort_by_key(|g| std::cmp::Reverse(g.occurrence_count)),
            _ => all.sort_by(|a, b| b.last_seen_at.cmp(&a.last_seen_at)),
        }
        all
    });
    let go_tab = go.clone();
    view! {
        <section class="panel exceptions">
            <div class="page-head">
                <h1>"Exceptions"</h1>
                <div class="spacer"></div>
                <label for="sort">"Sort by"</label>
                <select id="sort" on:change=move |ev| go(status.get_untracked(), event_target_value(&ev))>
                    {SORTS.iter().map(|(k, label)| view! {
                        <option value=*k selected=move || sort.get() == *k>{*label}</option>
                    }).collect_view()}
                </select>
            </div>
            <nav class="tabs" aria-label="Status">
                {TABS.iter().map(|(k, label)| {
                    let go = go_tab.clone();
                    view! {
                        <button type="button" class="tab" aria-pressed=move || (status.get() == *k).to_string()
                            on:click=move |_| go((*k).to_owned(), sort.get_untracked())>{*label}</button>
                    }
                }).collect_view()}
            </nav>
            {move || match list.get() {
                None => view! { <p class="loading" role="status">"Loading exceptions…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error-box" role="alert"><p>{e.to_string()}</p>
                    <button class="btn" on:click=move |_| reload.update(|n| *n += 1)>"Retry"</button></div> }.into_any(),
                Some(Ok(_)) if rows.with(Vec::is_empty) => view! {
                    <div class="empty"><p>"No exceptions here."</p>
                    <p class="muted">"Exceptions sent by the browser logger or the backend middleware appear here, grouped."</p></div>
                }.into_any(),
                Some(Ok(page)) => view! {
                    <p class="muted">{move || format!("{} groups shown ({} in this status)", rows.with(Vec::len), page.total)}</p>
                    <table class="groups">
                        <thead><tr>
                            <th scope="col">"Exception"</th>
                            <th scope="col" class="num">"Events"</th>
                            <th scope="col">"Last 24 h"</th>
                            <th scope="col">"First seen"</th>
                            <th scope="col">"Last seen"</th>
                        </tr></thead>
                        <tbody>
                            <For each=move || rows.get() key=|g| (g.id, g.occurrence_count, g.is_resolved) let:g>
                                <tr>
                                    <td class="c-exc">
                                        {status_badge(&g)}
                                        {
                                            let ty = g.exception_type.clone();
                                            view! { <A href=format!("/exceptions/{}", g.id)><span class="exc-type">{ty.clone()}</span></A> }
                                        }
                                        <div class="exc-msg">{g.exception_message.clone()}</div>
                                        <div class="muted small">{g.source.clone()}{g.request_path.clone().map(|p| format!(" · {p}"))}</div>
                                    </td>
                                    <td class="num">{g.occurrence_count}</td>
                                    <td><Sparkline id=g.id.to_string()/></td>
                                    <td title=g.first_seen_at.clone()>{ctx.api_time(&g.first_seen_at, Precision::Minutes)}</td>
                                    <td title=g.last_seen_at.clone()>{
                                        let now = api::now_us();
                                        timefmt::parse_us(&g.last_seen_at).map_or(g.last_seen_at.clone(), |us| timefmt::ago(us, now))
                                    }</td>
                                </tr>
                            </For>
                        </tbody>
                    </table>
                    <div class="more">
                        {move || match more_state.get() {
                            State::Loading => view! { <p class="loading">"Loading…"</p> }.into_any(),
                            State::Failed(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                            State::Idle => view! { <Show when=move || cursor.with(Option::is_some)>
                                <button class="btn" on:click=load_more>"More exceptions"</button></Show> }.into_any(),
                        }}
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// "Resolved" / "Regressed" marker of a group.
pub fn status_badge(g: &ExceptionGroup) -> Option<AnyView> {
    if g.is_resolved {
        Some(view! { <span class="tag ok">"Resolved"</span> }.into_any())
    } else if g.regressed_at.is_some() {
        Some(view! { <span class="tag bad">"Regressed"</span> }.into_any())
    } else {
        None
    }
}

/// Occurrences per hour over the last day, from the group's recent occurrences (the collector
/// returns the latest 20, so a busy group's sparkline shows its most recent activity).
#[component]
fn Sparkline(id: String) -> impl IntoView {
    let detail = LocalResource::new(move || {
        let id = id.clone();
        async move { api::get_exception(&id).await }
    });
    move || {
        detail.get().and_then(|d| d.ok()).map(|d| {
            let now = api::now_us();
            let mut counts = vec![0i64; SPARK_HOURS as usize];
            for o in &d.recent_occurrences {
                if let Some(us) = timefmt::parse_us(&o.timestamp) {
                    let hours_ago = (now - us) / 3_600_000_000;
                    if (0..SPARK_HOURS).contains(&hours_ago) {
                        counts[(SPARK_HOURS - 1 - hours_ago) as usize] += 1;
                    }
                }
            }
            let top = nice_max(counts.iter().copied().max().unwrap_or(0)) as f64;
            let total: i64 = counts.iter().sum();
            view! {
                <svg class="spark" viewBox="0 0 96 24" preserveAspectRatio="none" role="img"
                    aria-label=format!("{total} recent occurrences in the last 24 hours")>
                    {counts.into_iter().enumerate().filter(|(_, c)| *c > 0).map(|(i, c)| {
                        let h = (c as f64 / top * 22.0).max(2.0);
                        view! { <rect x=(i * 4).to_string() y=timefmt::fixed2(24.0 - h) width="3" height=timefmt::fixed2(h)/> }
                    }).collect_view()}
                    <line x1="0" y1="23.5" x2="96" y2="23.5"/>
                </svg>
            }
        })
    }
}
