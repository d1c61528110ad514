//! The query API over HTTP on SQLite and PostgreSQL: login, sessions and throttling, the auth
//! matrix of every query endpoint, validation, trace timelines and exception resolution with
//! regression.

mod common;

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use tracewire_server::bootstrap::hash_password;
use tracewire_server::store::NewUser;
use uuid::Uuid;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Logs in; returns (status, body, Set-Cookie).
async fn login(s: &TestServer, user: &str, password: &str) -> (u16, Value, Option<String>) {
    let r = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, r.json().await.unwrap_or(Value::Null), cookie)
}

async fn token(s: &TestServer, user: &str, password: &str) -> String {
    let (status, body, _) = login(s, user, password).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Sends a request with an optional bearer token; returns (status, body).
async fn call(s: &TestServer, method: Method, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut rb = s.client.request(method.clone(), s.url(path));
    if let Some(t) = bearer {
        rb = rb.bearer_auth(t);
    }
    if method == Method::PUT {
        rb = rb.json(&json!({"notes": "fixed in 1.2"}));
    }
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn add_viewer(s: &TestServer) {
    s.store
        .insert_user(&NewUser {
            id: Uuid::now_v7(),
            username: "viewer".into(),
            password_hash: hash_password("viewer-password".into()).await.expect("hash"),
            role: "viewer".into(),
            created_at: tracewire_server::clock::now_us(),
        })
        .await
        .expect("viewer");
}

/// Ingests one exception (with a log of the same trace) and returns the group id.
async fn seed_exception(s: &TestServer, admin: &str, message: &str) -> String {
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
        "logs": [{"level": "ERROR", "message": format!("before {message}"), "trace_id": TRACE}],
        "exceptions": [{"exception_type": "KeyError", "exception_message": message,
                        "trace_id": TRACE}]});
    let (status, body) = s.ingest(&batch).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(s, Method::GET, "/api/v1/logging/exceptions", Some(admin)).await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["exception_message"] == message))
        .and_then(|i| i["id"].as_str())
        .expect("group listed")
        .to_owned()
}

both_backends!(
    login_cookie_bearer_and_logout,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let (status, body, cookie) = login(&s, "admin", "admin-password").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["role"], "admin");
        let cookie = cookie.expect("cookie");
        assert!(cookie.starts_with("tracewire_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let pair = cookie.split(';').next().expect("pair").to_owned();
        let me = s
            .client
            .get(s.url("/api/v1/auth/me"))
            .header("cookie", &pair)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status().as_u16(), 200);
        let me: Value = me.json().await.expect("json");
        assert_eq!(me["user"]["username"], "admin");

        let bearer = body["token"].as_str().expect("token");
        assert_eq!(
            call(&s, Method::GET, "/api/v1/auth/me", Some(bearer))
                .await
                .0,
            200
        );
        let (status, body) = call(&s, Method::GET, "/api/v1/auth/me", Some("forged")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );

        let (status, body, _) = login(&s, "admin", "wrong").await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "unauthorized");

        assert_eq!(
            call(&s, Method::POST, "/api/v1/auth/logout", Some(bearer))
                .await
                .0,
            204
        );
        assert_eq!(
            call(&s, Method::GET, "/api/v1/auth/me", Some(bearer))
                .await
                .0,
            401
        );

        let audit = s
            .pairs("SELECT action, COUNT(*) FROM audit_logs GROUP BY action ORDER BY action")
            .await;
        let count = |a: &str| audit.iter().find(|r| r.0 == a).map_or(0, |r| r.1);
        assert_eq!(count("auth.login"), 1, "{audit:?}");
        assert_eq!(count("auth.login_failed"), 1, "{audit:?}");
        assert_eq!(count("auth.logout"), 1, "{audit:?}");
        s.stop().await;
    }
);

both_backends!(failed_logins_are_throttled, |backend: Backend| async move {
    let s = TestServer::start(backend).await;
    for _ in 0..5 {
        assert_eq!(login(&s, "ghost", "guess").await.0, 401);
    }
    let r = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": "ghost", "password": "guess"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 429);
    let retry = common::retry_after_secs(&r).expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another username from the same address is not locked out.
    assert_eq!(login(&s, "admin", "admin-password").await.0, 200);
    s.stop().await;
});

both_backends!(
    auth_matrix_covers_every_endpoint,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        add_viewer(&s).await;
        let admin = token(&s, "admin", "admin-password").await;
        let viewer = token(&s, "viewer", "viewer-password").await;
        let group = seed_exception(&s, &admin, "missing key 'cart'").await;
        let (_, logs) = call(
            &s,
            Method::GET,
            "/api/v1/logging/logs?level=ERROR",
            Some(&admin),
        )
        .await;
        let log_id = logs["items"][0]["id"].as_str().expect("a log").to_owned();

        let reads = [
            "/api/v1/logging/logs".to_owned(),
            format!("/api/v1/logging/logs/{log_id}"),
            format!("/api/v1/logging/traces/{TRACE}"),
            "/api/v1/logging/exceptions".to_owned(),
            format!("/api/v1/logging/exceptions/{group}"),
            "/api/v1/auth/me".to_owned(),
        ];
        let resolve = format!("/api/v1/logging/exceptions/{group}/resolve");
        for path in &reads {
            let (status, body) = call(&s, Method::GET, path, None).await;
            assert_eq!(status, 401, "anonymous {path}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized");
            assert_eq!(
                call(&s, Method::GET, path, Some(&viewer)).await.0,
                200,
                "viewer {path}"
            );
            assert_eq!(
                call(&s, Method::GET, path, Some(&admin)).await.0,
                200,
                "admin {path}"
            );
        }
        assert_eq!(call(&s, Method::PUT, &resolve, None).await.0, 401);
        let (status, body) = call(&s, Method::PUT, &resolve, Some(&viewer)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );
        let (status, body) = call(&s, Method::PUT, &resolve, Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["is_resolved"], true);
        assert_eq!(body["resolved_by"], "admin");
        assert_eq!(body["resolution_notes"], "fixed in 1.2");
        s.stop().await;
    }
);

both_backends!(
    invalid_parameters_answer_422_naming_them,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let admin = token(&s, "admin", "admin-password").await;
        for (path, param) in [
            ("/api/v1/logging/logs?level=LOUD", "level"),
            ("/api/v1/logging/logs?limit=5000", "limit"),
            ("/api/v1/logging/logs?from=yesterday", "from"),
            ("/api/v1/logging/logs?cursor=xyz", "cursor"),
            ("/api/v1/logging/logs?trace_id=abc", "trace_id"),
            ("/api/v1/logging/logs/not-a-uuid", "id"),
            ("/api/v1/logging/traces/abc", "trace_id"),
            ("/api/v1/logging/exceptions?resolved=maybe", "resolved"),
            ("/api/v1/logging/logs?not.level=LOUD", "not.level"),
            ("/api/v1/logging/logs?not.colour=red", "not.colour"),
            (
                "/api/v1/logging/logs?not.response_status=abc",
                "not.response_status",
            ),
            ("/api/v1/logging/logs?order=up", "order"),
            (
                "/api/v1/logging/logs/statistics?not.source=mars",
                "not.source",
            ),
            ("/api/v1/logging/logs/statistics?order=asc", "order"),
            ("/api/v1/logging/exceptions?status=open", "status"),
            ("/api/v1/logging/exceptions?sort=name", "sort"),
            ("/api/v1/logging/exceptions/histogram?ids=nope", "ids"),
            ("/api/v1/logging/exceptions/histogram", "ids"),
            (
                "/api/v1/logging/exceptions/histogram?ids=0190a0e2-7c4e-7d4c-8f3e-5a2b1c0d9e8f&buckets=0",
                "buckets",
            ),
        ] {
            let (status, body) = call(&s, Method::GET, path, Some(&admin)).await;
            assert_eq!(status, 422, "{path}: {body}");
            assert_eq!(body["error"]["code"], "validation_failed");
            assert_eq!(body["error"]["details"][0]["path"], param, "{path}");
        }
        let missing = format!("/api/v1/logging/logs/{}", Uuid::now_v7());
        let (status, body) = call(&s, Method::GET, &missing, Some(&admin)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
        s.stop().await;
    }
);

both_backends!(
    trace_timeline_and_regression,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let admin = token(&s, "admin", "admin-password").await;
        let group = seed_exception(&s, &admin, "boom").await;
        let (status, trace) = call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/traces/{TRACE}"),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 200, "{trace}");
        let kinds: Vec<&str> = trace["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["kind"].as_str())
            .collect();
        assert!(
            kinds.contains(&"log") && kinds.contains(&"exception"),
            "{trace}"
        );
        // An exception in a trace names the side it came from, like the logs beside it.
        for item in trace["items"].as_array().expect("items") {
            if item["kind"] == "exception" {
                assert_eq!(item["exception"]["source"], "backend", "{item}");
            }
        }

        let resolve = format!("/api/v1/logging/exceptions/{group}/resolve");
        assert_eq!(call(&s, Method::PUT, &resolve, Some(&admin)).await.0, 200);
        let (_, resolved) = call(
            &s,
            Method::GET,
            "/api/v1/logging/exceptions?resolved=true",
            Some(&admin),
        )
        .await;
        assert_eq!(resolved["total"], 1, "{resolved}");

        // A new occurrence after the resolution reopens the group.
        seed_exception(&s, &admin, "boom").await;
        let (_, open) = call(
            &s,
            Method::GET,
            "/api/v1/logging/exceptions?resolved=false",
            Some(&admin),
        )
        .await;
        let item = open["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["id"] == group.as_str()))
            .unwrap_or_else(|| panic!("reopened group listed: {open}"));
        assert_eq!(item["occurrence_count"], 2);
        assert!(item["regressed_at"].is_string(), "{item}");
        let (_, detail) = call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/exceptions/{group}"),
            Some(&admin),
        )
        .await;
        let recent = detail["recent_occurrences"].as_array().expect("recent");
        assert_eq!(recent.len(), 2);
        assert!(recent.iter().all(|o| o["trace_id"] == TRACE));
        let audit = s
            .pairs("SELECT action, COUNT(*) FROM audit_logs GROUP BY action ORDER BY action")
            .await;
        assert!(
            audit.iter().any(|r| r.0 == "exceptions.resolve"),
            "{audit:?}"
        );
        assert!(audit.iter().any(|r| r.0 == "exceptions.query"), "{audit:?}");
        s.stop().await;
    }
);

both_backends!(
    statistics_count_per_bucket_level_and_source,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let admin = token(&s, "admin", "admin-password").await;
        let logs: Vec<Value> = [
            ("INFO", "10:05", 1),
            ("INFO", "10:50", 3),
            ("ERROR", "10:59", 1),
            ("ERROR", "11:10", 2),
        ]
        .iter()
        .enumerate()
        .map(|(i, (level, at, dup))| {
            json!({"level": level, "message": format!("stat {i}"), "dedup_count": dup,
               "timestamp": format!("2021-03-01T{at}:00Z")})
        })
        .collect();
        let batch =
            json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend", "logs": logs});
        assert_eq!(s.ingest(&batch).await.0, 200);
        let path = "/api/v1/logging/logs/statistics?bucket=1h\
                &from=2021-03-01T10:00:00Z&to=2021-03-01T12:00:00Z";
        let (status, body) = call(&s, Method::GET, path, Some(&admin)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 4);
        assert_eq!(body["by_level"], json!({"ERROR": 2, "INFO": 2}));
        let buckets: Vec<(String, String, i64, i64)> = body["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .map(|b| {
                (
                    b["start"].as_str().unwrap_or_default().to_owned(),
                    b["level"].as_str().unwrap_or_default().to_owned(),
                    b["count"].as_i64().unwrap_or_default(),
                    b["events"].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        let hour = |h: &str| format!("2021-03-01T{h}:00:00.000Z");
        assert_eq!(
            buckets,
            vec![
                (hour("10"), "ERROR".to_owned(), 1, 1),
                (hour("10"), "INFO".to_owned(), 2, 4),
                (hour("11"), "ERROR".to_owned(), 1, 2),
            ]
        );
        let (status, body) = call(
            &s,
            Method::GET,
            "/api/v1/logging/logs/statistics?bucket=1w",
            Some(&admin),
        )
        .await;
        assert_eq!(
            (status, body["error"]["details"][0]["path"].as_str()),
            (422, Some("bucket"))
        );
        s.stop().await;
    }
);

/// Ingests exceptions of `kind` at the given times (ms after `era_us`) as one batch.
async fn seed_occurrences(s: &TestServer, kind: &str, era_us: i64, at_ms: &[i64]) {
    let exceptions: Vec<Value> = at_ms
        .iter()
        .map(|ms| {
            json!({"exception_type": kind, "exception_message": format!("{kind} failed"),
                   "timestamp": tracewire_shared::validate::format_timestamp_us(era_us + ms * 1000)})
        })
        .collect();
    let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "frontend",
                       "logs": [], "exceptions": exceptions});
    let (status, body) = s.ingest(&batch).await;
    assert_eq!(status, 200, "{body}");
}

fn group_types(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["exception_type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

both_backends!(
    exceptions_filter_by_status_sort_and_count_per_bucket,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let admin = token(&s, "admin", "admin-password").await;
        let era_us =
            tracewire_shared::validate::parse_timestamp_us("2021-03-01T10:00:00Z").expect("era");
        const H: i64 = 3_600_000;
        // Often: three, seen first; Once: one, seen last; Back: two, resolved in between.
        // Each sort gives another order.
        seed_occurrences(&s, "Often", era_us, &[0, H, H + 1]).await;
        seed_occurrences(&s, "Once", era_us, &[2 * H + 30 * 60_000]).await;
        seed_occurrences(&s, "Back", era_us, &[30 * 60_000]).await;
        let (_, all) = call(&s, Method::GET, "/api/v1/logging/exceptions", Some(&admin)).await;
        assert_eq!(group_types(&all), ["Once", "Often", "Back"], "{all}");
        let id_of = |kind: &str| {
            all["items"]
                .as_array()
                .and_then(|items| items.iter().find(|g| g["exception_type"] == kind))
                .and_then(|g| g["id"].as_str())
                .expect("group")
                .to_owned()
        };
        let (often, once, back) = (id_of("Often"), id_of("Once"), id_of("Back"));
        let resolve = format!("/api/v1/logging/exceptions/{back}/resolve");
        assert_eq!(call(&s, Method::PUT, &resolve, Some(&admin)).await.0, 200);
        seed_occurrences(&s, "Back", era_us, &[40 * 60_000]).await;

        let list = |query: &'static str| {
            let s = &s;
            let admin = admin.clone();
            async move {
                let (status, body) = call(
                    s,
                    Method::GET,
                    &format!("/api/v1/logging/exceptions?{query}"),
                    Some(&admin),
                )
                .await;
                assert_eq!(status, 200, "{query}: {body}");
                body
            }
        };
        let regressed = list("status=regressed").await;
        assert_eq!(group_types(&regressed), ["Back"], "{regressed}");
        assert_eq!(regressed["total"], 1);
        assert_eq!(
            group_types(&list("status=unresolved").await),
            ["Once", "Often", "Back"]
        );
        assert!(group_types(&list("status=resolved").await).is_empty());
        assert_eq!(
            group_types(&list("sort=count").await),
            ["Often", "Back", "Once"]
        );
        assert_eq!(
            group_types(&list("sort=first_seen").await),
            ["Once", "Back", "Often"]
        );
        // Keyset paging in a non-default sort: one group a page, each once, in order.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..5 {
            let mut path = "/api/v1/logging/exceptions?sort=count&limit=1".to_owned();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (_, page) = call(&s, Method::GET, &path, Some(&admin)).await;
            seen.extend(group_types(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, ["Often", "Back", "Once"]);

        // Three one-hour buckets from the era's start; ids answer in the order asked.
        let path = format!(
            "/api/v1/logging/exceptions/histogram?ids={once},{often},{back}&buckets=3\
             &from=2021-03-01T10:00:00Z&to=2021-03-01T12:59:59.999Z"
        );
        let (status, hist) = call(&s, Method::GET, &path, Some(&admin)).await;
        assert_eq!(status, 200, "{hist}");
        assert_eq!(hist["bucket_ms"], H);
        let series: Vec<(String, Value)> = hist["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["exception_id"].as_str().unwrap_or_default().to_owned(),
                    i["counts"].clone(),
                )
            })
            .collect();
        assert_eq!(
            series,
            [
                (once.clone(), json!([0, 0, 1])),
                (often.clone(), json!([1, 2, 0])),
                (back.clone(), json!([2, 0, 0])),
            ]
        );
        s.stop().await;
    }
);

both_backends!(
    negative_filters_apply_to_statistics_and_export,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let admin = token(&s, "admin", "admin-password").await;
        let logs: Vec<Value> = [("cart", Some("u1")), ("cart", None), ("auth", Some("u2"))]
            .iter()
            .enumerate()
            .map(|(i, (module, user))| {
                json!({"level": "INFO", "message": format!("m{i}"), "module": module,
                       "user_id": user, "timestamp": format!("2021-03-01T10:0{i}:00Z")})
            })
            .collect();
        let batch = json!({"batch_id": Uuid::new_v4().to_string(), "source": "backend",
                           "logs": logs});
        assert_eq!(s.ingest(&batch).await.0, 200);
        let window = "from=2021-03-01T00:00:00Z&to=2021-03-02T00:00:00Z";
        let (_, stats) = call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/logs/statistics?{window}&not.user_id=u1&not.user_id=u2"),
            Some(&admin),
        )
        .await;
        assert_eq!(stats["total"], 1, "{stats}");
        let (_, page) = call(
            &s,
            Method::GET,
            &format!("/api/v1/logging/logs?{window}&not.module=auth&order=asc"),
            Some(&admin),
        )
        .await;
        let messages: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|l| l["message"].as_str())
            .collect();
        assert_eq!(messages, ["m0", "m1"], "{page}");
        let r = s
            .client
            .post(s.url("/api/v1/logging/logs/export"))
            .bearer_auth(&admin)
            .json(&json!({"format": "txt", "filters": {
                "from": "2021-03-01T00:00:00Z", "to": "2021-03-02T00:00:00Z",
                "not.module": ["auth"], "not.user_id": ["u1"]}}))
            .send()
            .await
            .expect("export");
        assert_eq!(r.status().as_u16(), 200);
        let text = r.text().await.expect("body");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("m1"), "{text}");
        s.stop().await;
    }
);
