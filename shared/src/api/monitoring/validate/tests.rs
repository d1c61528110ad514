use super::super::*;
use crate::validate::FieldError;

fn rule(condition: Condition, threshold: f64) -> AlertRuleRequest {
    AlertRuleRequest {
        name: "checkout errors".into(),
        description: None,
        enabled: true,
        severity: Severity::Critical,
        condition,
        operator: Operator::Gt,
        threshold,
        window_minutes: 5,
        pending_evaluations: 3,
        throttle_minutes: 30,
        mute_until: None,
        channels: vec![ChannelRequest::Webhook {
            id: None,
            url: "https://hooks.example.com/tw".into(),
            secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            send_resolved: None,
        }],
    }
}

fn paths(result: Result<(), Vec<FieldError>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.path)
        .collect()
}

fn error_rate() -> Condition {
    Condition::ErrorRate {
        endpoint: Some("/api/orders/{id}".into()),
        source: None,
    }
}

#[test]
fn a_sound_rule_passes() {
    assert_eq!(rule(error_rate(), 0.05).validate(), Ok(()));
}

#[cfg(feature = "regex-check")]
#[test]
fn a_regex_that_does_not_compile_names_the_pattern() {
    let r = rule(
        Condition::MessageRegex {
            pattern: "timeout (after".into(),
            filters: LogFilters::default(),
        },
        1.0,
    );
    let errors = r.validate().expect_err("unclosed group");
    assert_eq!(errors[0].path, "condition.pattern");
    assert!(errors[0].message.contains("regular expression"));
}

#[test]
fn unknown_metric_and_quantile_are_refused() {
    let vital = rule(
        Condition::WebVital {
            metric: "LCPX".into(),
            page: None,
        },
        2500.0,
    );
    assert_eq!(paths(vital.validate()), ["condition.metric"]);
    let latency = rule(
        Condition::Latency {
            quantile: "p42".into(),
            endpoint: None,
        },
        300.0,
    );
    assert_eq!(paths(latency.validate()), ["condition.quantile"]);
}

#[test]
fn thresholds_must_be_of_the_conditions_kind() {
    // An error rate is a ratio: 5 (meaning 5 %) is the classic mistake.
    assert_eq!(paths(rule(error_rate(), 5.0).validate()), ["threshold"]);
    let count = Condition::ExceptionCount {
        source: None,
        exception_type: None,
    };
    assert_eq!(paths(rule(count.clone(), 2.5).validate()), ["threshold"]);
    assert_eq!(rule(count, 2.0).validate(), Ok(()));
    let cls = Condition::WebVital {
        metric: "CLS".into(),
        page: None,
    };
    assert_eq!(cls.threshold_kind(), ThresholdKind::Score);
    assert_eq!(rule(cls, 0.1).validate(), Ok(()));
    assert_eq!(
        paths(rule(error_rate(), f64::NAN).validate()),
        ["threshold"]
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut r = rule(
        Condition::LogCount {
            filters: LogFilters {
                level: Some("LOUD".into()),
                source: Some("mobile".into()),
                not: [
                    ("colour".to_owned(), vec!["red".to_owned()]),
                    (
                        "level".to_owned(),
                        vec!["INFO".to_owned(), "LOUD".to_owned()],
                    ),
                    ("user_id".to_owned(), vec!["bot".to_owned()]),
                ]
                .into(),
                ..LogFilters::default()
            },
        },
        10.0,
    );
    r.name = "  ".into();
    r.window_minutes = 0;
    r.pending_evaluations = 0;
    r.mute_until = Some("tomorrow".into());
    r.channels = vec![
        ChannelRequest::Webhook {
            id: None,
            url: "ftp://x".into(),
            secret: Some("hunter2".into()),
            send_resolved: None,
        },
        ChannelRequest::Email {
            id: None,
            to: vec!["ops@example.com".into(), "not an address".into()],
            send_resolved: None,
        },
        ChannelRequest::Slack {
            id: None,
            url: None,
            send_resolved: None,
        },
    ];
    let mut got = paths(r.validate());
    got.sort();
    assert_eq!(
        got,
        [
            "channels[0].secret",
            "channels[0].url",
            "channels[1].to[1]",
            "channels[2].url",
            "condition.filters.level",
            "condition.filters.not.colour",
            "condition.filters.not.level",
            "condition.filters.source",
            "mute_until",
            "name",
            "pending_evaluations",
            "window_minutes",
        ]
    );
}

#[test]
fn a_slack_channel_may_keep_its_stored_url() {
    let mut r = rule(error_rate(), 0.1);
    r.channels = vec![ChannelRequest::Slack {
        id: Some(uuid::Uuid::nil()),
        url: None,
        send_resolved: None,
    }];
    assert_eq!(r.validate(), Ok(()));
}

#[test]
fn resolve_notifications_default_on_for_webhooks_only() {
    let r = rule(error_rate(), 0.1);
    assert!(r.channels[0].sends_resolved());
    let email = ChannelRequest::Email {
        id: None,
        to: vec!["a@b.co".into()],
        send_resolved: None,
    };
    assert!(!email.sends_resolved());
    let slack_on = ChannelRequest::Slack {
        id: None,
        url: None,
        send_resolved: Some(true),
    };
    assert!(slack_on.sends_resolved());
}

#[test]
fn secrets_stay_out_of_debug() {
    let r = rule(error_rate(), 0.1);
    let text = format!("{r:?}");
    assert!(!text.contains("whsec_"), "{text}");
    let slack = ChannelRequest::Slack {
        id: None,
        url: Some("https://hooks.slack.com/services/T0/B0/token123".into()),
        send_resolved: None,
    };
    assert!(!format!("{slack:?}").contains("token123"));
}

#[test]
fn operators_compare_as_named() {
    assert!(Operator::Gt.breached(2.0, 1.0));
    assert!(!Operator::Gt.breached(1.0, 1.0));
    assert!(Operator::Gte.breached(1.0, 1.0));
    assert!(Operator::Lt.breached(0.5, 1.0));
    assert!(!Operator::Lte.breached(1.5, 1.0));
}

#[test]
fn omitted_fields_take_their_defaults() {
    let r: AlertRuleRequest = serde_json::from_str(
        r#"{"name":"n","severity":"info","condition":{"type":"new_exception"},
            "operator":"gte","threshold":1}"#,
    )
    .expect("parse");
    assert!(r.enabled);
    assert_eq!(
        (r.window_minutes, r.pending_evaluations, r.throttle_minutes),
        (5, 1, 60)
    );
    assert!(r.channels.is_empty());
    assert_eq!(r.validate(), Ok(()));
}

#[test]
fn severity_lists_parse_trimmed_deduplicated_and_refuse_unknown_names() {
    use crate::api::monitoring::Severity;
    assert_eq!(Severity::parse_list(""), Ok(vec![]));
    assert_eq!(Severity::parse_list(" , "), Ok(vec![]));
    assert_eq!(
        Severity::parse_list("critical, warning,critical"),
        Ok(vec![Severity::Critical, Severity::Warning])
    );
    for s in Severity::ALL {
        assert_eq!(Severity::parse(s.as_str()), Some(s));
    }
    let err = Severity::parse_list("warning,urgent").expect_err("unknown");
    assert!(err.contains("\"urgent\""), "{err}");
    assert!(
        Severity::parse_list("Warning").is_err(),
        "spellings are lowercase"
    );
}
