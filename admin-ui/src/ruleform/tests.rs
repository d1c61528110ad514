use super::*;
use tracewire_shared::api::monitoring::{AlertRule, ChannelView};

fn filled() -> RuleForm {
    RuleForm {
        name: "Checkout failing".into(),
        threshold: "5".into(),
        endpoint: "/api/checkout".into(),
        channels: vec![ChannelForm {
            url: "http://127.0.0.1:9/hook".into(),
            ..ChannelForm::new("webhook")
        }],
        ..RuleForm::default()
    }
}

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn an_error_rate_percentage_becomes_a_ratio() {
    let r = filled().to_request().unwrap();
    assert_eq!(r.threshold, 0.05);
    assert_eq!(
        r.condition,
        Condition::ErrorRate {
            endpoint: Some("/api/checkout".into()),
            source: None
        }
    );
    assert_eq!(r.window_minutes, 5);
    assert!(matches!(
        &r.channels[0],
        ChannelRequest::Webhook {
            secret: None,
            send_resolved: Some(true),
            ..
        }
    ));
}

#[test]
fn bad_numbers_are_reported_once_by_their_field() {
    let f = RuleForm {
        threshold: "lots".into(),
        window_minutes: "0".into(),
        pending_evaluations: "-1".into(),
        ..filled()
    };
    let errors = f.to_request().unwrap_err();
    assert_eq!(
        paths(&errors),
        vec!["threshold", "pending_evaluations", "window_minutes"]
    );
    assert_eq!(
        message_for(&errors, "threshold").unwrap(),
        "expected a number"
    );
}

#[test]
fn a_percentage_over_100_speaks_in_percent() {
    let errors = RuleForm {
        threshold: "150".into(),
        ..filled()
    }
    .to_request()
    .unwrap_err();
    assert_eq!(
        message_for(&errors, "threshold").unwrap(),
        "an error rate is a percentage from 0 to 100"
    );
}

#[test]
fn counts_must_be_whole_and_names_not_blank() {
    let errors = RuleForm {
        name: "  ".into(),
        condition: "log_count".into(),
        threshold: "2.5".into(),
        ..filled()
    }
    .to_request()
    .unwrap_err();
    assert_eq!(paths(&errors), vec!["name", "threshold"]);
}

#[test]
fn channel_problems_land_on_their_row() {
    let mut f = filled();
    f.channels.push(ChannelForm {
        to: "ops@example.com, not an address".into(),
        ..ChannelForm::new("email")
    });
    f.channels.push(ChannelForm {
        secret: "hunter2".into(),
        url: "ftp://x".into(),
        ..ChannelForm::new("webhook")
    });
    let errors = f.to_request().unwrap_err();
    assert_eq!(
        message_for(&errors, "channels[1].to").unwrap(),
        "expected an email address like ops@example.com"
    );
    assert!(message_for(&errors, "channels[2].url").is_some());
    assert!(message_for(&errors, "channels[2].secret").is_some());
    assert!(message_for(&errors, "channels[0].url").is_none());
    assert_eq!(
        unplaced(
            &errors,
            &["channels[1].to", "channels[2].url", "channels[2].secret"]
        ),
        Vec::<String>::new()
    );
    assert_eq!(unplaced(&errors, &["channels[1].to"]).len(), 2);
}

#[test]
fn a_regex_is_left_to_the_collector() {
    // The UI's own build does not link the regex engine: a pattern that does not compile passes
    // here and comes back in the 422's details as `condition.pattern`. A workspace build
    // unifies the collector's `regex-check` feature in, and then the form reports it itself.
    let r = RuleForm {
        condition: "message_regex".into(),
        pattern: "timeout (after".into(),
        threshold: "1".into(),
        ..filled()
    };
    if tracewire_shared::api::monitoring::CHECKS_REGEX {
        assert_eq!(paths(&r.to_request().unwrap_err()), ["condition.pattern"]);
    } else {
        assert!(r.to_request().is_ok());
    }
    let empty = RuleForm {
        pattern: String::new(),
        ..r
    };
    assert_eq!(
        paths(&empty.to_request().unwrap_err()),
        vec!["condition.pattern"]
    );
}

fn stored() -> AlertRule {
    let id = Uuid::from_u128(7);
    AlertRule {
        id: Uuid::from_u128(1),
        project_id: Uuid::from_u128(2),
        name: "Slow orders".into(),
        description: None,
        enabled: false,
        severity: Severity::Critical,
        condition: Condition::Latency {
            quantile: "p99".into(),
            endpoint: Some("/api/orders/{id}".into()),
        },
        operator: Operator::Gte,
        threshold: 1250.5,
        window_minutes: 10,
        pending_evaluations: 3,
        throttle_minutes: 30,
        mute_until: Some("2026-12-07T10:00:00Z".into()),
        channels: vec![
            ChannelView::Webhook {
                id,
                url: "https://hooks.example.com/a".into(),
                secret_set: true,
                send_resolved: true,
            },
            ChannelView::Slack {
                id: Uuid::from_u128(8),
                url_set: true,
                send_resolved: false,
            },
        ],
        state: None,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

#[test]
fn a_stored_rule_round_trips_without_its_secrets() {
    let rule = stored();
    let f = RuleForm::from_rule(&rule);
    assert_eq!(f.threshold, "1250.5");
    assert!(f.channels[0].secret_set && f.channels[0].secret.is_empty());
    let r = f.to_request().unwrap();
    assert_eq!(r.condition, rule.condition);
    assert_eq!(
        (r.operator, r.threshold, r.enabled),
        (Operator::Gte, 1250.5, false)
    );
    assert_eq!(r.mute_until, rule.mute_until);
    // No secret and no Slack URL are sent, with the ids: the collector keeps the stored ones.
    assert_eq!(
        r.channels[0],
        ChannelRequest::Webhook {
            id: Some(Uuid::from_u128(7)),
            url: "https://hooks.example.com/a".into(),
            secret: None,
            send_resolved: Some(true)
        }
    );
    assert_eq!(
        r.channels[1],
        ChannelRequest::Slack {
            id: Some(Uuid::from_u128(8)),
            url: None,
            send_resolved: Some(false)
        }
    );
}

#[test]
fn clearing_a_secret_sends_an_empty_one() {
    let mut f = RuleForm::from_rule(&stored());
    f.channels[0].clear_secret = true;
    f.channels[0].secret = "whsec_ignored".into();
    let r = f.to_request().unwrap();
    assert!(
        matches!(&r.channels[0], ChannelRequest::Webhook { secret: Some(s), .. } if s.is_empty())
    );
}

#[test]
fn error_rate_thresholds_show_as_percent() {
    let mut rule = stored();
    rule.condition = Condition::ErrorRate {
        endpoint: None,
        source: Some("backend".into()),
    };
    rule.threshold = 0.05;
    let f = RuleForm::from_rule(&rule);
    assert_eq!((f.threshold.as_str(), f.source.as_str()), ("5", "backend"));
    assert_eq!(threshold_unit("error_rate", ""), "%");
    assert_eq!(threshold_unit("web_vital", "CLS"), "score");
}
