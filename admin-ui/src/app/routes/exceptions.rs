//! The exception tracker's list (`/exceptions`): groups with type, message, occurrence count, a
//! sparkline of the last day's occurrences, first and last seen; status tabs (unresolved,
//! regressed, resolved, all) and sort order in the URL. Status and sort are the collector's
//! (`status`, `sort`), so they hold across every group, not only the loaded pages; the
//! sparklines of a page come from one histogram request.

use crate::app::api;
use crate::app::components::State;
use crate::app::ctx;
use crate::histogram::nice_max;
use crate::query::{decode_query, encode_pairs, exception_list_params};
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use std::collections::HashMap;
use tracewire_shared::api::{ExceptionGroup, ExceptionHistogram, Page};

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

/// Hours covered by a row's sparkline (one bar an hour).
const SPARK_HOURS: i64 = 24;

/// Groups per page.
const GROUPS_PAGE: &str = "50";

/// Occurrences per hour of the groups on screen, by group id.
type Sparks = RwSignal<HashMap<String, Vec<i64>>>;

/// Loads the sparklines of `ids` (one request) into `sparks`; a failure leaves them blank.
fn load_sparks(ids: Vec<String>, sparks: Sparks) {
    if ids.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        let now = api::now_us();
        let p = vec![
            ("ids".to_owned(), ids.join(",")),
            ("buckets".to_owned(), SPARK_HOURS.to_string()),
            (
                "from".to_owned(),
                tracewire_shared::validate::format_timestamp_us(now - SPARK_HOURS * 3_600_000_000),
            ),
            (
                "to".to_owned(),
                tracewire_shared::validate::format_timestamp_us(now),
            ),
        ];
        if let Ok(h) =
            api::get::<ExceptionHistogram>("/api/v1/logging/exceptions/histogram", &p).await
        {
            sparks.update(|m| {
                m.extend(
                    h.items
                        .into_iter()
                        .map(|s| (s.exception_id.to_string(), s.counts)),
                );
            });
        }
    });
}

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
    let sparks: Sparks = RwSignal::new(HashMap::new());
    let list = LocalResource::new(move || {
        let mut p = exception_list_params(&status.get(), &sort.get());
        reload.get();
        async move {
            p.push(("limit".to_owned(), GROUPS_PAGE.to_owned()));
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
            load_sparks(
                page.items.iter().map(|g| g.id.to_string()).collect(),
                sparks,
            );
        }
    });
    let load_more = move |_| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        let mut p = exception_list_params(&status.get_untracked(), &sort.get_untracked());
        more_state.set(State::Loading);
        leptos::task::spawn_local(async move {
            p.push(("limit".to_owned(), GROUPS_PAGE.to_owned()));
            p.push(("cursor".to_owned(), c));
            match api::get::<Page<ExceptionGroup>>("/api/v1/logging/exceptions", &p).await {
                Ok(page) => {
                    load_sparks(
                        page.items.iter().map(|g| g.id.to_string()).collect(),
                        sparks,
                    );
                    more.update(|m| m.extend(page.items));
                    cursor.set(page.next_cursor);
                    more_state.set(State::Idle);
                }
                Err(e) => more_state.set(State::Failed(e.to_string())),
            }
        });
    };
    // The collector's order; later pages follow the first.
    let rows = Memo::new(move |_| {
        let mut all: Vec<ExceptionGroup> = match list.get() {
            Some(Ok(p)) => p.items,
            _ => Vec::new(),
        };
        all.extend(more.get());
        let mut seen = std::collections::HashSet::new();
        all.retain(|g| seen.insert(g.id));
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
                                    <td>{let id = g.id.to_string(); move || sparks.with(|m| m.get(&id).cloned()).map(|counts| view! { <Sparkline counts/> })}</td>
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

/// Occurrences per hour over the last day (oldest first), as bars.
#[component]
fn Sparkline(counts: Vec<i64>) -> impl IntoView {
    let top = nice_max(counts.iter().copied().max().unwrap_or(0)) as f64;
    let total: i64 = counts.iter().sum();
    view! {
        <svg class="spark" viewBox="0 0 96 24" preserveAspectRatio="none" role="img"
            aria-label=format!("{total} occurrences in the last 24 hours")>
            {counts.into_iter().enumerate().filter(|(_, c)| *c > 0).map(|(i, c)| {
                let h = (c as f64 / top * 22.0).max(2.0);
                view! { <rect x=(i * 4).to_string() y=timefmt::fixed2(24.0 - h) width="3" height=timefmt::fixed2(h)/> }
            }).collect_view()}
            <line x1="0" y1="23.5" x2="96" y2="23.5"/>
        </svg>
    }
}
