//! The admin UI fallback: a status page without a build, the built app (with client-side
//! routes) when `--ui-dir` holds one, and the JSON envelope for unknown API paths either way.

mod common;

use common::{Backend, TestServer};

#[tokio::test]
async fn status_page_without_a_ui_build() {
    let s =
        TestServer::start_with(Backend::Sqlite, |c| c.ui_dir = Some("/nonexistent".into())).await;
    let page = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Tracewire collector"));
    let api = s.client.get(s.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(api.status().as_u16(), 404);
    assert!(api.text().await.unwrap().contains("\"not_found\""));
    s.stop().await;
}

#[tokio::test]
async fn a_built_ui_is_served_with_client_side_routes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>admin app</html>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    let ui = dir.path().to_path_buf();
    let s = TestServer::start_with(Backend::Sqlite, move |c| c.ui_dir = Some(ui)).await;
    for (path, body) in [
        ("/", "admin app"),
        ("/logs/some-id", "admin app"),
        ("/app.js", "console.log(1)"),
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval';") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(r.text().await.unwrap().contains(body), "{path}");
    }
    let api = s.client.get(s.url("/api/v1/nope")).send().await.unwrap();
    assert_eq!(
        api.status().as_u16(),
        404,
        "API paths never fall back to the UI"
    );
    s.stop().await;
}
