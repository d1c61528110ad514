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
            proptest::sample::select(FIELD_FILTERS.iter().map(|f| f.0).collect::<Vec<_>>()),
            ".{0,12}",
        ),
        0..3,
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
fn filter_out_complements_levels_and_sources_and_hides_the_rest() {
    let mut q = LogQuery::default();
    q.filter_out("level", "DEBUG");
    assert_eq!(
        q.levels,
        [Level::Info, Level::Warning, Level::Error, Level::Critical]
    );
    q.filter_out("source", "frontend");
    assert_eq!(q.field("source"), Some("backend"));
    q.filter_for("module", "cart");
    q.filter_out("module", "cart");
    assert_eq!(q.field("module"), None);
    assert_eq!(q.excludes, [("module".to_owned(), "cart".to_owned())]);
    q.filter_for("module", "cart");
    assert!(q.excludes.is_empty());
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
