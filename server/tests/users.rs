//! Users and sessions on SQLite and PostgreSQL: `tracewire user add` through its library
//! function (the new user logs in with its role, a taken name is a conflict, weak input is
//! refused, the creation is audited), and expired sessions are refused and pruned.

mod common;

use common::{Backend, TestServer};
use serde_json::{Value, json};
use tracewire_server::auth::users::{add_user, set_password};
use tracewire_server::error::Error;

both_backends!(
    added_users_log_in_with_their_role,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        add_user(s.store.as_ref(), "cli", "ops", "ops-password", "viewer")
            .await
            .expect("created");
        let r = s
            .client
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"username": "ops", "password": "ops-password"}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["user"]["role"], "viewer");

        let taken = add_user(s.store.as_ref(), "cli", "ops", "other-password", "admin").await;
        // Said in words a newcomer understands, not as the database's constraint message.
        match &taken {
            Err(Error::Validation(errors)) => {
                assert_eq!(errors[0].path, "username");
                assert_eq!(errors[0].message, "a user named `ops` already exists");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        let weak = add_user(s.store.as_ref(), "cli", "x", "short", "viewer").await;
        assert!(matches!(weak, Err(Error::Validation(_))), "{weak:?}");
        // One audit row, for the user that was created, naming who created it.
        let audited = s
            .pairs(
                "SELECT actor, COUNT(*) FROM audit_logs WHERE action = 'users.add' GROUP BY actor",
            )
            .await;
        assert_eq!(audited, vec![("cli".to_owned(), 1)]);
        s.stop().await;
    }
);

both_backends!(
    expired_sessions_are_refused_and_pruned,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        let token = s.admin_token().await;
        s.execute("UPDATE sessions SET expires_at = 1").await;
        let me = s
            .client
            .get(s.url("/api/v1/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status().as_u16(), 401);
        let pruned = s
            .store
            .prune_sessions(tracewire_server::clock::now_us())
            .await
            .expect("prune");
        assert_eq!(pruned, 1);
        s.stop().await;
    }
);

async fn login(s: &TestServer, username: &str, password: &str) -> (u16, Value) {
    let r = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

both_backends!(
    a_new_password_replaces_the_old_and_ends_sessions,
    |backend: Backend| async move {
        let s = TestServer::start(backend).await;
        add_user(s.store.as_ref(), "cli", "ops", "first-password", "admin")
            .await
            .expect("created");
        let (status, body) = login(&s, "ops", "first-password").await;
        assert_eq!(status, 200);
        let old_token = body["token"].as_str().expect("token").to_owned();

        set_password(s.store.as_ref(), "cli", "ops", "second-password")
            .await
            .expect("password set");
        assert_eq!(login(&s, "ops", "first-password").await.0, 401);
        assert_eq!(login(&s, "ops", "second-password").await.0, 200);
        let me = s
            .client
            .get(s.url("/api/v1/auth/me"))
            .bearer_auth(&old_token)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status().as_u16(), 401, "the old session ended");

        let unknown = set_password(s.store.as_ref(), "cli", "nobody", "long-enough").await;
        assert!(matches!(unknown, Err(Error::Validation(_))), "{unknown:?}");
        let weak = set_password(s.store.as_ref(), "cli", "ops", "short").await;
        assert!(matches!(weak, Err(Error::Validation(_))), "{weak:?}");
        let audited = s
            .pairs("SELECT target, COUNT(*) FROM audit_logs WHERE action = 'users.passwd' GROUP BY target")
            .await;
        assert_eq!(audited, vec![("ops".to_owned(), 1)]);
        s.stop().await;
    }
);
