//! Alert rules (`/alerts`): each rule with its state (ok, pending, firing, muted, no data), last
//! evaluation and value; admins enable or disable, mute for a duration, send a test
//! notification (each channel's outcome shown), delete after a confirmation, and open the form.
//! Viewers see the same list without the controls. A change is a full `PUT` of the rule as the
//! form would send it: channels keep their ids and no secret, so stored secrets stay.

use crate::app::api::{self, ApiError};
use crate::app::components::fetch::{decoded, json_resource};
use crate::app::ctx;
use crate::ruleform::{MUTE_FOR, RuleForm, number_text};
use crate::timefmt::{self, Precision};
use leptos::prelude::*;
use leptos_router::components::A;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{
    AlertRule, AlertState, ChannelKind, ChannelOutcome, Condition, TestNotificationResponse,
    ThresholdKind,
};
use tracewire_shared::validate::format_timestamp_us;

/// Whether a rule is muted now.
pub fn muted(mute_until: Option<&str>) -> bool {
    mute_until
        .and_then(timefmt::parse_us)
        .is_some_and(|us| us > api::now_us())
}

/// The state as a coloured tag; a muted rule says so whatever its state.
pub fn state_badge(state: AlertState, mute_until: Option<&str>) -> AnyView {
    let (class, label) = match state {
        AlertState::Ok => ("tag ok", "OK"),
        AlertState::Pending => ("tag warn", "Pending"),
        AlertState::Firing => ("tag bad", "Firing"),
        AlertState::Resolved => ("tag ok", "Resolved"),
        AlertState::NoData => ("tag", "No data"),
    };
    view! {
        <span class=class>{label}</span>
        {muted(mute_until).then(|| view! { " "<span class="tag muted-tag">"Muted"</span> })}
    }
    .into_any()
}

/// A rule's value or threshold as people read it (error rates in percent).
pub fn rule_value(kind: ThresholdKind, v: f64) -> String {
    match kind {
        ThresholdKind::Ratio => format!("{} %", number_text(v * 100.0)),
        ThresholdKind::Milliseconds => timefmt::format_ms(v),
        ThresholdKind::Count | ThresholdKind::Score => number_text(v),
    }
}

/// What the rule watches, in a few words.
pub fn condition_text(r: &AlertRule) -> String {
    let c = &r.condition;
    let what = match c {
        Condition::ErrorRate { endpoint, .. } => format!(
            "error rate of {}",
            endpoint.as_deref().unwrap_or("all requests")
        ),
        Condition::LogCount { filters } => format!(
            "{} logs",
            filters
                .min_level
                .as_deref()
                .or(filters.level.as_deref())
                .unwrap_or("all")
        ),
        Condition::NewException { .. } => "new exception groups".into(),
        Condition::RegressedException { .. } => "regressed exception groups".into(),
        Condition::ExceptionCount { exception_type, .. } => format!(
            "{} occurrences",
            exception_type.as_deref().unwrap_or("exception")
        ),
        Condition::Latency { quantile, endpoint } => format!(
            "{quantile} latency of {}",
            endpoint.as_deref().unwrap_or("all requests")
        ),
        Condition::SlowRequestCount { .. } => "slow requests".into(),
        Condition::MessageRegex { pattern, .. } => format!("messages matching /{pattern}/"),
        Condition::WebVital { metric, page } => {
            format!("{metric} p75 of {}", page.as_deref().unwrap_or("all pages"))
        }
    };
    format!(
        "{what} {} {} over {} min",
        r.operator.symbol(),
        rule_value(c.threshold_kind(), r.threshold),
        r.window_minutes
    )
}

/// Per-channel delivery outcomes as a list.
pub fn outcomes_view(outcomes: Vec<ChannelOutcome>) -> AnyView {
    if outcomes.is_empty() {
        return view! { <span class="muted">"no channels"</span> }.into_any();
    }
    view! {
        <ul class="plain outcomes">
            {outcomes.into_iter().map(|o| {
                let kind = match o.kind {
                    ChannelKind::Webhook => "Webhook",
                    ChannelKind::Slack => "Slack",
                    ChannelKind::Email => "Email",
                };
                let detail = format!("{}{} ({} {})",
                    o.status.map(|s| format!("status {s}")).unwrap_or_default(),
                    o.error.as_ref().map(|e| format!(" {e}")).unwrap_or_default(),
                    o.attempts, if o.attempts == 1 { "try" } else { "tries" });
                view! { <li>
                    {if o.delivered {
                        view! { <span class="tag ok">"Delivered"</span> }.into_any()
                    } else {
                        view! { <span class="tag bad">"Failed"</span> }.into_any()
                    }}
                    " "{kind}" "<span class="muted small">{detail}</span>
                </li> }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Sends `rule` with `edit` applied as a full replacement.
async fn put_changed(rule: AlertRule, edit: fn(&mut RuleForm, i64)) -> Result<AlertRule, String> {
    let mut form = RuleForm::from_rule(&rule);
    edit(&mut form, api::now_us());
    let request = form.to_request().map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    api::send_json(
        "PUT",
        &format!("/api/v1/monitoring/alerts/{}", rule.id),
        &request,
        true,
    )
    .await
    .map_err(|e| e.to_string())
}

/// The alert rules page.
#[component]
pub fn AlertList() -> impl IntoView {
    let ctx = ctx();
    let reload = RwSignal::new(0u32);
    let list = json_resource(Memo::new(move |_| {
        (
            "/api/v1/monitoring/alerts".to_owned(),
            Vec::new(),
            reload.get(),
        )
    }));
    view! {
        <section class="panel alerts">
            <div class="page-head">
                <h1>"Alert rules"</h1>
                <div class="spacer"></div>
                <A href="/alerts/history">"History"</A>
                <Show when=move || ctx.is_admin()>
                    <A href="/alerts/new" attr:class="btn primary">"New rule"</A>
                </Show>
                <button class="btn" type="button" on:click=move |_| reload.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <Show when=move || !ctx.is_admin()>
                <p class="muted">"You are signed in as a viewer: rules are read-only."</p>
            </Show>
            {move || match decoded::<Page<AlertRule>>(&list) {
                None => view! { <p class="loading" role="status">"Loading alert rules…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="error-box" role="alert"><p>{e.to_string()}</p>
                    <button class="btn" on:click=move |_| reload.update(|n| *n += 1)>"Retry"</button></div> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! {
                    <div class="empty"><p>"No alert rules yet."</p>
                    <p class="muted">"A rule watches error rates, latency, log counts, exceptions or web vitals and notifies webhooks, Slack or email."</p></div>
                }.into_any(),
                Some(Ok(page)) => view! {
                    <table class="metrics-table rules">
                        <thead><tr>
                            <th scope="col">"Rule"</th><th scope="col">"State"</th>
                            <th scope="col">"Last evaluation"</th><th scope="col">"Severity"</th>
                            <Show when=move || ctx.is_admin()><th scope="col">"Actions"</th></Show>
                        </tr></thead>
                        <tbody>
                            {page.items.into_iter().map(|r| view! { <RuleRow rule=r reload/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// One rule with its controls.
#[component]
fn RuleRow(rule: AlertRule, reload: RwSignal<u32>) -> impl IntoView {
    let ctx = ctx();
    let rule = StoredValue::new(rule);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<Result<String, String>>);
    let tested = RwSignal::new(None::<Result<TestNotificationResponse, ApiError>>);
    let confirm = RwSignal::new(false);
    let act = move |edit: fn(&mut RuleForm, i64), done: &'static str| {
        busy.set(true);
        let r = rule.get_value();
        leptos::task::spawn_local(async move {
            match put_changed(r, edit).await {
                Ok(_) => {
                    message.set(Some(Ok(done.to_owned())));
                    reload.update(|n| *n += 1);
                }
                Err(e) => message.set(Some(Err(e))),
            }
            busy.set(false);
        });
    };
    let mute_minutes = RwSignal::new(60i64);
    let mute = move |_| {
        let minutes = mute_minutes.get_untracked();
        busy.set(true);
        let r = rule.get_value();
        leptos::task::spawn_local(async move {
            let mut form = RuleForm::from_rule(&r);
            form.mute_until = Some(format_timestamp_us(api::now_us() + minutes * 60_000_000));
            let result = match form.to_request() {
                Ok(req) => api::send_json::<_, AlertRule>(
                    "PUT",
                    &format!("/api/v1/monitoring/alerts/{}", r.id),
                    &req,
                    true,
                )
                .await
                .map_err(|e| e.to_string()),
                Err(_) => Err("the stored rule does not validate; open it to fix it".into()),
            };
            match result {
                Ok(_) => {
                    message.set(Some(Ok("Muted".into())));
                    reload.update(|n| *n += 1);
                }
                Err(e) => message.set(Some(Err(e))),
            }
            busy.set(false);
        });
    };
    let test = move |_| {
        busy.set(true);
        tested.set(None);
        let id = rule.with_value(|r| r.id);
        leptos::task::spawn_local(async move {
            let result = api::send_json::<_, TestNotificationResponse>(
                "POST",
                &format!("/api/v1/monitoring/alerts/{id}/test"),
                &serde_json::Value::Null,
                true,
            )
            .await;
            tested.set(Some(result));
            busy.set(false);
        });
    };
    let delete = move |_| {
        busy.set(true);
        let id = rule.with_value(|r| r.id);
        leptos::task::spawn_local(async move {
            match api::send_raw(
                "DELETE",
                &format!("/api/v1/monitoring/alerts/{id}"),
                None,
                true,
            )
            .await
            {
                Ok(_) => reload.update(|n| *n += 1),
                Err(e) => message.set(Some(Err(e.to_string()))),
            }
            confirm.set(false);
            busy.set(false);
        });
    };
    let r = rule.get_value();
    let state = r.state.clone();
    let is_muted = muted(r.mute_until.as_deref());
    let name = r.name.clone();
    let kind = r.condition.threshold_kind();
    let (enabled, rid) = (r.enabled, r.id);
    let (title, summary) = (r.name.clone(), condition_text(&r));
    view! {
        <tr class:disabled=!r.enabled>
            <td>
                <A href=format!("/alerts/{rid}")>{title}</A>
                {(!r.enabled).then(|| view! { " "<span class="tag">"Disabled"</span> })}
                <div class="muted small">{summary}</div>
            </td>
            <td>
                {match &state {
                    Some(s) => state_badge(s.state, r.mute_until.as_deref()),
                    None => view! { <span class="tag">"Not evaluated"</span> }.into_any(),
                }}
                {is_muted.then(|| view! { <div class="muted small">{format!("until {}",
                    ctx.api_time(r.mute_until.as_deref().unwrap_or_default(), Precision::Minutes))}</div> })}
            </td>
            <td>
                {match state.as_ref().and_then(|s| s.last_evaluated_at.clone()) {
                    Some(at) => view! {
                        <span title=at.clone()>{timefmt::parse_us(&at).map_or(at.clone(), |us| timefmt::ago(us, api::now_us()))}</span>
                        <div class="muted small">{state.as_ref().and_then(|s| s.last_value)
                            .map_or("no data".to_owned(), |v| format!("value {}", rule_value(kind, v)))}</div>
                    }.into_any(),
                    None => view! { <span class="muted">"never"</span> }.into_any(),
                }}
            </td>
            <td><span class=format!("sev sev-{}", r.severity.as_str())>{r.severity.as_str()}</span></td>
            <Show when=move || ctx.is_admin()>
                <td class="actions">
                    <div class="row">
                        {if enabled {
                            view! { <button class="btn small" disabled=move || busy.get()
                                on:click=move |_| act(|f, _| f.enabled = false, "Disabled")>"Disable"</button> }.into_any()
                        } else {
                            view! { <button class="btn small" disabled=move || busy.get()
                                on:click=move |_| act(|f, _| f.enabled = true, "Enabled")>"Enable"</button> }.into_any()
                        }}
                        {if is_muted {
                            view! { <button class="btn small" disabled=move || busy.get()
                                on:click=move |_| act(|f, _| f.mute_until = None, "Unmuted")>"Unmute"</button> }.into_any()
                        } else {
                            let id = format!("mute-{rid}");
                            view! {
                                <label class="sr-only" for=id.clone()>{format!("Mute {} for", name)}</label>
                                <select id=id class="small" on:change=move |ev| {
                                    if let Ok(m) = event_target_value(&ev).parse() { mute_minutes.set(m) }
                                }>
                                    {MUTE_FOR.iter().map(|(label, m)| view! { <option value=m.to_string()>{*label}</option> }).collect_view()}
                                </select>
                                <button class="btn small" disabled=move || busy.get() on:click=mute>"Mute"</button>
                            }.into_any()
                        }}
                        <button class="btn small" disabled=move || busy.get() on:click=test>"Send test"</button>
                        <button class="btn small danger" disabled=move || busy.get()
                            on:click=move |_| confirm.set(true)>"Delete"</button>
                    </div>
                    <Show when=move || confirm.get()>
                        <div class="confirm" role="alertdialog" aria-label="Confirm deletion">
                            <span>{format!("Delete “{}” and its history?", rule.with_value(|r| r.name.clone()))}</span>
                            <button class="btn small danger" on:click=delete>"Delete rule"</button>
                            <button class="btn small" on:click=move |_| confirm.set(false)>"Cancel"</button>
                        </div>
                    </Show>
                    {move || message.get().map(|m| match m {
                        Ok(t) => view! { <p class="ok-text small" role="status">{t}</p> }.into_any(),
                        Err(e) => view! { <p class="error small" role="alert">{e}</p> }.into_any(),
                    })}
                    {move || tested.get().map(|t| match t {
                        Ok(t) => view! { <div class="test-result" role="status">
                            <span class="small">{if t.delivered { "Test sent to every channel:" } else { "Test notification:" }}</span>
                            {outcomes_view(t.outcomes)}
                        </div> }.into_any(),
                        Err(e) => view! { <p class="error small" role="alert">{e.to_string()}</p> }.into_any(),
                    })}
                </td>
            </Show>
        </tr>
    }
}
