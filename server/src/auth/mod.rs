//! Authentication (ARCHITECTURE.md §7): password login against argon2 hashes, opaque session
//! tokens of which only a SHA-256 hash is stored, roles, failed-login throttling and the audit
//! trail of logins and logouts. HTTP glue lives in `http::auth`.
//!
//! - [`throttle`]: the pure failed-login counter.
//! - [`users`]: creating users (`tracewire user add`).

pub mod throttle;
pub mod users;

use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::store::{AuditRecord, SessionRecord, Store, UserRecord};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use throttle::Throttle;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tracewire_session";
/// How long a session lasts (7 days).
pub const SESSION_TTL_US: i64 = 7 * 24 * 3600 * 1_000_000;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Read only.
    Viewer,
}

/// An authenticated user, as handlers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    /// User id.
    pub id: Uuid,
    /// Login name; the actor of audit rows.
    pub username: String,
    /// Role.
    pub role: Role,
}

impl Principal {
    fn from_record(u: &UserRecord) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            // The schema's CHECK allows only these two; anything else gets the lesser right.
            role: if u.role == "admin" {
                Role::Admin
            } else {
                Role::Viewer
            },
        }
    }
}

/// Login, sessions and audit; one per collector, shared by every request.
pub struct AuthService {
    store: Arc<dyn Store>,
    throttle: Mutex<Throttle>,
    /// Hash verified when the username does not exist, so timing does not reveal usernames.
    dummy_hash: OnceCell<String>,
}

/// SHA-256 of a session token, hex: what the `sessions` table stores.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_token() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::Internal(format!("password check task failed: {e}")))
}

impl AuthService {
    /// A service over `store` with an empty throttle.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            throttle: Mutex::new(Throttle::default()),
            dummy_hash: OnceCell::new(),
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        // A panic while holding this lock leaves only counters behind; keep using them.
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks the password and opens a session; returns the token (shown once) and the user.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<(String, Principal)> {
        let key = Throttle::key(username, client);
        if let Err(retry_after_secs) = self.throttle().check(&key, now_us()) {
            return Err(Error::RateLimited { retry_after_secs });
        }
        let user = self.store.find_user_by_name(username).await?;
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => self.dummy_hash().await?,
        };
        let valid = verify_password(password.to_owned(), hash).await?;
        let user = match user {
            Some(u) if valid && !u.disabled => u,
            _ => {
                self.throttle().fail(&key, now_us());
                self.audit(
                    username,
                    "auth.login_failed",
                    None,
                    json!({"client": client}),
                )
                .await?;
                return Err(Error::Unauthorized("invalid username or password"));
            }
        };
        self.throttle().succeed(&key);
        let token = new_token();
        let now = now_us();
        self.store
            .insert_session(&SessionRecord {
                id: Uuid::now_v7(),
                token_hash: token_hash(&token),
                user_id: user.id,
                created_at: now,
                expires_at: now + SESSION_TTL_US,
            })
            .await?;
        self.audit(
            &user.username,
            "auth.login",
            None,
            json!({"client": client}),
        )
        .await?;
        Ok((token, Principal::from_record(&user)))
    }

    async fn dummy_hash(&self) -> Result<String> {
        self.dummy_hash
            .get_or_try_init(|| async {
                crate::bootstrap::hash_password("not a password".into())
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))
            })
            .await
            .cloned()
    }

    /// The user of a live session token.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        match self
            .store
            .find_session_user(&token_hash(token), now_us())
            .await?
        {
            Some(u) if !u.disabled => Ok(Principal::from_record(&u)),
            _ => Err(Error::Unauthorized("session expired or unknown")),
        }
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, user: &Principal, token: &str) -> Result<()> {
        self.store.delete_session(&token_hash(token)).await?;
        self.audit(&user.username, "auth.logout", None, json!({}))
            .await
    }

    /// Appends an audit row (ARCHITECTURE.md §7: who viewed or changed what).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<String>,
        details: Value,
    ) -> Result<()> {
        self.store
            .insert_audit(&AuditRecord {
                actor: actor.to_owned(),
                action: action.to_owned(),
                target,
                details,
            })
            .await?;
        Ok(())
    }
}
