use super::*;
use proptest::prelude::*;

fn arb_query() -> impl Strategy<Value = LogQuery> {
    let levels = proptest::sample::subsequence(Level::ALL.to_vec(), 0..=5).prop_shuffle();
    let fields = proptest::collection::vec(
        (
            proptest::sample::select(FIELD_FILTERS.iter().map(|f| f.0).collect::<Vec<_>>()),
            ".{1,12}",
        ),
        0..4,
    );
    let excludes = proptest::collection::vec(
        (
            proptest::sample::select(EXCLUDE_FIELDS.iter().map(|f| f.0).collect::<Vec<_>>()),
            ".{0,12}",
        ),
        0..4,
    );
    let range = prop_oneof![
        proptest::sample::select(PRESETS.iter().map(|p| p.0).collect::<Vec<_>>())
            .prop_map(|p| TimeRange::Preset(p.to_owned())),
        (0i64..4_000_000_000_000_000, 0i64..1_000_000_000_000).prop_map(|(from_us, len)| {
            TimeRange::Absolute {
                from_us,
                to_us: from_us + len,
            }
        }),
    ];
    let columns =
        proptest::sample::subsequence(COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>(), 0..=6);
    (
        levels,
        fields,
        excludes,
        ".{0,20}",
        range,
        any::<bool>(),
        any::<bool>(),
        columns,
    )
        .prop_map(|(levels, fields, excludes, q, range, wrap, utc, columns)| {
            let mut query = LogQuery {
                levels,
                excludes: excludes
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                q,
                range,
                wrap,
                utc,
                columns: columns.into_iter().map(str::to_owned).collect(),
                ..LogQuery::default()
            };
            for (k, v) in fields {
                query.set_field(k, &v);
            }
            query
        })
}

proptest! {
    /// Any view survives a trip through the address bar: encoded, decoded, parsed.
    #[test]
    fn url_round_trip(query in arb_query()) {
        let url = query.to_query_string();
        let pairs = decode_query(&url);
        let back = LogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(back, query);
    }

    /// Decoding never panics on arbitrary text, and always yields a usable view.
    #[test]
    fn any_query_string_opens(raw in ".{0,80}") {
        let pairs = decode_query(&raw);
        let q = LogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (from, to) = q.range.bounds(1_000_000);
        prop_assert!(from <= to);
    }
}

#[test]
fn defaults_make_an_empty_url() {
    assert_eq!(LogQuery::default().to_query_string(), "");
}

#[test]
fn api_parameters_name_the_collector_filters() {
    let mut q =
        LogQuery::from_pairs([("level", "ERROR,WARNING"), ("user", "u 1"), ("range", "1h")]);
    q.filter_for("trace", "4bf92f3577b34da6a3ce929d0e0e4736");
    let params = q.api_params(3_600_000_000);
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["level", "user_id", "trace_id", "from", "to"]);
    assert_eq!(params[0].1, "ERROR,WARNING");
    assert_eq!(params[3].1, "1970-01-01T00:00:00.000Z");
}

#[test]
fn filter_out_becomes_negative_collector_filters() {
    let mut q = LogQuery::from_pairs([("level", "ERROR,DEBUG")]);
    q.filter_out("level", "DEBUG");
    assert_eq!(q.levels, [Level::Error]);
    q.filter_for("module", "cart");
    q.filter_out("module", "cart");
    assert_eq!(q.field("module"), None);
    q.filter_out("user", "u1");
    q.filter_out("user", "u2");
    q.filter_out("user", "u2");
    q.filter_out("status", "404");
    let params = q.api_params(3_600_000_000);
    let nots: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k.starts_with("not."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        nots,
        [
            ("not.level", "DEBUG"),
            ("not.module", "cart"),
            ("not.user_id", "u1"),
            ("not.user_id", "u2"),
            ("not.response_status", "404")
        ]
    );
    assert_eq!(exclude_label("user", "u1"), "NOT user_id = u1");
    // Filtering for a value again takes its exclusion away.
    q.filter_for("module", "cart");
    assert!(!q.excludes.iter().any(|(k, _)| k == "module"));
    q.remove_exclude("user", "u1");
    assert_eq!(
        q.to_query_string(),
        "level=ERROR&module=cart&not.level=DEBUG&not.user=u2&not.status=404"
    );
    let filters = export_filters(q.api_params(3_600_000_000));
    assert_eq!(filters["not.user_id"], serde_json::json!(["u2"]));
    assert_eq!(filters["module"], serde_json::json!("cart"));
}

#[test]
fn exception_tabs_and_sorts_name_the_collector_parameters() {
    let p = exception_list_params("regressed", "count");
    assert_eq!(
        p,
        [
            ("status".to_owned(), "regressed".to_owned()),
            ("sort".to_owned(), "count".to_owned())
        ]
    );
    let p = exception_list_params("all", "first");
    assert_eq!(p, [("sort".to_owned(), "first_seen".to_owned())]);
    assert_eq!(exception_list_params("x", "y")[0].1, "last_seen");
}

#[test]
fn encoding_keeps_separators_readable_and_escapes_the_rest() {
    assert_eq!(encode_component("/api/*"), "/api/*");
    assert_eq!(encode_component("a&b=c d+é"), "a%26b%3Dc%20d%2B%C3%A9");
    assert_eq!(
        decode_query("?q=a%26b+c&bad=%zz&x"),
        [
            ("q".into(), "a&b c".into()),
            ("bad".into(), "%zz".into()),
            ("x".into(), String::new())
        ]
    );
}

/// (time, id) of a fake row.
#[derive(Clone, Debug, PartialEq)]
struct Row(i64, &'static str);

impl ContextRow for Row {
    fn key(&self) -> (i64, String) {
        (self.0, self.1.to_owned())
    }
}

#[test]
fn context_lists_rows_on_their_side_of_the_anchor_once_each() {
    let anchor = Row(10, "b");
    // Newest first up to the anchor's time: "c" shares its time but sorts after it.
    let before = vec![
        Row(10, "c"),
        Row(10, "b"),
        Row(10, "a"),
        Row(9, "z"),
        Row(8, "a"),
    ];
    // Oldest first from the anchor's time.
    let after = vec![
        Row(10, "a"),
        Row(10, "b"),
        Row(10, "c"),
        Row(11, "a"),
        Row(12, "a"),
    ];
    let list = merge_context(anchor.clone(), before, after, 2);
    assert_eq!(
        list,
        [
            Row(9, "z"),
            Row(10, "a"),
            Row(10, "b"),
            Row(10, "c"),
            Row(11, "a")
        ]
    );
    assert_eq!(merge_context(anchor.clone(), vec![], vec![], 3), [anchor]);
}
