//! HTTP to the collector, typed by `tracewire_shared::api`. Requests carry the session cookie
//! (same origin, HttpOnly: the UI never sees or stores the token). A 401 from any call means
//! the session ended: the page goes to sign-in with the current URL kept, so signing in again
//! returns to the same view.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracewire_shared::api::ErrorEnvelope;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

/// Why a call failed, in words for an error panel.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No live session (already redirecting to sign-in).
    Unauthorized,
    /// The collector answered with its error envelope (or a bare status).
    Status {
        /// HTTP status.
        status: u16,
        /// The envelope's message.
        message: String,
        /// The envelope's field details of a 422 (empty otherwise), for messages next to the
        /// fields of a form.
        fields: Vec<tracewire_shared::validate::FieldError>,
    },
    /// The request never got an answer (collector down, network gone).
    Network(String),
    /// The answer was not the expected JSON.
    Decode(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unauthorized => write!(f, "Your session has ended. Please sign in again."),
            ApiError::Status {
                status, message, ..
            } => write!(f, "{message} (HTTP {status})"),
            ApiError::Network(m) => write!(f, "Cannot reach the collector: {m}"),
            ApiError::Decode(m) => write!(f, "Unexpected answer from the collector: {m}"),
        }
    }
}

fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "request failed".to_owned())
}

/// A path with its query parameters percent-encoded.
pub fn with_params(path: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", crate::query::encode_pairs(params))
    }
}

/// Sends one request and returns the raw response when its status is 2xx.
pub async fn send_raw(
    method: &str,
    url: &str,
    body: Option<String>,
    redirect_on_401: bool,
) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(b) = &body {
        init.set_body(&JsValue::from_str(b));
    }
    let request =
        Request::new_with_str_and_init(url, &init).map_err(|e| ApiError::Network(js_text(&e)))?;
    if body.is_some() {
        let _ = request.headers().set("Content-Type", "application/json");
    }
    request
        .headers()
        .set("Accept", "application/json")
        .map_err(|e| ApiError::Network(js_text(&e)))?;
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let answer = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| ApiError::Network(js_text(&e)))?;
    let response: Response = answer
        .dyn_into()
        .map_err(|_| ApiError::Network("not a response".into()))?;
    let status = response.status();
    if status == 401 {
        if redirect_on_401 {
            to_sign_in();
        }
        return Err(ApiError::Unauthorized);
    }
    if !(200..300).contains(&status) {
        let text = text_of(&response).await.unwrap_or_default();
        let (message, fields) = match serde_json::from_str::<ErrorEnvelope>(&text) {
            Ok(e) => (
                e.error.message,
                e.error
                    .details
                    .and_then(|d| serde_json::from_value(d).ok())
                    .unwrap_or_default(),
            ),
            Err(_) => (response.status_text(), Vec::new()),
        };
        return Err(ApiError::Status {
            status,
            message,
            fields,
        });
    }
    Ok(response)
}

/// The body of a response as text.
pub async fn text_of(response: &Response) -> Result<String, ApiError> {
    let promise = response
        .text()
        .map_err(|e| ApiError::Network(js_text(&e)))?;
    let v = JsFuture::from(promise)
        .await
        .map_err(|e| ApiError::Network(js_text(&e)))?;
    Ok(v.as_string().unwrap_or_default())
}

/// `GET path?params` decoded as `T`.
pub async fn get<T: DeserializeOwned>(
    path: &str,
    params: &[(String, String)],
) -> Result<T, ApiError> {
    let response = send_raw("GET", &with_params(path, params), None, true).await?;
    let text = text_of(&response).await?;
    serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `method path` with a JSON body, answer decoded as `T`.
pub async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &B,
    redirect_on_401: bool,
) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    let response = send_raw(method, path, Some(body), redirect_on_401).await?;
    let text = text_of(&response).await?;
    serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `GET /api/v1/logging/exceptions/{id}`. `ExceptionDetail` flattens the group into the
/// object, and serde's flatten support buffers every field through a generic content tree
/// (~15 KB of wasm); reading the group and the occurrences as two plain structs from the same
/// text gives the same value without it.
pub async fn get_exception(id: &str) -> Result<tracewire_shared::api::ExceptionDetail, ApiError> {
    #[derive(serde::Deserialize)]
    struct Recent {
        recent_occurrences: Vec<tracewire_shared::api::Occurrence>,
    }
    let path = format!(
        "/api/v1/logging/exceptions/{}",
        crate::query::encode_component(id)
    );
    let response = send_raw("GET", &path, None, true).await?;
    let text = text_of(&response).await?;
    let group = serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))?;
    let recent: Recent =
        serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))?;
    Ok(tracewire_shared::api::ExceptionDetail {
        group,
        recent_occurrences: recent.recent_occurrences,
    })
}

/// The current in-app URL (path and query), for returning after sign-in.
pub fn current_url() -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.pathname().ok()?, l.search().ok()?))
        })
        .unwrap_or_else(|| "/".to_owned())
}

thread_local! {
    /// Set once the page is leaving for sign-in: panels that load in parallel all answer 401,
    /// and a second `location.assign` would abort the navigation the first one started.
    static LEAVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Leaves for the sign-in page, keeping the current URL (unless already there or leaving).
pub fn to_sign_in() {
    let here = current_url();
    if here.starts_with("/login") || LEAVING.with(|l| l.replace(true)) {
        return;
    }
    let target = format!("/login?next={}", crate::query::encode_component(&here));
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(&target);
    }
}

/// Microseconds since the epoch, from the browser clock.
pub fn now_us() -> i64 {
    (js_sys::Date::now() * 1000.0) as i64
}

/// The browser zone's offset east of UTC, in minutes, at `us` (DST differs per instant).
pub fn local_offset_min(us: i64) -> i32 {
    let d = js_sys::Date::new(&JsValue::from_f64(us as f64 / 1000.0));
    -(d.get_timezone_offset() as i32)
}

/// Writes `text` to the clipboard (best effort: browsers refuse without a user gesture).
pub fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}
