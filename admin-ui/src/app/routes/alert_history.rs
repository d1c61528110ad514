//! Alert history (`/alerts/history`): every trigger, resolve, suppressed trigger and test, with
//! the value against the threshold, whether a notification went out and each channel's
//! delivery status and error; admins acknowledge entries. Filters (rule, severity, time range)
//! live in the URL and are all sent to the API, so every page (and "Older entries") holds only
//! matching entries.

use crate::app::api;
use crate::app::components::State;
use crate::app::components::fetch::{decoded, json_resource};
use crate::app::ctx;
use crate::app::routes::alerts::{outcomes_view, rule_value};
use crate::query::{LogQuery, PRESETS, TimeRange, decode_query, encode_pairs};
use crate::timefmt::Precision;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use std::collections::HashMap;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{
    AcknowledgeRequest, AlertHistoryEntry, AlertRule, HistoryKind, ThresholdKind,
};
use tracewire_shared::validate::format_timestamp_us;

/// The page's URL state.
#[derive(Clone, PartialEq)]
struct Filters {
    rule: String,
    severity: String,
    range: TimeRange,
}

impl Filters {
    fn from_query(search: &str) -> Filters {
        let pairs = decode_query(search);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let q = LogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Filters {
            rule: get("rule"),
            severity: get("severity"),
            range: q.range,
        }
    }

    fn to_url(&self) -> String {
        let mut pairs = LogQuery {
            range: self.range.clone(),
            ..LogQuery::default()
        }
        .to_pairs();
        if !self.rule.is_empty() {
            pairs.push(("rule".into(), self.rule.clone()));
        }
        if !self.severity.is_empty() {
            pairs.push(("severity".into(), self.severity.clone()));
        }
        if pairs.is_empty() {
            "/alerts/history".into()
        } else {
            format!("/alerts/history?{}", encode_pairs(&pairs))
        }
    }

    fn api_params(&self) -> Vec<(String, String)> {
        let (from, to) = self.range.bounds(api::now_us());
        let mut p = vec![
            ("from".to_owned(), format_timestamp_us(from)),
            ("to".to_owned(), format_timestamp_us(to)),
            ("limit".to_owned(), "100".to_owned()),
        ];
        if !self.rule.is_empty() {
            p.push(("rule_id".into(), self.rule.clone()));
        }
        if !self.severity.is_empty() {
            p.push(("severity".into(), self.severity.clone()));
        }
        p
    }
}

fn kind_badge(kind: HistoryKind) -> AnyView {
    let (class, label) = match kind {
        HistoryKind::Firing => ("tag bad", "Firing"),
        HistoryKind::Suppressed => ("tag warn", "Suppressed"),
        HistoryKind::Resolved => ("tag ok", "Resolved"),
        HistoryKind::NoData => ("tag", "No data"),
        HistoryKind::Test => ("tag", "Test"),
    };
    view! { <span class=class>{label}</span> }.into_any()
}

/// The history page.
#[component]
pub fn AlertHistory() -> impl IntoView {
    let ctx = ctx();
    let location = use_location();
    let navigate = use_navigate();
    let filters = Memo::new(move |_| Filters::from_query(&location.search.get()));
    let go = StoredValue::new(std::sync::Arc::new(move |f: Filters| {
        navigate(&f.to_url(), NavigateOptions::default())
    }) as std::sync::Arc<dyn Fn(Filters) + Send + Sync>);
    let set = move |edit: fn(&mut Filters, String), value: String| {
        let mut f = filters.get_untracked();
        edit(&mut f, value);
        go.with_value(|g| g(f));
    };
    let reload = RwSignal::new(0u32);
    let rules = json_resource(Memo::new(move |_| {
        ("/api/v1/monitoring/alerts".to_owned(), Vec::new(), 0)
    }));
    let kinds = Memo::new(move |_| -> HashMap<String, ThresholdKind> {
        match decoded::<Page<AlertRule>>(&rules) {
            Some(Ok(p)) => p
                .items
                .iter()
                .map(|r| (r.id.to_string(), r.condition.threshold_kind()))
                .collect(),
            _ => HashMap::new(),
        }
    });
    let list = json_resource(Memo::new(move |_| {
        let p = filters.with(Filters::api_params);
        (
            "/api/v1/monitoring/alerts/history".to_owned(),
            p,
            reload.get(),
        )
    }));
    let more = RwSignal::new(Vec::<AlertHistoryEntry>::new());
    let cursor = RwSignal::new(None::<String>);
    let more_state = RwSignal::new(State::Idle);
    Effect::new(move |_| {
        if let Some(Ok(page)) = decoded::<Page<AlertHistoryEntry>>(&list) {
            more.set(Vec::new());
            cursor.set(page.next_cursor.clone());
        }
    });
    let load_more = move |_| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        let mut p = filters.with_untracked(Filters::api_params);
        p.push(("cursor".into(), c));
        more_state.set(State::Loading);
        leptos::task::spawn_local(async move {
            match api::get::<Page<AlertHistoryEntry>>("/api/v1/monitoring/alerts/history", &p).await
            {
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
        let mut all = match decoded::<Page<AlertHistoryEntry>>(&list) {
            Some(Ok(p)) => p.items,
            _ => Vec::new(),
        };
        all.extend(more.get());
        all
    });
    view! {
        <section class="panel history">
            <div class="page-head">
                <h1>"Alert history"</h1>
                <div class="spacer"></div>
                <A href="/alerts">"Alert rules"</A>
            </div>
            <div class="row filters">
                <div class="field">
                    <label for="h-rule">"Rule"</label>
                    <select id="h-rule" on:change=move |ev| set(|f, v| f.rule = v, event_target_value(&ev))>
                        <option value="" selected=move || filters.with(|f| f.rule.is_empty())>"All rules"</option>
                        {move || match decoded::<Page<AlertRule>>(&rules) {
                            Some(Ok(p)) => p.items.into_iter().map(|r| {
                                let id = r.id.to_string();
                                let sel = id.clone();
                                view! { <option value=id selected=move || filters.with(|f| f.rule == sel)>{r.name}</option> }
                            }).collect_view().into_any(),
                            _ => ().into_any(),
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="h-sev">"Severity"</label>
                    <select id="h-sev" on:change=move |ev| set(|f, v| f.severity = v, event_target_value(&ev))>
                        {[("", "Any"), ("info", "Info"), ("warning", "Warning"), ("critical", "Critical")].into_iter().map(|(v, l)| view! {
                            <option value=v selected=move || filters.with(|f| f.severity == v)>{l}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="h-range">"Time range"</label>
                    <select id="h-range" on:change=move |ev| set(|f, v| f.range = TimeRange::Preset(v), event_target_value(&ev))>
                        {PRESETS.iter().map(|(key, label, _)| view! {
                            <option value=*key selected=move || filters.with(|f| f.range == TimeRange::Preset((*key).to_owned()))>{*label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button class="btn" type="button" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            {move || match decoded::<Page<AlertHistoryEntry>>(&list) {
                None => view! { <p class="loading" role="status">"Loading the history…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error-box" role="alert"><p>{e.to_string()}</p>
                    <button class="btn" on:click=move |_| reload.update(|n| *n += 1)>"Retry"</button></div> }.into_any(),
                Some(Ok(_)) if rows.with(Vec::is_empty) => view! {
                    <div class="empty"><p>"Nothing in the history for these filters."</p>
                    <p class="muted">"Each time a rule fires, resolves or sends a test, it is recorded here with its delivery status."</p></div>
                }.into_any(),
                Some(Ok(page)) => view! {
                    <p class="muted">{move || format!("{} entries shown ({} match the filters)", rows.with(Vec::len), page.total)}</p>
                    <table class="metrics-table history-table">
                        <thead><tr>
                            <th scope="col">"Time"</th><th scope="col">"Rule"</th><th scope="col">"Event"</th>
                            <th scope="col">"Value / threshold"</th><th scope="col">"Notifications"</th><th scope="col">"Acknowledged"</th>
                        </tr></thead>
                        <tbody>
                            <For each=move || rows.get() key=|e| (e.id, e.acknowledged_at.clone()) let:e>
                                <HistoryRow e kinds reload/>
                            </For>
                        </tbody>
                    </table>
                    <div class="more">
                        {move || match more_state.get() {
                            State::Loading => view! { <p class="loading">"Loading…"</p> }.into_any(),
                            State::Failed(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
                            State::Idle => view! { <Show when=move || cursor.with(Option::is_some)>
                                <button class="btn" on:click=load_more>"Older entries"</button></Show> }.into_any(),
                        }}
                    </div>
                }.into_any(),
            }}
            <Show when=move || !ctx.is_admin()>
                <p class="muted small">"Viewers cannot acknowledge entries."</p>
            </Show>
        </section>
    }
}

#[component]
fn HistoryRow(
    e: AlertHistoryEntry,
    kinds: Memo<HashMap<String, ThresholdKind>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let rule_id = e.rule_id.to_string();
    let ctx = ctx();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let id = e.id;
    let ack = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = api::send_json::<_, AlertHistoryEntry>(
                "POST",
                &format!("/api/v1/monitoring/alerts/history/{id}/acknowledge"),
                &AcknowledgeRequest::default(),
                true,
            )
            .await;
            busy.set(false);
            match r {
                Ok(_) => reload.update(|n| *n += 1),
                Err(err) => failed.set(Some(err.to_string())),
            }
        });
    };
    // The rules (which say how a value reads: %, ms, a count) may arrive after the history:
    // the cell follows them instead of keeping the first, unit-less rendering.
    let (value, threshold) = (e.value, e.threshold);
    let value_text = move || {
        let k = kinds.with(|m| m.get(&rule_id).copied().unwrap_or(ThresholdKind::Count));
        let v = value.map_or("no data".to_owned(), |v| rule_value(k, v));
        format!("{v} / {}", rule_value(k, threshold))
    };
    view! {
        <tr>
            <td class="mono">{ctx.api_time(&e.triggered_at, Precision::Millis)}</td>
            <td>
                <A href=format!("/alerts/{}", e.rule_id)>{e.rule_name.clone()}</A>
                <div><span class=format!("sev sev-{}", e.severity.as_str())>{e.severity.as_str()}</span></div>
            </td>
            <td>{kind_badge(e.kind)}</td>
            <td class="mono">{value_text}</td>
            <td>
                {if e.notification_sent || !e.notification_status.is_empty() {
                    view! { <div class="small">{if e.notification_sent { "Sent" } else { "Not sent" }}</div>
                        {outcomes_view(e.notification_status.clone())} }.into_any()
                } else {
                    view! { <div class="small muted">{match e.kind {
                        HistoryKind::Suppressed => "Not sent: within the throttle, or muted",
                        HistoryKind::NoData => "Not sent: no data is recorded only",
                        _ => "Not sent: the rule has no channels, or it was muted",
                    }}</div> }.into_any()
                }}
            </td>
            <td>
                {match (&e.acknowledged_at, &e.acknowledged_by) {
                    (Some(at), by) => view! { <span class="small">{format!("{} by {}",
                        ctx.api_time(at, Precision::Minutes), by.clone().unwrap_or_default())}</span> }.into_any(),
                    (None, _) => view! {
                        <Show when=move || ctx.is_admin() fallback=|| view! { <span class="muted">"—"</span> }>
                            <button class="btn small" disabled=move || busy.get() on:click=ack>"Acknowledge"</button>
                        </Show>
                    }.into_any(),
                }}
                {move || failed.get().map(|m| view! { <p class="error small" role="alert">{m}</p> })}
            </td>
        </tr>
    }
}
