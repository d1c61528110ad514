//! Alert rules and their history: `GET|POST /api/v1/monitoring/alerts`,
//! `GET|PUT|DELETE /api/v1/monitoring/alerts/{id}`, `POST …/alerts/{id}/test`,
//! `GET …/alerts/history` and `POST …/alerts/history/{id}/acknowledge`. Viewers read, admins
//! write; every call is audited, with rules as the API shows them (no secrets).

use super::auth::{CurrentUser, RequireAdmin};
use super::extract::{AppJson, AppQuery, PathUuid};
use crate::alerting::message::{Notification, admin_link};
use crate::alerting::notify::{Notifier, channels_for};
use crate::alerting::rules::{self, RuleOrigin, spelling};
use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::query::cursor::Cursor;
use crate::query::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;
use crate::store::{AlertRuleRecord, Delivery, HistoryFilter, HistoryPayload, HistoryRecord};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use sqlx::types::Json as Stored;
use tracewire_shared::api::Page;
use tracewire_shared::api::monitoring::{
    AcknowledgeRequest, AlertHistoryEntry, AlertHistoryQuery, AlertRule, AlertRulePreview,
    AlertRuleRequest, HistoryKind, Severity, TestNotificationResponse,
};
use tracewire_shared::validate::{FieldError, parse_timestamp_us};

/// Longest acknowledgement note kept, in characters.
const MAX_NOTE_CHARS: usize = 2000;

/// `/api/v1/monitoring/alerts…`: rules, their preview, test and history. Reading and preview
/// need a session; creating, changing, deleting, testing and acknowledging need an admin.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/monitoring/alerts",
            get(list_alerts).post(create_alert),
        )
        .route("/api/v1/monitoring/alerts/history", get(list_history))
        .route("/api/v1/monitoring/alerts/preview", post(preview_alert))
        .route(
            "/api/v1/monitoring/alerts/history/{id}/acknowledge",
            post(acknowledge_history),
        )
        .route(
            "/api/v1/monitoring/alerts/{id}",
            get(get_alert).put(replace_alert).delete(delete_alert),
        )
        .route("/api/v1/monitoring/alerts/{id}/test", post(test_alert))
}

fn view(rule: &AlertRuleRecord) -> Result<AlertRule> {
    rules::rule_view(rule).map_err(|e| Error::Internal(e.to_string()))
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/alerts",
    tag = "alerts",
    responses(
        (status = 200, description = "Every rule with its state", body = Page<AlertRule>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn list_alerts(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Page<AlertRule>>> {
    let items = state
        .store
        .list_rules()
        .await?
        .iter()
        .map(view)
        .collect::<Result<Vec<_>>>()?;
    state
        .auth
        .audit(
            &current.user.username,
            "alerts.list",
            None,
            json!({"rows": items.len()}),
        )
        .await?;
    Ok(Json(Page {
        total: i64::try_from(items.len()).unwrap_or(i64::MAX),
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/alerts/{id}",
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The rule's id")),
    responses(
        (status = 200, description = "The rule", body = AlertRule),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_alert(
    State(state): State<AppState>,
    current: CurrentUser,
    PathUuid(id): PathUuid,
) -> Result<Json<AlertRule>> {
    let rule = view(&state.store.get_rule(id).await?)?;
    state
        .auth
        .audit(
            &current.user.username,
            "alerts.get",
            Some(id.to_string()),
            json!({}),
        )
        .await?;
    Ok(Json(rule))
}

#[utoipa::path(
    post,
    path = "/api/v1/monitoring/alerts",
    tag = "alerts",
    request_body(content = AlertRuleRequest),
    responses(
        (status = 201, description = "The new rule", body = AlertRule),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn create_alert(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    AppJson(request): AppJson<AlertRuleRequest>,
) -> Result<(StatusCode, Json<AlertRule>)> {
    let project = state
        .store
        .default_project()
        .await?
        .ok_or_else(|| Error::Internal("no default project".into()))?;
    let now = now_us();
    let record = rules::to_record(
        &request,
        RuleOrigin {
            id: uuid::Uuid::now_v7(),
            project_id: project.id,
            created_at: now,
            now_us: now,
            existing: &[],
        },
    )
    .map_err(Error::Validation)?;
    state.store.insert_rule(&record).await?;
    let rule = view(&record)?;
    audit_rule(&state, &current, "alerts.create", &rule).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// How the rule in the body would have fired, notified and resolved over the last day
/// (nothing stored or sent), stepped at the live `--alert-interval-secs` where that is cheap
/// ([`crate::alerting::preview`]). A read, so viewers may ask too; the rule is validated as on
/// create (422 by field path).
#[utoipa::path(
    post,
    path = "/api/v1/monitoring/alerts/preview",
    tag = "alerts",
    request_body(content = AlertRuleRequest),
    responses(
        (status = 200, description = "What the rule would have done over the recent past", body = AlertRulePreview),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn preview_alert(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(request): AppJson<AlertRuleRequest>,
) -> Result<Json<AlertRulePreview>> {
    request.validate().map_err(Error::Validation)?;
    let limits = crate::alerting::conditions::ReadLimits {
        slow_request_ms: state.config.slow_request_ms,
        ..crate::alerting::conditions::ReadLimits::default()
    };
    let body = crate::alerting::preview::preview(
        state.store.as_ref(),
        &request,
        now_us(),
        state.config.alert_interval_secs,
        &limits,
    )
    .await
    .map_err(|e| match e {
        crate::alerting::conditions::ReadError::Store(e) => Error::from(e),
        other => Error::Internal(other.to_string()),
    })?;
    let details = json!({"condition": request.condition.type_name(), "evaluations": body.evaluations,
                         "step_seconds": body.step_seconds, "firings": body.firings.len(),
                         "notifications": body.notifications, "suppressed": body.suppressed});
    state
        .auth
        .audit(&current.user.username, "alerts.preview", None, details)
        .await?;
    Ok(Json(body))
}

#[utoipa::path(
    put,
    path = "/api/v1/monitoring/alerts/{id}",
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The rule's id")),
    request_body(content = AlertRuleRequest),
    responses(
        (status = 200, description = "The changed rule", body = AlertRule),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn replace_alert(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    PathUuid(id): PathUuid,
    AppJson(request): AppJson<AlertRuleRequest>,
) -> Result<Json<AlertRule>> {
    let existing = state.store.get_rule(id).await?;
    let record = rules::to_record(
        &request,
        RuleOrigin {
            id,
            project_id: existing.project_id,
            created_at: existing.created_at,
            now_us: now_us(),
            existing: &existing.channels.0,
        },
    )
    .map_err(Error::Validation)?;
    state.store.update_rule(&record).await?;
    let rule = view(&state.store.get_rule(id).await?)?;
    audit_rule(&state, &current, "alerts.update", &rule).await?;
    Ok(Json(rule))
}

#[utoipa::path(
    delete,
    path = "/api/v1/monitoring/alerts/{id}",
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Deleted with its state; its history stays"),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn delete_alert(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    PathUuid(id): PathUuid,
) -> Result<StatusCode> {
    let rule = view(&state.store.get_rule(id).await?)?;
    state.store.delete_rule(id).await?;
    audit_rule(&state, &current, "alerts.delete", &rule).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit row of a rule change: the rule as the API shows it, so channel secrets appear
/// only as `secret_set` / `url_set`.
async fn audit_rule(
    state: &AppState,
    current: &CurrentUser,
    action: &str,
    rule: &AlertRule,
) -> Result<()> {
    let mut details = serde_json::to_value(rule).map_err(|e| Error::Internal(e.to_string()))?;
    if let Some(map) = details.as_object_mut() {
        // The evaluation state is not part of the change.
        map.remove("state");
    }
    state
        .auth
        .audit(
            &current.user.username,
            action,
            Some(rule.id.to_string()),
            details,
        )
        .await
}

/// Sends a test notification on every channel of the rule, now, and records it in the history
/// (kind `test`) with each channel's outcome.
#[utoipa::path(
    post,
    path = "/api/v1/monitoring/alerts/{id}/test",
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The rule's id")),
    responses(
        (status = 200, description = "Each channel's outcome of a test notification", body = TestNotificationResponse),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn test_alert(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    PathUuid(id): PathUuid,
) -> Result<Json<TestNotificationResponse>> {
    let rule = state.store.get_rule(id).await?;
    let notifier =
        Notifier::from_config(&state.config).map_err(|e| Error::Internal(e.to_string()))?;
    let view = view(&rule)?;
    let now = now_us();
    let window = view.window_minutes.max(1);
    let mut entry = HistoryRecord {
        id: uuid::Uuid::now_v7(),
        rule_id: rule.id,
        rule_name: rule.name.clone(),
        severity: rule.severity.clone(),
        kind: spelling(&HistoryKind::Test),
        state: rules::current_state(&rule).state.as_str().to_owned(),
        value: None,
        threshold: rule.threshold,
        triggered_at: now,
        notification_sent: false,
        notification_status: Stored(Vec::new()),
        delivery: Delivery::Done.as_str().to_owned(),
        message: String::new(),
        payload: Stored(HistoryPayload {
            condition: view.condition.clone(),
            operator: view.operator,
            window_minutes: window,
            link: admin_link(&notifier.base_url, &view.condition, window, now),
            samples: vec!["This is a test notification from Tracewire.".to_owned()],
        }),
        acknowledged_at: None,
        acknowledged_by: None,
        acknowledge_note: None,
    };
    let note: Notification = crate::alerting::notify::notification(&entry)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let outcomes = notifier
        .send(&channels_for(HistoryKind::Test, &rule.channels.0), &note)
        .await;
    let delivered = !outcomes.is_empty() && outcomes.iter().all(|o| o.delivered);
    entry.message = note.summary();
    entry.notification_sent = outcomes.iter().any(|o| o.delivered);
    entry.notification_status = Stored(outcomes.clone());
    state.store.insert_history(&entry).await?;
    state
        .auth
        .audit(
            &current.user.username,
            "alerts.test",
            Some(id.to_string()),
            json!({"outcomes": outcomes}),
        )
        .await?;
    Ok(Json(TestNotificationResponse {
        delivered,
        outcomes,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/monitoring/alerts/history",
    tag = "alerts",
    params(AlertHistoryQuery),
    responses(
        (status = 200, description = "Firings, resolves, suppressed triggers and tests, newest first", body = Page<AlertHistoryEntry>),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn list_history(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<AlertHistoryQuery>,
) -> Result<Json<Page<AlertHistoryEntry>>> {
    let filter = history_filter(&query).map_err(Error::Validation)?;
    let (mut rows, total) = state.store.list_history(&filter).await?;
    let limit = filter.limit as usize;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| {
            Cursor {
                time_us: r.triggered_at,
                id: r.id,
            }
            .encode()
        })
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|r| rules::history_view(r).map_err(|e| Error::Internal(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    state
        .auth
        .audit(
            &current.user.username,
            "alerts.history",
            None,
            json!({"filters": {"rule_id": filter.rule_id, "kind": filter.kind,
                "severity": filter.severities, "acknowledged": filter.acknowledged,
                "from": filter.from_us, "to": filter.to_us, "limit": filter.limit}, "rows": items.len(), "total": total}),
        )
        .await?;
    Ok(Json(Page {
        items,
        total,
        next_cursor,
    }))
}

/// The store filter of a history query; every bad parameter is reported by name.
fn history_filter(q: &AlertHistoryQuery) -> Result<HistoryFilter, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut time = |name: &str, value: &Option<String>| {
        let raw = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        let parsed = parse_timestamp_us(raw);
        if parsed.is_none() {
            errors.push(FieldError::new(name, "expected an RFC 3339 timestamp"));
        }
        parsed
    };
    let from_us = time("from", &q.from);
    let to_us = time("to", &q.to);
    if let (Some(f), Some(t)) = (from_us, to_us)
        && f > t
    {
        errors.push(FieldError::new("to", "must not be before from"));
    }
    let severities = match Severity::parse_list(q.severity.as_deref().unwrap_or_default()) {
        Ok(list) => list.iter().map(|s| s.as_str().to_owned()).collect(),
        Err(message) => {
            errors.push(FieldError::new("severity", message));
            Vec::new()
        }
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            format!("expected an integer from 1 to {MAX_LIMIT}"),
        ));
    }
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => match Cursor::decode(raw) {
            Some(c) => Some((c.time_us, c.id)),
            None => {
                errors.push(FieldError::new(
                    "cursor",
                    "not a cursor returned by this endpoint",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HistoryFilter {
        rule_id: q.rule_id,
        kind: q.kind.as_ref().map(spelling),
        severities,
        acknowledged: q.acknowledged,
        from_us,
        to_us,
        before,
        limit,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/monitoring/alerts/history/{id}/acknowledge",
    tag = "alerts",
    params(("id" = uuid::Uuid, Path, description = "The history entry's id")),
    request_body(content = Option<AcknowledgeRequest>, description = "An optional note; the body may be empty"),
    responses(
        (status = 200, description = "The acknowledged entry", body = AlertHistoryEntry),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn acknowledge_history(
    State(state): State<AppState>,
    RequireAdmin(current): RequireAdmin,
    PathUuid(id): PathUuid,
    AppJson(body): AppJson<Option<AcknowledgeRequest>>,
) -> Result<Json<AlertHistoryEntry>> {
    let note = body
        .unwrap_or_default()
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(Error::Validation(vec![FieldError::new(
            "note",
            format!("at most {MAX_NOTE_CHARS} characters"),
        )]));
    }
    let entry = state
        .store
        .acknowledge_history(id, now_us(), &current.user.username, note.as_deref())
        .await?;
    state
        .auth
        .audit(
            &current.user.username,
            "alerts.acknowledge",
            Some(id.to_string()),
            json!({"note": note}),
        )
        .await?;
    Ok(Json(
        rules::history_view(&entry).map_err(|e| Error::Internal(e.to_string()))?,
    ))
}
