//! The log explorer (`/logs`): filter bar, volume histogram, results table with keyset paging,
//! row details, live tail and export. The URL is the single source of the view: every control
//! writes a new URL, and the page reads its state back from it, so reload, back button and
//! shared links all show the same view.

use crate::app::api::{self, ApiError};
use crate::app::components::details::Details;
use crate::app::components::histogram::Histogram;
use crate::app::components::tail::LiveTail;
use crate::app::components::{LevelBadge, Message, State, export_logs};
use crate::app::ctx;
use crate::query::{self, COLUMNS, LogQuery, PRESETS, TimeRange};
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use tracewire_shared::Level;
use tracewire_shared::api::{LogView, Page};
use wasm_bindgen::JsCast;

/// Rows per page.
const PAGE: u32 = 100;

/// The filter part of a view (what the API answers depend on); the rows reload only when it
/// changes, not when wrap, columns or the open row do.
#[derive(Clone, PartialEq)]
struct FilterKey {
    levels: Vec<Level>,
    fields: Vec<(String, String)>,
    excludes: Vec<(String, String)>,
    q: String,
    range: TimeRange,
}

/// The router's navigate function.
type Navigate = std::sync::Arc<dyn Fn(&str, NavigateOptions) + Send + Sync>;

/// Navigation helper: writes a view (and optionally an open row) to the URL. `Copy`, so event
/// handlers in re-rendered views can capture it freely.
#[derive(Clone, Copy)]
pub struct ViewNav {
    navigate: StoredValue<Navigate>,
}

impl ViewNav {
    /// Shows `q` (closing any open row).
    pub fn go(&self, q: &LogQuery) {
        self.go_with(q, None);
    }

    /// Shows `q` with the row `open` in the details panel.
    pub fn go_with(&self, q: &LogQuery, open: Option<&str>) {
        let mut qs = q.to_query_string();
        if let Some(id) = open {
            if !qs.is_empty() {
                qs.push('&');
            }
            qs.push_str(&format!("log={}", query::encode_component(id)));
        }
        let url = if qs.is_empty() {
            "/logs".to_owned()
        } else {
            format!("/logs?{qs}")
        };
        self.navigate
            .with_value(|n| n(&url, NavigateOptions::default()));
    }
}

/// The log explorer page.
#[component]
pub fn Explorer() -> impl IntoView {
    let ctx = ctx();
    let location = use_location();
    let navigate = use_navigate();
    let nav = ViewNav {
        navigate: StoredValue::new(std::sync::Arc::new(move |u: &str, o| navigate(u, o))),
    };
    let pairs = Memo::new(move |_| query::decode_query(&location.search.get()));
    let view_q = Memo::new(move |_| {
        pairs.with(|p| LogQuery::from_pairs(p.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    });
    let open_id = Memo::new(move |_| {
        pairs.with(|p| p.iter().find(|(k, _)| k == "log").map(|(_, v)| v.clone()))
    });
    // The zone toggle lives in the top bar; the explorer mirrors it into its URL both ways.
    Effect::new(move |_| {
        let utc = view_q.with(|q| q.utc);
        if ctx.utc.get_untracked() != utc {
            ctx.utc.set(utc);
        }
    });
    {
        Effect::new(move |prev: Option<bool>| {
            let utc = ctx.utc.get();
            if prev.is_some() && view_q.with_untracked(|q| q.utc) != utc {
                let mut q = view_q.get_untracked();
                q.utc = utc;
                nav.go_with(&q, open_id.get_untracked().as_deref());
            }
            utc
        });
    }
    let filter_key = Memo::new(move |_| {
        view_q.with(|q| FilterKey {
            levels: q.levels.clone(),
            fields: q.fields.clone(),
            excludes: q.excludes.clone(),
            q: q.q.clone(),
            range: q.range.clone(),
        })
    });
    let reload = RwSignal::new(0u32);
    // The API parameters (presets turned into fixed bounds now), shared by the rows, the
    // histogram and the "older logs" pages so all of them describe the same window.
    let params = Memo::new(move |_| {
        reload.get();
        // `get`, not `track`: a memo never read has never run, so it would subscribe to nothing.
        let _ = filter_key.get();
        view_q.with_untracked(|q| q.api_params(api::now_us()))
    });
    let first = LocalResource::new(move || {
        let mut p = params.get();
        async move {
            p.push(("limit".to_owned(), PAGE.to_string()));
            api::get::<Page<LogView>>("/api/v1/logging/logs", &p).await
        }
    });
    // Older pages, with the parameters they were loaded for: while a new first page loads they
    // must not mix with it (the same row in both would repeat a key in the table).
    let older = RwSignal::new((Vec::<(String, String)>::new(), Vec::<LogView>::new()));
    let cursor = RwSignal::new(None::<String>);
    let older_state = RwSignal::new(State::Idle);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            older.set((Vec::new(), Vec::new()));
            cursor.set(page.next_cursor.clone());
            older_state.set(State::Idle);
        }
    });
    let load_older = move |_| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        older_state.set(State::Loading);
        let base = params.get_untracked();
        let mut p = base.clone();
        p.push(("limit".to_owned(), PAGE.to_string()));
        p.push(("cursor".to_owned(), c));
        leptos::task::spawn_local(async move {
            match api::get::<Page<LogView>>("/api/v1/logging/logs", &p).await {
                Ok(page) => {
                    older.update(|(for_params, rows)| {
                        if *for_params != base {
                            *for_params = base;
                            rows.clear();
                        }
                        rows.extend(page.items);
                    });
                    cursor.set(page.next_cursor);
                    older_state.set(State::Idle);
                }
                Err(e) => older_state.set(State::Failed(e.to_string())),
            }
        });
    };
    let rows = Memo::new(move |_| {
        let mut all: Vec<LogView> = match first.get() {
            Some(Ok(page)) => page.items,
            _ => Vec::new(),
        };
        let current = params.get();
        older.with(|(for_params, rows)| {
            if *for_params == current {
                all.extend(rows.iter().cloned());
            }
        });
        let mut seen = std::collections::HashSet::new();
        all.retain(|l| seen.insert(l.id));
        all
    });
    let live = RwSignal::new(false);

    // `/` focuses the search box (unless typing somewhere); Esc closes the details.
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            if ev.key() == "/" && !typing {
                ev.prevent_default();
                if let Some(el) = document().get_element_by_id("search")
                    && let Ok(input) = el.dyn_into::<web_sys::HtmlElement>()
                {
                    let _ = input.focus();
                }
            } else if ev.key() == "Escape" && open_id.get_untracked().is_some() {
                let id = open_id.get_untracked();
                nav.go(&view_q.get_untracked());
                // Focus returns to the row that was open.
                if let Some(id) = id
                    && let Some(el) = document().get_element_by_id(&format!("row-{id}"))
                    && let Ok(row) = el.dyn_into::<web_sys::HtmlElement>()
                {
                    let _ = row.focus();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }

    let nav_fb = nav;
    let nav_table = nav;
    let nav_details = nav;
    let nav_hist = nav;
    view! {
        <div class="explorer" class:wrap=move || view_q.with(|q| q.wrap)>
            <h1 class="sr-only">"Log explorer"</h1>
            <FilterBar view_q nav=nav_fb reload live/>
            <Histogram params nav=nav_hist view_q/>
            {move || if live.get() {
                view! { <LiveTail view_q/> }.into_any()
            } else {
                let nav = nav_table;
                view! {
                    <section class="panel results" aria-label="Results">
                        {move || match first.get() {
                            None => view! { <p class="loading" role="status">"Loading logs…"</p> }.into_any(),
                            Some(Err(e)) => error_panel(e, reload).into_any(),
                            Some(Ok(page)) => {
                                let total = page.total;
                                view! {
                                    <div class="results-head">
                                        <span class="count" role="status">
                                            {move || format!("{} of {} logs", rows.with(Vec::len), total)}
                                        </span>
                                    </div>
                                    <LogTable rows view_q open_id nav/>
                                    <div class="more">
                                        {move || match older_state.get() {
                                            State::Loading => view! { <p class="loading" role="status">"Loading older logs…"</p> }.into_any(),
                                            State::Failed(m) => view! { <p class="error" role="alert">{m}</p>
                                                <button class="btn" on:click=load_older>"Retry"</button> }.into_any(),
                                            State::Idle => view! {
                                                <Show when=move || cursor.with(Option::is_some)
                                                    fallback=move || view! { <p class="muted">{move || if rows.with(Vec::is_empty) { "" } else { "No older logs in this range." }}</p> }>
                                                    <button class="btn" on:click=load_older>"Older logs"</button>
                                                </Show>
                                            }.into_any(),
                                        }}
                                    </div>
                                }.into_any()
                            }
                        }}
                    </section>
                }.into_any()
            }}
            {move || open_id.get().map(|id| {
                let nav = nav_details;
                view! { <Details id view_q nav/> }
            })}
        </div>
    }
}

/// An error panel with a retry that reloads the view.
fn error_panel(e: ApiError, reload: RwSignal<u32>) -> impl IntoView {
    view! {
        <div class="error-box" role="alert">
            <p>{e.to_string()}</p>
            <button class="btn" on:click=move |_| reload.update(|n| *n += 1)>"Retry"</button>
        </div>
    }
}

/// The filter bar: every filter of the logs API, the time range, display toggles and export.
#[component]
fn FilterBar(
    view_q: Memo<LogQuery>,
    nav: ViewNav,
    reload: RwSignal<u32>,
    live: RwSignal<bool>,
) -> impl IntoView {
    let ctx = ctx();
    // Text inputs are drafts until applied (Enter or "Search"), then the URL takes them.
    let draft = |key: &'static str| {
        let s = RwSignal::new(String::new());
        Effect::new(move |_| {
            let v = view_q.with(|q| match key {
                "q" => q.q.clone(),
                k => q.field(k).unwrap_or_default().to_owned(),
            });
            s.set(v);
        });
        s
    };
    let q_text = draft("q");
    let module = draft("module");
    let path = draft("path");
    let user = draft("user");
    let trace = draft("trace");
    let apply = {
        move || {
            let mut q = view_q.get_untracked();
            q.q = q_text.get_untracked();
            q.set_field("module", module.get_untracked().trim());
            q.set_field("path", path.get_untracked().trim());
            q.set_field("user", user.get_untracked().trim());
            q.set_field("trace", trace.get_untracked().trim());
            nav.go(&q);
            reload.update(|n| *n += 1);
        }
    };
    let on_submit = {
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            apply();
        }
    };
    let nav_level = nav;
    let toggle_level = move |level: Level| {
        let mut q = view_q.get_untracked();
        if let Some(i) = q.levels.iter().position(|l| *l == level) {
            q.levels.remove(i);
        } else {
            q.levels.push(level);
            q.levels.sort();
        }
        nav_level.go(&q);
    };
    let nav_src = nav;
    let nav_range = nav;
    let nav_custom = nav;
    let nav_wrap = nav;
    let nav_cols = nav;
    let nav_clear = nav;
    let custom_from = RwSignal::new(String::new());
    let custom_to = RwSignal::new(String::new());
    let show_custom = RwSignal::new(false);
    Effect::new(move |_| {
        let utc = ctx.utc.get();
        let (from, to) = view_q.with(|q| q.range.bounds(api::now_us()));
        let zone = |us| {
            if utc {
                timefmt::Zone::Utc
            } else {
                timefmt::Zone::Local(api::local_offset_min(us))
            }
        };
        custom_from.set(timefmt::to_input(from, zone(from)));
        custom_to.set(timefmt::to_input(to, zone(to)));
        show_custom.set(view_q.with(|q| matches!(q.range, TimeRange::Absolute { .. })));
    });
    let apply_custom = move |_| {
        let offset = |s: &str| {
            if ctx.utc.get_untracked() {
                0
            } else {
                timefmt::from_input(s, 0).map_or(0, api::local_offset_min)
            }
        };
        let (f, t) = (custom_from.get_untracked(), custom_to.get_untracked());
        if let (Some(from_us), Some(to_us)) = (
            timefmt::from_input(&f, offset(&f)),
            timefmt::from_input(&t, offset(&t)),
        ) && from_us <= to_us
        {
            let mut q = view_q.get_untracked();
            q.range = TimeRange::Absolute { from_us, to_us };
            nav_custom.go(&q);
        }
    };
    let text_field = move |id: &'static str,
                           label: &'static str,
                           hint: &'static str,
                           s: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" placeholder=hint autocomplete="off" spellcheck="false"
                    prop:value=move || s.get() on:input=move |ev| s.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <form class="panel filters" role="search" aria-label="Log filters" on:submit=on_submit>
            <div class="row">
                <div class="field grow">
                    <label for="search">"Search messages"<kbd title="Press / to focus">"/"</kbd></label>
                    <input id="search" type="search" placeholder="Full text, e.g. checkout failed" autocomplete="off"
                        prop:value=move || q_text.get() on:input=move |ev| q_text.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="range">"Time range"</label>
                    <select id="range" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if v == "custom" {
                            show_custom.set(true);
                        } else {
                            let mut q = view_q.get_untracked();
                            q.range = TimeRange::Preset(v);
                            nav_range.go(&q);
                        }
                    }>
                        {PRESETS.iter().map(|(key, label, _)| view! {
                            <option value=*key selected=move || view_q.with(|q| q.range == TimeRange::Preset((*key).to_owned()))>{*label}</option>
                        }).collect_view()}
                        <option value="custom" selected=move || show_custom.get()>"Custom range…"</option>
                    </select>
                </div>
                <button class="btn primary" type="submit">"Search"</button>
                <button class="btn" type="button" title="Run the query again (moves relative ranges to now)"
                    on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Show when=move || show_custom.get()>
                <div class="row custom-range">
                    <div class="field">
                        <label for="from">"From"</label>
                        <input id="from" type="datetime-local" step="1" prop:value=move || custom_from.get()
                            on:input=move |ev| custom_from.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="to">"To"</label>
                        <input id="to" type="datetime-local" step="1" prop:value=move || custom_to.get()
                            on:input=move |ev| custom_to.set(event_target_value(&ev))/>
                    </div>
                    <button class="btn" type="button" on:click=apply_custom>"Apply range"</button>
                    <span class="muted">{move || if ctx.utc.get() { "Times in UTC" } else { "Times in your local zone" }}</span>
                </div>
            </Show>
            <div class="row">
                <fieldset class="levels">
                    <legend>"Levels"</legend>
                    {Level::ALL.iter().map(|level| {
                        let level = *level;
                        let toggle = toggle_level;
                        view! {
                            <button type="button" class=format!("chip lvl-{}", level.as_str().to_ascii_lowercase())
                                aria-pressed=move || view_q.with(|q| q.levels.contains(&level)).to_string()
                                on:click=move |_| toggle(level)>{level.as_str()}</button>
                        }
                    }).collect_view()}
                    <span class="hint muted">{move || if view_q.with(|q| q.levels.is_empty()) { "all shown" } else { "" }}</span>
                </fieldset>
                <div class="field">
                    <label for="source">"Source"</label>
                    <select id="source" on:change=move |ev| {
                        let mut q = view_q.get_untracked();
                        q.set_field("source", &event_target_value(&ev));
                        nav_src.go(&q);
                    }>
                        <option value="" selected=move || view_q.with(|q| q.field("source").is_none())>"Any"</option>
                        <option value="frontend" selected=move || view_q.with(|q| q.field("source") == Some("frontend"))>"Frontend"</option>
                        <option value="backend" selected=move || view_q.with(|q| q.field("source") == Some("backend"))>"Backend"</option>
                    </select>
                </div>
                {text_field("f-module", "Module", "cart", module)}
                {text_field("f-path", "Path", "/api/* for a prefix", path)}
                {text_field("f-user", "User", "user id", user)}
                {text_field("f-trace", "Trace id", "32 hex digits", trace)}
            </div>
            <div class="row toolbar">
                <label class="toggle">
                    <input type="checkbox" prop:checked=move || view_q.with(|q| q.wrap) on:change=move |ev| {
                        let mut q = view_q.get_untracked();
                        q.wrap = event_target_checked(&ev);
                        nav_wrap.go(&q);
                    }/>
                    "Wrap lines"
                </label>
                <details class="menu">
                    <summary>"Columns"</summary>
                    <div class="menu-body">
                        {COLUMNS.iter().map(|(key, label)| {
                            let nav = nav_cols;
                            view! {
                                <label class="toggle">
                                    <input type="checkbox" prop:checked=move || view_q.with(|q| q.columns.iter().any(|c| c == key))
                                        on:change=move |ev| {
                                            let mut q = view_q.get_untracked();
                                            q.columns.retain(|c| c != key);
                                            if event_target_checked(&ev) {
                                                q.columns.push((*key).to_owned());
                                                q.columns.sort_by_key(|c| COLUMNS.iter().position(|k| k.0 == c));
                                            }
                                            nav.go(&q);
                                        }/>
                                    {*label}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </details>
                <label class="toggle">
                    <input type="checkbox" prop:checked=move || live.get()
                        on:change=move |ev| live.set(event_target_checked(&ev))/>
                    "Live tail"
                </label>
                <div class="spacer"></div>
                <span class="muted">"Export"</span>
                {["json", "csv", "txt"].into_iter().map(|fmt| view! {
                    <button type="button" class="btn small" on:click=move |_| export_logs(view_q.get_untracked().api_params(api::now_us()), fmt)>
                        {fmt.to_ascii_uppercase()}
                    </button>
                }).collect_view()}
                <button type="button" class="btn small ghost" on:click=move |_| nav_clear.go(&LogQuery::default())>"Clear filters"</button>
            </div>
            {move || {
                let ex = view_q.with(|q| q.excludes.clone());
                (!ex.is_empty()).then(|| {
                    view! {
                        <div class="row excludes" role="group" aria-label="Values filtered out">
                            <span class="muted">"Filtered out:"</span>
                            {ex.into_iter().map(|(k, v)| {
                                let label = query::exclude_label(&k, &v);
                                view! {
                                    <button type="button" class="chip not" title="Remove this filter"
                                        aria-label=format!("Remove filter {label}") on:click=move |_| {
                                        let mut q = view_q.get_untracked();
                                        q.remove_exclude(&k, &v);
                                        nav.go(&q);
                                    }>{label.clone()}" ✕"</button>
                                }
                            }).collect_view()}
                        </div>
                    }
                })
            }}
        </form>
    }
}

/// The results table; rows are focusable (arrow keys move, Enter opens the details).
#[component]
fn LogTable(
    rows: Memo<Vec<LogView>>,
    view_q: Memo<LogQuery>,
    open_id: Memo<Option<String>>,
    nav: ViewNav,
) -> impl IntoView {
    let ctx = ctx();
    let cols = Memo::new(move |_| view_q.with(|q| q.columns.clone()));
    let has = move |c: &str| cols.with(|cs| cs.iter().any(|x| x == c));
    view! {
        <Show when=move || !rows.with(Vec::is_empty)
            fallback=|| view! { <div class="empty"><p>"No logs match these filters in this time range."</p>
                <p class="muted">"Widen the time range or remove a filter."</p></div> }>
            <table class="logs">
                <thead><tr>
                    <th scope="col" class="c-level">"Level"</th>
                    <th scope="col" class="c-time">"Time"</th>
                    <th scope="col" class="c-source">"Source"</th>
                    {move || has("module").then(|| view! { <th scope="col">"Module"</th> })}
                    {move || has("path").then(|| view! { <th scope="col">"Path"</th> })}
                    {move || has("user").then(|| view! { <th scope="col">"User"</th> })}
                    {move || has("trace").then(|| view! { <th scope="col">"Trace"</th> })}
                    {move || has("status").then(|| view! { <th scope="col">"Status"</th> })}
                    {move || has("duration").then(|| view! { <th scope="col">"Duration"</th> })}
                    <th scope="col" class="c-msg">"Message"</th>
                </tr></thead>
                <tbody on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let Some(row) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else { return };
                    if row.tag_name() != "TR" { return; }
                    let next = match ev.key().as_str() {
                        "ArrowDown" | "j" => row.next_element_sibling(),
                        "ArrowUp" | "k" => row.previous_element_sibling(),
                        _ => return,
                    };
                    ev.prevent_default();
                    if let Some(el) = next.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
                        let _ = el.focus();
                    }
                }>
                    <For each=move || rows.get() key=|l| l.id let:log>
                        {
                            let id = log.id.to_string();
                            let open = {
                                let id = id.clone();
                                move || nav.go_with(&view_q.get_untracked(), Some(&id))
                            };
                            let open_key = open.clone();
                            let id_sel = id.clone();
                            let term = Memo::new(move |_| view_q.with(|q| q.q.clone()));
                            let ts = timefmt::parse_us(&log.timestamp);
                            let ts_text = log.timestamp.clone();
                            let level = log.level.clone();
                            let l2 = log.clone();
                            view! {
                                <tr id=format!("row-{id}") tabindex="0"
                                    class=format!("lvl-{}", level.to_ascii_lowercase())
                                    class:selected=move || open_id.get().as_deref() == Some(id_sel.as_str())
                                    aria-label=format!("{} log, open details", level)
                                    on:click=move |ev: leptos::ev::MouseEvent| {
                                        // A link in the row (the trace column) navigates itself.
                                        let on_link = ev.target()
                                            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                                            .and_then(|e| e.closest("a").ok().flatten())
                                            .is_some();
                                        if !on_link {
                                            open();
                                        }
                                    }
                                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { open_key() }>
                                    <td class="c-level"><LevelBadge level=log.level.clone()/></td>
                                    <td class="c-time mono">{move || ts.map_or_else(|| ts_text.clone(), |us| ctx.time(us, Precision::Millis))}</td>
                                    <td class="c-source">{log.source.clone()}</td>
                                    {move || has("module").then(|| view! { <td class="mono">{l2.module.clone()}</td> })}
                                    {let l = log.clone(); move || has("path").then(|| view! { <td class="mono">{l.request_path.clone()}</td> })}
                                    {let l = log.clone(); move || has("user").then(|| view! { <td>{l.user_id.clone()}</td> })}
                                    {let l = log.clone(); move || has("trace").then(|| view! { <td class="mono">{l.trace_id.clone().map(|t| {
                                        let short: String = t.chars().take(8).collect();
                                        view! { <A href=format!("/traces/{t}") attr:title=format!("Trace {t}")>{short}"…"</A> }
                                    })}</td> })}
                                    {let l = log.clone(); move || has("status").then(|| view! { <td>{l.response_status.map(|s| s.to_string())}</td> })}
                                    {let l = log.clone(); move || has("duration").then(|| view! { <td>{l.duration_ms.map(timefmt::format_ms)}</td> })}
                                    <td class="c-msg">
                                        <Message text=log.message.clone() term/>
                                        {(log.dedup_count > 1).then(|| view! {
                                            <span class="badge" title=format!("{} identical entries collapsed", log.dedup_count)>
                                                {format!("×{}", log.dedup_count)}
                                            </span>
                                        })}
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </Show>
    }
}
