//! The admin UI at `/`: by default the build embedded in the binary at compile time (see
//! `server/build.rs`); with `--ui-dir`, a build on disk instead (a live development build).
//! Unknown non-API paths answer the app's `index.html`, so client-side routes survive a reload;
//! API paths always answer in the error envelope. Without any build, `/` answers a small status
//! page instead of a bare 404.
//!
//! Every answer here carries a strict Content-Security-Policy: scripts only from this origin
//! (plus `wasm-unsafe-eval`, which compiling the module needs), no inline script or style, no
//! other origin to connect to, no framing. Log values are rendered as text by the app; the
//! policy is the second wall if that ever failed.

use crate::error::Error;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The policy of the app's pages and assets.
pub const UI_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The status page's policy: no script at all; its one inline style block is allowed.
const STATUS_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// One file of the embedded UI build.
pub struct Asset {
    /// URL path, e.g. `/assets/style.css`.
    pub path: &'static str,
    /// The file's bytes as built, sent when the client does not accept gzip or no copy exists.
    pub body: &'static [u8],
    /// Its `gzip -9` copy, sent to clients that accept gzip (the wasm module shrinks ~3×).
    pub gzip: Option<&'static [u8]>,
    /// Strong validator (hash of the bytes), so revalidation costs a 304 and no body.
    pub etag: &'static str,
}

/// The build embedded at compile time; empty when built with `TRACEWIRE_SKIP_UI_BUILD=1`.
static EMBEDDED: &[Asset] = include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// Where the UI comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A build directory on disk (`--ui-dir` with an `index.html`).
    Dir(PathBuf),
    /// The build embedded in the binary.
    Embedded,
    /// No build: a status page at `/`.
    None,
}

/// Picks the UI source: `--ui-dir` when given (a directory without `index.html` means none),
/// else the embedded build when there is one.
pub fn detect(ui_dir: Option<&Path>) -> Source {
    match ui_dir {
        Some(dir) if dir.join("index.html").is_file() => Source::Dir(dir.to_path_buf()),
        Some(_) => Source::None,
        None if EMBEDDED.iter().any(|a| a.path == "/index.html") => Source::Embedded,
        None => Source::None,
    }
}

/// Fallback of every route: the UI (or status page) for pages, the envelope for the API.
pub async fn fallback(ui: Source, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") {
        return not_found();
    }
    let mut response = match ui {
        Source::Dir(dir) => {
            let index = dir.join("index.html");
            match ServeDir::new(&dir)
                .precompressed_gzip()
                .fallback(ServeFile::new(index))
                .oneshot(request)
                .await
            {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
        Source::Embedded => embedded(path, request.headers()),
        Source::None if path == "/" => {
            let mut r = Html(STATUS_PAGE).into_response();
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(STATUS_CSP),
            );
            return r;
        }
        Source::None => return not_found(),
    };
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(UI_CSP),
    );
    response
}

/// An embedded file, or `index.html` for a client-side route. Missing files under `/assets/`
/// are 404s (a stale page asking for an old asset must not get HTML as script).
fn embedded(path: &str, headers: &HeaderMap) -> Response {
    let asset = EMBEDDED
        .iter()
        .find(|a| a.path == path && path != "/index.html")
        .or_else(|| {
            (!path.starts_with("/assets/"))
                .then(|| EMBEDDED.iter().find(|a| a.path == "/index.html"))
                .flatten()
        });
    let Some(asset) = asset else {
        return not_found();
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type(asset.path))
        .header(header::ETAG, asset.etag)
        // Revalidate every time: asset names carry no hash, and a 304 is cheap.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "accept-encoding");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag));
    if fresh {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| not_found());
    }
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let body = match asset.gzip {
        Some(gz) if gzip_ok => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            gz
        }
        _ => asset.body,
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| not_found())
}

/// Whether an `Accept-Encoding` value allows gzip (`q=0` refuses it).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|part| {
        let mut it = part.split(';').map(str::trim);
        let name = it.next().unwrap_or("");
        let refused = it.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// Content type by extension (the build holds only these kinds).
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
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
<p>The collector is running. This binary was built without the admin UI
(<code>TRACEWIRE_SKIP_UI_BUILD</code>) and no <code>--ui-dir</code> with an
<code>index.html</code> was given.</p>
<ul>
<li>Ingest: <code>POST /api/v1/logging/logs</code></li>
<li>Query: <code>POST /api/v1/auth/login</code>, then <code>GET /api/v1/logging/logs</code></li>
<li>Health: <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
</ul></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
    }

    #[test]
    fn assets_get_their_types() {
        assert_eq!(content_type("/assets/x_bg.wasm"), "application/wasm");
        assert_eq!(
            content_type("/assets/boot.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("/index.html"), "text/html; charset=utf-8");
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_no_other_origin() {
        assert!(!UI_CSP.contains("unsafe-inline"));
        assert!(UI_CSP.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(UI_CSP.contains("connect-src 'self';"));
        assert!(UI_CSP.contains("frame-ancestors 'none'"));
    }
}
