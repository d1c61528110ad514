//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`, and the
//! extractors every protected handler uses: [`CurrentUser`] (session cookie or
//! `Authorization: Bearer`) and [`RequireAdmin`] (writes).
//!
//! Cookie-authenticated writes pass the same-origin check of [`crate::auth::origin`] inside
//! [`CurrentUser`], so every write route has it without opting in.

use super::extract::AppJson;
use crate::auth::origin::RequestOrigin;
use crate::auth::proxy::client_ip;
use crate::auth::{MAX_LOGIN_USERNAME_BYTES, Principal, Role, SESSION_COOKIE, SESSION_TTL_US};
use crate::error::{Error, Result};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::SocketAddr;
use tracewire_shared::api::{LoginRequest, LoginResponse, Me, User};
use tracewire_shared::validate::FieldError;

/// Largest login body: a username within [`MAX_LOGIN_USERNAME_BYTES`] and any sane password fit
/// many times over; anything bigger is refused before it is read.
pub const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// `/api/v1/auth/{login,logout,me}`; only `login` works without a session.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(post_login))
        .route("/api/v1/auth/logout", post(post_logout))
        .route("/api/v1/auth/me", get(get_me))
}

/// The authenticated caller; rejects with 401 when there is no live session, and with 403 a
/// cookie-authenticated write from another origin.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The session's user; handlers take the audit actor and the role from it.
    pub user: Principal,
    /// The token that authenticated the request (for logout and the live tail's re-checks).
    token: String,
}

impl CurrentUser {
    /// The session token of this request.
    pub(super) fn token(&self) -> &str {
        &self.token
    }
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    /// `Authorization: Bearer`: only scripts send it, a browser never adds it on its own.
    Bearer,
    /// The session cookie: a browser attaches it to requests other sites make it send.
    Cookie,
}

/// An authenticated admin; rejects viewers with 403.
#[derive(Debug, Clone)]
pub struct RequireAdmin(pub CurrentUser);

/// The token from `Authorization: Bearer` or, failing that, the session cookie.
fn request_token(headers: &HeaderMap) -> Option<(String, Credential)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(t) = bearer {
        return Some((t.to_owned(), Credential::Bearer));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| (value.to_owned(), Credential::Cookie))
}

/// Methods that change state; GET, HEAD and OPTIONS must not.
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the request says about its origin: `Origin`, `Referer` and the `Host` it was sent to
/// (the URI's authority for HTTP/2, which has no `Host` header).
fn request_origin(parts: &Parts) -> RequestOrigin<'_> {
    RequestOrigin {
        origin: header_str(&parts.headers, header::ORIGIN),
        referer: header_str(&parts.headers, header::REFERER),
        host: header_str(&parts.headers, header::HOST)
            .or_else(|| parts.uri.authority().map(|a| a.as_str())),
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let (token, credential) =
            request_token(&parts.headers).ok_or(Error::Unauthorized("authentication required"))?;
        if credential == Credential::Cookie
            && is_write(&parts.method)
            && !request_origin(parts).is_same_origin(state.config.public_url.as_ref())
        {
            return Err(Error::CsrfRejected);
        }
        let user = state.auth.authenticate(&token).await?;
        Ok(Self { user, token })
    }
}

impl FromRequestParts<AppState> for RequireAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if current.user.role != Role::Admin {
            return Err(Error::Forbidden);
        }
        Ok(Self(current))
    }
}

/// The client address, for throttling and audit: the peer, or behind a trusted proxy the
/// address it forwarded ("unknown" when served without connect info).
pub(super) fn client_address(parts: &Parts, state: &AppState) -> String {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return "unknown".to_owned();
    };
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    client_ip(peer.ip(), forwarded, &state.config.trusted_proxies).to_string()
}

/// The client's address as an extractor.
pub(super) struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        Ok(Self(client_address(parts, state)))
    }
}

/// The login's origin check: a login form posted from another site is refused (login CSRF);
/// clients that send no `Origin` (scripts, curl) are not browsers and may log in.
struct LoginOrigin;

impl FromRequestParts<AppState> for LoginOrigin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let origin = request_origin(parts);
        if origin.is_declared() && !origin.is_same_origin(state.config.public_url.as_ref()) {
            return Err(Error::CsrfRejected);
        }
        Ok(Self)
    }
}

/// The session cookie; `secure` adds the `Secure` attribute (`--secure-cookies`).
fn session_cookie(value: &str, max_age_s: i64, secure: bool) -> Result<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .map_err(|e| Error::Internal(e.to_string()))
}

/// The username's checks, before any work: present, and not longer than
/// [`MAX_LOGIN_USERNAME_BYTES`].
fn check_login(login: &LoginRequest) -> Result<()> {
    if login.username.trim().is_empty() || login.password.is_empty() {
        return Err(Error::Validation(vec![FieldError::new(
            "username",
            "username and password are required",
        )]));
    }
    if login.username.len() > MAX_LOGIN_USERNAME_BYTES {
        return Err(Error::Validation(vec![FieldError::new(
            "username",
            format!("at most {MAX_LOGIN_USERNAME_BYTES} bytes"),
        )]));
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body(content = LoginRequest, description = "Username and password"),
    responses(
        (status = 200, description = "Signed in: the token (also set as the HttpOnly session cookie) and the user", body = LoginResponse, headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 401, description = "Wrong username or password (`unauthorized`)", body = tracewire_shared::wire::ErrorEnvelope),
        (status = 403, description = "The Origin or Referer is not this collector (`csrf_rejected`)", body = tracewire_shared::wire::ErrorEnvelope),
        (status = 429, description = "Too many failed sign-ins for this user or address; retry after `Retry-After` seconds", body = tracewire_shared::wire::ErrorEnvelope),
    ),
)]
async fn post_login(
    State(state): State<AppState>,
    _origin: LoginOrigin,
    ClientAddress(client): ClientAddress,
    AppJson(login): AppJson<LoginRequest, LOGIN_BODY_LIMIT>,
) -> Result<Response> {
    check_login(&login)?;
    let (token, user) = state
        .auth
        .login(login.username.trim(), &login.password, &client)
        .await?;
    let cookie = session_cookie(
        &token,
        SESSION_TTL_US / 1_000_000,
        state.config.secure_cookies,
    )?;
    let mut response = Json(LoginResponse {
        token,
        user: User::from(&user),
    })
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Signed out: the session is revoked and the cookie cleared"),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn post_logout(State(state): State<AppState>, current: CurrentUser) -> Result<Response> {
    state.auth.logout(&current.user, &current.token).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.config.secure_cookies)?,
    );
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = Me),
    ),
    security(("session" = []), ("bearer" = []))
)]
async fn get_me(current: CurrentUser) -> Json<Me> {
    Json(Me {
        user: User::from(&current.user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_wins_over_cookie_and_cookies_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; tracewire_session=abc; c=d"),
        );
        assert_eq!(
            request_token(&h),
            Some(("abc".to_owned(), Credential::Cookie))
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(
            request_token(&h),
            Some(("xyz".to_owned(), Credential::Bearer))
        );
        assert_eq!(request_token(&HeaderMap::new()), None);
    }

    #[test]
    fn login_usernames_are_bounded() {
        let body = |u: &str| LoginRequest {
            username: u.to_owned(),
            password: "p".into(),
        };
        assert!(check_login(&body("admin")).is_ok());
        assert!(check_login(&body(&"a".repeat(MAX_LOGIN_USERNAME_BYTES))).is_ok());
        assert!(matches!(
            check_login(&body(&"a".repeat(MAX_LOGIN_USERNAME_BYTES + 1))),
            Err(Error::Validation(_))
        ));
        assert!(matches!(check_login(&body(" ")), Err(Error::Validation(_))));
    }

    #[test]
    fn cookies_are_secure_when_asked() {
        let plain = session_cookie("t", 60, false).expect("cookie");
        assert!(!plain.to_str().expect("ascii").contains("Secure"));
        let secure = session_cookie("t", 60, true).expect("cookie");
        assert!(secure.to_str().expect("ascii").ends_with("; Secure"));
    }
}
