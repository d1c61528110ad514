//! Alert rules between the API and the store, pure: a request becomes a stored rule (channel
//! secrets kept from the stored rule when the request leaves them out), and stored rules and
//! history entries become API views without any secret.

use serde::de::DeserializeOwned;
use tracewire_shared::api::monitoring::{
    AlertHistoryEntry, AlertRule, AlertRuleRequest, ChannelRequest, ChannelView, HistoryKind,
    Operator, RuleStateView, Severity,
};
use tracewire_shared::validate::{FieldError, format_timestamp_us, parse_timestamp_us};
use uuid::Uuid;

use super::state::{RuleState, RuleTiming};
use crate::store::{AlertRuleRecord, HistoryRecord, StoredChannel};
use sqlx::types::Json;

/// A stored value whose spelling this version does not know (a newer collector wrote it, or
/// the row was edited by hand).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("stored {what} {value:?} is not one this collector knows")]
pub struct UnknownSpelling {
    /// What the value is (`operator`, `severity`, …), for the error message.
    pub what: &'static str,
    /// The stored text that did not parse.
    pub value: String,
}

/// Reads an enum stored by its serde spelling.
pub fn from_spelling<T: DeserializeOwned>(
    what: &'static str,
    value: &str,
) -> Result<T, UnknownSpelling> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| {
        UnknownSpelling {
            what,
            value: value.to_owned(),
        }
    })
}

/// The serde spelling of a unit enum variant (`Severity::Critical` → `critical`).
pub fn spelling<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Where a new or replaced rule comes from.
#[derive(Debug, Clone, Copy)]
pub struct RuleOrigin<'a> {
    /// The rule's id (new for a create).
    pub id: Uuid,
    /// Project the rule is stored under: the default project for a create, kept on a replace.
    pub project_id: Uuid,
    /// Its creation time (now for a create).
    pub created_at: i64,
    /// The time of the write (µs), stored as the rule's `updated_at`.
    pub now_us: i64,
    /// The stored channels of the rule being replaced (empty for a create).
    pub existing: &'a [StoredChannel],
}

/// The stored form of a validated `request`. A channel naming an `id` must be one of the
/// rule's stored channels of the same kind; its secret (webhook secret, Slack URL) is kept
/// when the request leaves it out, and an empty webhook secret removes it.
pub fn to_record(
    request: &AlertRuleRequest,
    origin: RuleOrigin<'_>,
) -> Result<AlertRuleRecord, Vec<FieldError>> {
    request.validate()?;
    let mut errors = Vec::new();
    let mut channels = Vec::with_capacity(request.channels.len());
    for (i, channel) in request.channels.iter().enumerate() {
        match merge_channel(channel, origin.existing) {
            Ok(c) => channels.push(c),
            Err(message) => errors.push(FieldError::new(format!("channels[{i}].id"), message)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // `validate` checked the time and the ranges, so these cannot fail; stay total anyway.
    let mute_until = request.mute_until.as_deref().and_then(parse_timestamp_us);
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(AlertRuleRecord {
        id: origin.id,
        project_id: origin.project_id,
        name: request.name.trim().to_owned(),
        description: request
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        enabled: request.enabled,
        severity: spelling(&request.severity),
        condition: Json(request.condition.clone()),
        operator: spelling(&request.operator),
        threshold: request.threshold,
        window_minutes: int(request.window_minutes),
        pending_evaluations: int(request.pending_evaluations),
        throttle_minutes: int(request.throttle_minutes),
        mute_until,
        channels: Json(channels),
        created_at: origin.created_at,
        updated_at: origin.now_us,
        state: None,
    })
}

fn merge_channel(
    request: &ChannelRequest,
    existing: &[StoredChannel],
) -> Result<StoredChannel, &'static str> {
    let send_resolved = request.sends_resolved();
    let find = |id: &Option<Uuid>| -> Result<Option<&StoredChannel>, &'static str> {
        match id {
            None => Ok(None),
            Some(id) => existing
                .iter()
                .find(|c| c.id() == *id)
                .map(Some)
                .ok_or("no channel with this id on this rule"),
        }
    };
    match request {
        ChannelRequest::Webhook {
            id, url, secret, ..
        } => {
            let old_secret = match find(id)? {
                Some(StoredChannel::Webhook { secret, .. }) => secret.clone(),
                Some(_) => return Err("this id is a channel of another type"),
                None => None,
            };
            let secret = match secret.as_deref() {
                None => old_secret,
                Some("") => None,
                Some(s) => Some(s.to_owned()),
            };
            Ok(StoredChannel::Webhook {
                id: id.unwrap_or_else(Uuid::now_v7),
                url: url.clone(),
                secret,
                send_resolved,
            })
        }
        ChannelRequest::Slack { id, url, .. } => {
            let old_url = match find(id)? {
                Some(StoredChannel::Slack { url, .. }) => Some(url.clone()),
                Some(_) => return Err("this id is a channel of another type"),
                None => None,
            };
            let url = url
                .clone()
                .or(old_url)
                .ok_or("a new Slack channel needs its url")?;
            Ok(StoredChannel::Slack {
                id: id.unwrap_or_else(Uuid::now_v7),
                url,
                send_resolved,
            })
        }
        ChannelRequest::Email { id, to, .. } => {
            if let Some(other) = find(id)?
                && !matches!(other, StoredChannel::Email { .. })
            {
                return Err("this id is a channel of another type");
            }
            Ok(StoredChannel::Email {
                id: id.unwrap_or_else(Uuid::now_v7),
                to: to.clone(),
                send_resolved,
            })
        }
    }
}

/// A stored channel as the API shows it: secrets replaced by whether they are set.
pub fn channel_view(channel: &StoredChannel) -> ChannelView {
    match channel {
        StoredChannel::Webhook {
            id,
            url,
            secret,
            send_resolved,
        } => ChannelView::Webhook {
            id: *id,
            url: url.clone(),
            secret_set: secret.as_deref().is_some_and(|s| !s.is_empty()),
            send_resolved: *send_resolved,
        },
        StoredChannel::Slack {
            id,
            url,
            send_resolved,
        } => ChannelView::Slack {
            id: *id,
            url_set: !url.is_empty(),
            send_resolved: *send_resolved,
        },
        StoredChannel::Email {
            id,
            to,
            send_resolved,
        } => ChannelView::Email {
            id: *id,
            to: to.clone(),
            send_resolved: *send_resolved,
        },
    }
}

/// The evaluator's state as the API shows it.
pub fn state_view(state: &RuleState) -> RuleStateView {
    RuleStateView {
        state: state.state,
        since: state.since_us.map(format_timestamp_us),
        last_evaluated_at: state.last_evaluated_us.map(format_timestamp_us),
        last_value: state.last_value,
        breaching_streak: state.breaching_streak,
        last_notified_at: state.last_notified_us.map(format_timestamp_us),
    }
}

/// A stored rule as the API shows it.
pub fn rule_view(r: &AlertRuleRecord) -> Result<AlertRule, UnknownSpelling> {
    let uint = |v: i32| u32::try_from(v).unwrap_or(0);
    Ok(AlertRule {
        id: r.id,
        project_id: r.project_id,
        name: r.name.clone(),
        description: r.description.clone(),
        enabled: r.enabled,
        severity: from_spelling::<Severity>("severity", &r.severity)?,
        condition: r.condition.0.clone(),
        operator: from_spelling::<Operator>("operator", &r.operator)?,
        threshold: r.threshold,
        window_minutes: uint(r.window_minutes),
        pending_evaluations: uint(r.pending_evaluations),
        throttle_minutes: uint(r.throttle_minutes),
        mute_until: r.mute_until.map(format_timestamp_us),
        channels: r.channels.0.iter().map(channel_view).collect(),
        state: r.state.as_ref().map(|s| state_view(&s.0)),
        created_at: format_timestamp_us(r.created_at),
        updated_at: format_timestamp_us(r.updated_at),
    })
}

/// A history entry as the API shows it.
pub fn history_view(h: &HistoryRecord) -> Result<AlertHistoryEntry, UnknownSpelling> {
    Ok(AlertHistoryEntry {
        id: h.id,
        rule_id: h.rule_id,
        rule_name: h.rule_name.clone(),
        kind: from_spelling::<HistoryKind>("history kind", &h.kind)?,
        severity: from_spelling::<Severity>("severity", &h.severity)?,
        value: h.value,
        threshold: h.threshold,
        triggered_at: format_timestamp_us(h.triggered_at),
        notification_sent: h.notification_sent,
        notification_status: h.notification_status.0.clone(),
        message: h.message.clone(),
        acknowledged_at: h.acknowledged_at.map(format_timestamp_us),
        acknowledged_by: h.acknowledged_by.clone(),
    })
}

/// The settings of a stored rule the state machine needs.
pub fn timing(r: &AlertRuleRecord) -> RuleTiming {
    RuleTiming {
        pending_evaluations: u32::try_from(r.pending_evaluations).unwrap_or(1).max(1),
        throttle_minutes: u32::try_from(r.throttle_minutes).unwrap_or(0),
        mute_until_us: r.mute_until,
    }
}

/// The stored state of a rule, or the state before any evaluation.
pub fn current_state(r: &AlertRuleRecord) -> RuleState {
    r.state.as_ref().map(|s| s.0.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracewire_shared::api::monitoring::{Condition, LogFilters};

    fn request(channels: Vec<ChannelRequest>) -> AlertRuleRequest {
        AlertRuleRequest {
            name: "Errors".into(),
            description: None,
            enabled: true,
            severity: Severity::Critical,
            condition: Condition::LogCount {
                filters: LogFilters::default(),
            },
            operator: Operator::Gte,
            threshold: 1.0,
            window_minutes: 5,
            pending_evaluations: 1,
            throttle_minutes: 60,
            mute_until: None,
            channels,
        }
    }

    fn origin(existing: &[StoredChannel]) -> RuleOrigin<'_> {
        RuleOrigin {
            id: Uuid::nil(),
            project_id: Uuid::nil(),
            created_at: 1,
            now_us: 2,
            existing,
        }
    }

    #[test]
    fn secrets_are_kept_replaced_or_cleared_and_never_shown() {
        let id = Uuid::now_v7();
        let stored = vec![StoredChannel::Webhook {
            id,
            url: "https://a.example/hook".into(),
            secret: Some("whsec_c2VjcmV0".into()),
            send_resolved: true,
        }];
        let hook = |secret: Option<&str>| ChannelRequest::Webhook {
            id: Some(id),
            url: "https://b.example/hook".into(),
            secret: secret.map(str::to_owned),
            send_resolved: None,
        };
        let kept = to_record(&request(vec![hook(None)]), origin(&stored)).expect("valid");
        assert!(matches!(&kept.channels.0[0],
            StoredChannel::Webhook { secret: Some(s), url, .. } if s == "whsec_c2VjcmV0" && url == "https://b.example/hook"));
        let cleared = to_record(&request(vec![hook(Some(""))]), origin(&stored)).expect("valid");
        assert!(matches!(
            &cleared.channels.0[0],
            StoredChannel::Webhook { secret: None, .. }
        ));
        let view = serde_json::to_string(&channel_view(&kept.channels.0[0])).expect("json");
        assert!(
            !view.contains("c2VjcmV0") && view.contains("\"secret_set\":true"),
            "{view}"
        );
    }

    #[test]
    fn an_unknown_channel_id_is_a_field_error() {
        let errors = to_record(
            &request(vec![ChannelRequest::Slack {
                id: Some(Uuid::now_v7()),
                url: None,
                send_resolved: None,
            }]),
            origin(&[]),
        )
        .expect_err("unknown id");
        assert_eq!(errors[0].path, "channels[0].id");
    }
}
