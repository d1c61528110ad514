//! The admin UI: a built Leptos app in `--ui-dir` is served at `/` (unknown non-API paths get
//! its `index.html`, so client-side routes survive a reload); without a build, `/` answers a
//! small status page instead of a bare 404. API paths always answer in the error envelope.

use crate::error::Error;
use axum::extract::Request;
use axum::response::{Html, IntoResponse, Response};
use std::path::PathBuf;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The UI build directory when it holds an `index.html`.
pub fn detect(ui_dir: &std::path::Path) -> Option<PathBuf> {
    ui_dir
        .join("index.html")
        .is_file()
        .then(|| ui_dir.to_path_buf())
}

/// Fallback of every route: the UI (or status page) for pages, the envelope for the API.
pub async fn fallback(ui: Option<PathBuf>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") {
        return not_found();
    }
    match ui {
        Some(dir) => {
            let index = dir.join("index.html");
            match ServeDir::new(&dir)
                .fallback(ServeFile::new(index))
                .oneshot(request)
                .await
            {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
        None if path == "/" => Html(STATUS_PAGE).into_response(),
        None => not_found(),
    }
}

fn not_found() -> Response {
    Error::NoSuchEndpoint.into_response()
}

const STATUS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tracewire collector</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .25rem}</style></head>
<body><h1>Tracewire collector</h1>
<p>The collector is running. The admin UI is not built on this machine
(<code>--ui-dir</code> has no <code>index.html</code>).</p>
<ul>
<li>Ingest: <code>POST /api/v1/logging/logs</code></li>
<li>Query: <code>POST /api/v1/auth/login</code>, then <code>GET /api/v1/logging/logs</code></li>
<li>Health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
</ul></body></html>
"#;
