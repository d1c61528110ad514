//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`, and the
//! extractors every protected handler uses: [`CurrentUser`] (session cookie or
//! `Authorization: Bearer`) and [`RequireAdmin`] (writes).

use crate::auth::{Principal, Role, SESSION_COOKIE, SESSION_TTL_US};
use crate::error::{Error, Result};
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use tracewire_shared::validate::FieldError;

/// The auth routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(post_login))
        .route("/api/v1/auth/logout", post(post_logout))
        .route("/api/v1/auth/me", get(get_me))
}

/// The authenticated caller; rejects with 401 when there is no live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who is calling.
    pub user: Principal,
    /// The token that authenticated the request (for logout).
    token: String,
}

/// An authenticated admin; rejects viewers with 403.
#[derive(Debug, Clone)]
pub struct RequireAdmin(pub CurrentUser);

/// The token from `Authorization: Bearer` or, failing that, the session cookie.
fn request_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(t) = bearer {
        return Some(t.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token =
            request_token(&parts.headers).ok_or(Error::Unauthorized("authentication required"))?;
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

/// The peer address, for throttling and audit ("unknown" when served without connect info).
pub(super) fn client_address(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The client's address as an extractor.
pub(super) struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        Ok(Self(client_address(&parts.extensions)))
    }
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// Parses a JSON body into our envelope's errors (malformed → 400, wrong shape → 422).
pub(super) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::MalformedJson(e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::Validation(vec![FieldError::new(path, e.inner().to_string())])
    })
}

fn session_cookie(value: &str, max_age_s: i64) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}"
    ))
    .map_err(|e| Error::Internal(e.to_string()))
}

async fn post_login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    super::BodyBytes(body): super::BodyBytes,
) -> Result<Response> {
    let login: LoginBody = parse_json(&body)?;
    if login.username.trim().is_empty() || login.password.is_empty() {
        return Err(Error::Validation(vec![FieldError::new(
            "username",
            "username and password are required",
        )]));
    }
    let (token, user) = state
        .auth
        .login(login.username.trim(), &login.password, &client)
        .await?;
    let cookie = session_cookie(&token, SESSION_TTL_US / 1_000_000)?;
    let mut response = Json(json!({"token": token, "user": user})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn post_logout(State(state): State<AppState>, current: CurrentUser) -> Result<Response> {
    state.auth.logout(&current.user, &current.token).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0)?);
    Ok(response)
}

async fn get_me(current: CurrentUser) -> Json<serde_json::Value> {
    Json(json!({"user": current.user}))
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
        assert_eq!(request_token(&h).as_deref(), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(request_token(&h).as_deref(), Some("xyz"));
        assert_eq!(request_token(&HeaderMap::new()), None);
    }
}
