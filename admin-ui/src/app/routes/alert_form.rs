//! Create or edit an alert rule (`/alerts/new`, `/alerts/:id`): the fields of the chosen
//! condition type, threshold with its unit, window, pending evaluations, throttle, and the
//! channels. Problems show next to their fields, from the form's own checks before sending and
//! from the 422 envelope's field details after (a regex that does not compile, for one).
//! Secrets are write-only: a stored one is never shown, an empty field keeps it. Viewers see
//! the form read-only. A preview counts how often the rule would have fired in the last 24 h.

use crate::app::api::{self, ApiError};
use crate::app::ctx;
use crate::app::routes::alerts::outcomes_view;
use crate::ruleform::{
    CONDITIONS, ChannelForm, OPERATORS, RuleForm, condition_paths, message_for, threshold_unit,
    unplaced,
};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use tracewire_shared::api::monitoring::{
    AlertRule, AlertRulePreview, LATENCY_QUANTILES, TestNotificationResponse, WEB_VITALS,
};
use tracewire_shared::validate::FieldError;

/// A form field's accessors: plain function pointers, so every text input is the same code.
type FieldGet = fn(&RuleForm) -> String;
/// See [`FieldGet`].
type FieldSet = fn(&mut RuleForm, String);

/// The form page; `id` absent creates a rule.
#[component]
pub fn AlertForm() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id")).filter(|i| i != "new"));
    let loaded = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                None => Ok(None),
                Some(id) => api::get::<AlertRule>(
                    &format!(
                        "/api/v1/monitoring/alerts/{}",
                        crate::query::encode_component(&id)
                    ),
                    &[],
                )
                .await
                .map(Some),
            }
        }
    });
    move || {
        match loaded.get() {
        None => view! { <p class="loading" role="status">"Loading the rule…"</p> }.into_any(),
        Some(Err(e)) => view! { <section class="panel"><div class="error-box" role="alert"><p>{e.to_string()}</p>
            <A href="/alerts">"Back to the rules"</A></div></section> }.into_any(),
        Some(Ok(rule)) => view! { <Editor rule/> }.into_any(),
    }
    }
}

#[component]
fn Editor(rule: Option<AlertRule>) -> impl IntoView {
    let ctx = ctx();
    let navigate = use_navigate();
    let id = rule.as_ref().map(|r| r.id);
    let form = RwSignal::new(rule.as_ref().map(RuleForm::from_rule).unwrap_or_default());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let read_only = move || !ctx.is_admin();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let request = match form.with_untracked(RuleForm::to_request) {
            Ok(r) => r,
            Err(e) => {
                errors.set(e);
                failure.set(Some("Please correct the marked fields.".into()));
                return;
            }
        };
        errors.set(Vec::new());
        saving.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = match id {
                None => {
                    api::send_json::<_, AlertRule>(
                        "POST",
                        "/api/v1/monitoring/alerts",
                        &request,
                        true,
                    )
                    .await
                }
                Some(id) => {
                    api::send_json::<_, AlertRule>(
                        "PUT",
                        &format!("/api/v1/monitoring/alerts/{id}"),
                        &request,
                        true,
                    )
                    .await
                }
            };
            saving.set(false);
            match result {
                Ok(_) => navigate("/alerts", NavigateOptions::default()),
                Err(ApiError::Status {
                    status: 422,
                    message,
                    fields,
                }) => {
                    errors.set(fields);
                    failure.set(Some(message));
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    let cond = Memo::new(move |_| form.with(|f| f.condition.clone()));
    // Messages about another condition type's fields, and the summary above them, would be
    // stale once the type changes.
    Effect::new(move |_| {
        cond.track();
        errors.set(Vec::new());
        failure.set(None);
    });
    let title = if id.is_some() {
        "Edit alert rule"
    } else {
        "New alert rule"
    };
    view! {
        <section class="panel rule-form">
            <div class="page-head">
                <h1>{title}</h1>
                <div class="spacer"></div>
                <A href="/alerts">"Back to the rules"</A>
            </div>
            <Show when=read_only>
                <p class="muted">"You are signed in as a viewer: this rule is read-only."</p>
            </Show>
            <form on:submit=submit novalidate=true>
                <fieldset prop:disabled=read_only>
                    <legend class="sr-only">"Rule"</legend>
                    <div class="grid2">
                        {text_field(form, errors, "name", "Name", "", |f| f.name.clone(), |f, v| f.name = v)}
                        {select_field(form, "severity", "Severity",
                            &[("info", "Info"), ("warning", "Warning"), ("critical", "Critical")],
                            |f| f.severity.clone(), |f, v| f.severity = v)}
                    </div>
                    {text_field(form, errors, "description", "Description (optional)", "", |f| f.description.clone(), |f, v| f.description = v)}
                    <div class="grid3">
                        {select_field(form, "condition", "Condition", CONDITIONS, |f| f.condition.clone(), |f, v| f.condition = v)}
                        {select_field(form, "operator", "When the value is", OPERATORS, |f| f.operator.clone(), |f, v| f.operator = v)}
                        <div class="field">
                            <label for="f-threshold">{move || format!("Threshold ({})", form.with(|f| threshold_unit(&f.condition, &f.metric)))}</label>
                            <input id="f-threshold" inputmode="decimal" prop:value=move || form.with(|f| f.threshold.clone())
                                aria-invalid=move || errors.with(|e| message_for(e, "threshold").is_some()).to_string()
                                aria-describedby="e-threshold"
                                on:input=move |ev| form.update(|f| f.threshold = event_target_value(&ev))/>
                            {field_error(errors, "threshold")}
                        </div>
                    </div>
                    <ConditionFields form errors cond/>
                    <div class="grid3">
                        {text_field(form, errors, "window_minutes", "Window (minutes)", "numeric", |f| f.window_minutes.clone(), |f, v| f.window_minutes = v)}
                        {text_field(form, errors, "pending_evaluations", "Breaching evaluations before firing", "numeric", |f| f.pending_evaluations.clone(), |f, v| f.pending_evaluations = v)}
                        {text_field(form, errors, "throttle_minutes", "Throttle (minutes between notifications)", "numeric", |f| f.throttle_minutes.clone(), |f, v| f.throttle_minutes = v)}
                    </div>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || form.with(|f| f.enabled)
                            on:change=move |ev| form.update(|f| f.enabled = event_target_checked(&ev))/>
                        "Enabled (disabled rules are not evaluated)"
                    </label>
                    <Channels form errors/>
                    {move || {
                        let placed: Vec<String> = ["name", "description", "severity", "threshold", "window_minutes",
                            "pending_evaluations", "throttle_minutes", "channels"].iter().map(|s| s.to_string())
                            .chain(condition_paths(&cond.get()).iter().map(|s| s.to_string()))
                            .collect();
                        let placed: Vec<&str> = placed.iter().map(String::as_str).collect();
                        let rest = errors.with(|e| unplaced(e, &placed));
                        (!rest.is_empty()).then(|| view! {
                            <div class="error" role="alert"><ul>{rest.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul></div>
                        })
                    }}
                    <Show when=move || !read_only()>
                        <div class="row form-actions">
                            <button class="btn primary" type="submit" disabled=move || saving.get()>
                                {move || if saving.get() { "Saving…" } else { "Save rule" }}</button>
                            <A href="/alerts">"Cancel"</A>
                        </div>
                    </Show>
                    {move || failure.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                </fieldset>
            </form>
            <Preview form/>
            {id.map(|id| view! { <TestButton id/> })}
        </section>
    }
}

/// The message under a field, by its API path (`id` `e-<path>` for `aria-describedby`).
fn field_error(errors: RwSignal<Vec<FieldError>>, path: &'static str) -> impl IntoView {
    let id = format!("e-{}", path.replace(['.', '[', ']'], "-"));
    view! {
        <p class="field-error" id=id>{move || errors.with(|e| message_for(e, path))}</p>
    }
}

/// A labelled text input bound to one form field.
fn text_field(
    form: RwSignal<RuleForm>,
    errors: RwSignal<Vec<FieldError>>,
    path: &'static str,
    label: &'static str,
    inputmode: &'static str,
    get: FieldGet,
    set: FieldSet,
) -> AnyView {
    let id = format!("f-{}", path.replace(['.', '[', ']'], "-"));
    let err_id = format!("e-{}", path.replace(['.', '[', ']'], "-"));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id inputmode=(!inputmode.is_empty()).then_some(inputmode)
                prop:value=move || form.with(get)
                aria-invalid=move || errors.with(|e| message_for(e, path).is_some()).to_string()
                aria-describedby=err_id
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))/>
            {field_error(errors, path)}
        </div>
    }
    .into_any()
}

/// A labelled select bound to one form field.
fn select_field(
    form: RwSignal<RuleForm>,
    path: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
    get: FieldGet,
    set: FieldSet,
) -> AnyView {
    let id = format!("f-{}", path.replace('.', "-"));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))>
                {options.iter().map(|(value, text)| view! {
                    <option value=*value selected=move || form.with(get) == *value>{*text}</option>
                }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

const SOURCES: &[(&str, &str)] = &[
    ("", "Both"),
    ("frontend", "Frontend"),
    ("backend", "Backend"),
];
const LEVELS: &[(&str, &str)] = &[
    ("", "Any"),
    ("DEBUG", "DEBUG or worse"),
    ("INFO", "INFO or worse"),
    ("WARNING", "WARNING or worse"),
    ("ERROR", "ERROR or worse"),
    ("CRITICAL", "CRITICAL"),
];

/// The inputs of the chosen condition type.
#[component]
fn ConditionFields(
    form: RwSignal<RuleForm>,
    errors: RwSignal<Vec<FieldError>>,
    cond: Memo<String>,
) -> impl IntoView {
    let quantiles: &'static [(&'static str, &'static str)] = &[
        ("p50", "p50"),
        ("p75", "p75"),
        ("p90", "p90"),
        ("p95", "p95"),
        ("p99", "p99"),
    ];
    debug_assert_eq!(quantiles.len(), LATENCY_QUANTILES.len());
    let vitals: &'static [(&'static str, &'static str)] = &[
        ("LCP", "LCP"),
        ("INP", "INP"),
        ("CLS", "CLS"),
        ("FCP", "FCP"),
        ("TTFB", "TTFB"),
    ];
    debug_assert_eq!(vitals.len(), WEB_VITALS.len());
    move || {
        let c = cond.get();
        let endpoint = || {
            text_field(
                form,
                errors,
                "condition.endpoint",
                "Endpoint (route template, empty for all)",
                "",
                |f| f.endpoint.clone(),
                |f, v| f.endpoint = v,
            )
        };
        let source = || {
            select_field(
                form,
                "condition.source",
                "Source",
                SOURCES,
                |f| f.source.clone(),
                |f, v| f.source = v,
            )
        };
        let filters = || {
            view! {
                {select_field(form, "condition.filters.source", "Source", SOURCES, |f| f.source.clone(), |f, v| f.source = v)}
                {select_field(form, "condition.filters.min_level", "Level", LEVELS, |f| f.min_level.clone(), |f, v| f.min_level = v)}
                {text_field(form, errors, "condition.filters.path", "Request path (optional, * for a prefix)", "", |f| f.path.clone(), |f, v| f.path = v)}
                {text_field(form, errors, "condition.filters.q", "Full-text filter (optional)", "", |f| f.q.clone(), |f, v| f.q = v)}
            }
        };
        let inner = match c.as_str() {
            "error_rate" => view! { {endpoint()}{source()} }.into_any(),
            "log_count" => filters().into_any(),
            "new_exception" | "regressed_exception" => source(),
            "exception_count" => view! {
                {source()}
                {text_field(form, errors, "condition.exception_type", "Exception type (optional)", "", |f| f.exception_type.clone(), |f, v| f.exception_type = v)}
            }.into_any(),
            "latency" => view! {
                {select_field(form, "condition.quantile", "Percentile", quantiles, |f| f.quantile.clone(), |f, v| f.quantile = v)}
                {endpoint()}
            }.into_any(),
            "slow_request_count" => view! {
                {text_field(form, errors, "condition.slow_ms", "Slower than (ms, empty for the collector's default)", "decimal", |f| f.slow_ms.clone(), |f, v| f.slow_ms = v)}
                {endpoint()}
            }.into_any(),
            "message_regex" => view! {
                {text_field(form, errors, "condition.pattern", "Regular expression (Rust regex syntax)", "", |f| f.pattern.clone(), |f, v| f.pattern = v)}
                {filters()}
            }.into_any(),
            _ => view! {
                {select_field(form, "condition.metric", "Web vital", vitals, |f| f.metric.clone(), |f, v| f.metric = v)}
                {text_field(form, errors, "condition.page", "Page (optional)", "", |f| f.page.clone(), |f, v| f.page = v)}
            }.into_any(),
        };
        view! { <div class="grid3 condition">{inner}</div> }
    }
}

/// The channel rows with add and remove.
#[component]
fn Channels(form: RwSignal<RuleForm>, errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let add = move |kind: &'static str| form.update(|f| f.channels.push(ChannelForm::new(kind)));
    let count = Memo::new(move |_| form.with(|f| f.channels.len()));
    view! {
        <fieldset class="channels">
            <legend>"Notification channels"</legend>
            {move || (count.get() == 0).then(|| view! {
                <p class="muted">"No channels: triggers are recorded in the history only."</p>
            })}
            {move || (0..count.get()).map(|i| view! { <ChannelRow form errors i/> }).collect_view()}
            <div class="row">
                <button class="btn small" type="button" on:click=move |_| add("webhook")>"Add webhook"</button>
                <button class="btn small" type="button" on:click=move |_| add("slack")>"Add Slack"</button>
                <button class="btn small" type="button" on:click=move |_| add("email")>"Add email"</button>
            </div>
            {field_error(errors, "channels")}
        </fieldset>
    }
}

/// A channel field's accessors.
type CGet = fn(&ChannelForm) -> String;
/// See [`CGet`].
type CSet = fn(&mut ChannelForm, String);

fn channel_input(
    form: RwSignal<RuleForm>,
    errors: RwSignal<Vec<FieldError>>,
    i: usize,
    key: &'static str,
    label: String,
    kind: &'static str,
    (get, set): (CGet, CSet),
) -> AnyView {
    let path = format!("channels[{i}].{key}");
    let id = format!("ch{i}-{key}");
    let err_id = format!("e-ch{i}-{key}");
    let path2 = path.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=kind autocomplete="off"
                prop:value=move || form.with(|f| f.channels.get(i).map(get).unwrap_or_default())
                aria-invalid=move || errors.with(|e| message_for(e, &path).is_some()).to_string()
                aria-describedby=err_id.clone()
                on:input=move |ev| form.update(|f| if let Some(c) = f.channels.get_mut(i) { set(c, event_target_value(&ev)) })/>
            <p class="field-error" id=err_id>{move || errors.with(|e| message_for(e, &path2))}</p>
        </div>
    }
    .into_any()
}

#[component]
fn ChannelRow(
    form: RwSignal<RuleForm>,
    errors: RwSignal<Vec<FieldError>>,
    i: usize,
) -> impl IntoView {
    let kind = form.with_untracked(|f| {
        f.channels
            .get(i)
            .map(|c| c.kind.clone())
            .unwrap_or_default()
    });
    let (secret_set, stored) = form.with_untracked(|f| {
        f.channels
            .get(i)
            .map_or((false, false), |c| (c.secret_set, c.id.is_some()))
    });
    let n = i + 1;
    let fields = match kind.as_str() {
        "slack" => channel_input(form, errors, i, "url",
            if stored && secret_set { "Slack webhook URL (stored; leave empty to keep it)".to_owned() } else { "Slack webhook URL".into() },
            "password", (|c| c.url.clone(), |c, v| c.url = v)),
        "email" => channel_input(form, errors, i, "to", "Recipients (comma separated)".into(), "text",
            (|c| c.to.clone(), |c, v| c.to = v)),
        _ => view! {
            {channel_input(form, errors, i, "url", "Webhook URL".into(), "url", (|c| c.url.clone(), |c, v| c.url = v))}
            {channel_input(form, errors, i, "secret",
                if secret_set { "Signing secret (set; leave empty to keep it)".into() } else { "Signing secret (optional, whsec_…)".into() },
                "password", (|c| c.secret.clone(), |c, v| c.secret = v))}
            {secret_set.then(|| view! {
                <label class="check"><input type="checkbox"
                    on:change=move |ev| form.update(|f| if let Some(c) = f.channels.get_mut(i) { c.clear_secret = event_target_checked(&ev) })/>
                    "Remove the stored secret"</label>
            })}
        }.into_any(),
    };
    let label = match kind.as_str() {
        "slack" => "Slack",
        "email" => "Email",
        _ => "Webhook",
    };
    view! {
        <div class="channel" role="group" aria-label=format!("Channel {n}: {label}")>
            <div class="row">
                <strong>{format!("{n}. {label}")}</strong>
                <div class="spacer"></div>
                <label class="check"><input type="checkbox"
                    prop:checked=move || form.with(|f| f.channels.get(i).is_some_and(|c| c.send_resolved))
                    on:change=move |ev| form.update(|f| if let Some(c) = f.channels.get_mut(i) { c.send_resolved = event_target_checked(&ev) })/>
                    "Notify when resolved"</label>
                <button class="btn small" type="button" aria-label=format!("Remove channel {n}")
                    on:click=move |_| form.update(|f| { if i < f.channels.len() { f.channels.remove(i); } })>"Remove"</button>
            </div>
            <div class="grid2">{fields}</div>
        </div>
    }
}

/// "Send test notification" for a saved rule, with each channel's outcome.
#[component]
fn TestButton(id: uuid::Uuid) -> impl IntoView {
    let ctx = ctx();
    let result = RwSignal::new(None::<Result<TestNotificationResponse, ApiError>>);
    let busy = RwSignal::new(false);
    let send = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = api::send_json::<_, TestNotificationResponse>(
                "POST",
                &format!("/api/v1/monitoring/alerts/{id}/test"),
                &serde_json::Value::Null,
                true,
            )
            .await;
            result.set(Some(r));
            busy.set(false);
        });
    };
    view! {
        <Show when=move || ctx.is_admin()>
            <section class="test-block" aria-label="Test notification">
                <button class="btn" type="button" disabled=move || busy.get() on:click=send>
                    "Send test notification (saved channels)"</button>
                {move || result.get().map(|r| match r {
                    Ok(t) => view! { <div role="status">{outcomes_view(t.outcomes)}</div> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </section>
        </Show>
    }
}

/// What the form's rule would have done over the last 24 hours, in words
/// ([`crate::preview`]), and its firing episodes.
#[component]
fn Preview(form: RwSignal<RuleForm>) -> impl IntoView {
    let result = RwSignal::new(None::<Result<AlertRulePreview, String>>);
    let busy = RwSignal::new(false);
    let ctx = ctx();
    let run = move |_| {
        let request = match form.with_untracked(RuleForm::to_request) {
            Ok(r) => r,
            Err(_) => {
                result.set(Some(Err(
                    "Correct the rule's fields first (Save shows which).".into(),
                )));
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = api::send_json::<_, AlertRulePreview>(
                "POST",
                "/api/v1/monitoring/alerts/preview",
                &request,
                true,
            )
            .await
            .map_err(|e| e.to_string());
            result.set(Some(r));
            busy.set(false);
        });
    };
    view! {
        <section class="preview" aria-labelledby="h-preview">
            <h2 id="h-preview">"Preview"</h2>
            <p class="muted small">"Runs the rule over the last 24 hours as the evaluator would have, pending evaluations, throttle and mute included, to show how often it would have fired and notified."</p>
            <button class="btn" type="button" disabled=move || busy.get() on:click=run>"Preview the last 24 h"</button>
            {move || result.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(p) => {
                    let minutes = crate::timefmt::Precision::Minutes;
                    let (outcome, method) = (crate::preview::outcome(&p), crate::preview::method(&p));
                    view! {
                        <p role="status">{outcome}</p>
                        <p class="muted small">{method}</p>
                        <ul class="plain small mono">{p.episodes.into_iter().take(20).map(|e| {
                            let end = e.end.map_or("still firing".to_owned(), |t| ctx.api_time(&t, minutes));
                            let told = if e.notified { "notified" } else { "not notified" };
                            view! { <li>{format!("{} → {end} ({told})", ctx.api_time(&e.start, minutes))}</li> }
                        }).collect_view()}</ul>
                    }.into_any()
                }
            })}
        </section>
    }
}
