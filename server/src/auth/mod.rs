//! Authentication (ARCHITECTURE.md §7): password login against argon2 hashes, opaque session
//! tokens of which only a SHA-256 hash is stored, roles, failed-login throttling and the audit
//! trail of logins and logouts. HTTP glue lives in `http::auth`.
//!
//! - [`throttle`]: the pure failed-login counter.
//! - [`users`]: creating users (`tracewire user add`).
//! - [`proxy`]: the client address behind trusted reverse proxies.
//! - [`origin`]: the same-origin check of cookie-authenticated writes.
//! - [`password`]: Argon2 checks under a concurrency bound, in pooled memory.
//!
//! A password check costs Argon2's 19 MiB and tens of milliseconds of CPU, and anyone can ask
//! for one. So login reserves its attempt in the throttle first (the lockout is decided before
//! the check, see [`throttle`]), then waits for one of a few check permits in a bounded queue;
//! when the queue is full it answers 429 at once instead of queueing without bound.

pub mod origin;
pub mod password;
pub mod proxy;
pub mod throttle;
pub mod users;

use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::store::{AuditRecord, SessionRecord, Store, UserRecord};
use password::PasswordChecker;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use throttle::{Throttle, ThrottleKey};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Name of the session cookie the login sets; `Authorization: Bearer` carries the same token.
pub const SESSION_COOKIE: &str = "tracewire_session";
/// How long a session lasts (7 days).
pub const SESSION_TTL_US: i64 = 7 * 24 * 3600 * 1_000_000;
/// Longest username a login may name, in bytes; longer ones are refused before any work.
pub const MAX_LOGIN_USERNAME_BYTES: usize = 256;
/// Characters of an attempted username kept in `audit_logs`.
pub const AUDIT_USERNAME_CHARS: usize = 64;

/// How many password checks run at once and how many logins may wait for one.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Concurrent Argon2 checks (each holds 19 MiB while it runs).
    pub concurrency: usize,
    /// Logins waiting for a check slot before further ones get 429.
    pub queue: usize,
}

impl LoginLimits {
    /// `concurrency` 0 means the machine's available parallelism; both are at least 1.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            concurrency
        };
        Self {
            concurrency: concurrency.max(1),
            queue: queue.max(1),
        }
    }
}

/// The attempted username as `audit_logs` keeps it: at most [`AUDIT_USERNAME_CHARS`]
/// characters, with a visible mark when it was cut.
pub fn audit_username(username: &str) -> String {
    match username.char_indices().nth(AUDIT_USERNAME_CHARS) {
        Some((cut, _)) => format!("{}…(truncated)", &username[..cut]),
        None => username.to_owned(),
    }
}

/// What a user may do (the API's type, so answers cannot spell it differently).
pub use tracewire_shared::api::Role;

/// An authenticated user, as handlers see it (the API shows it as [`tracewire_shared::api::User`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The user's row id; the sessions of this user point at it.
    pub id: Uuid,
    /// Login name; the actor of audit rows.
    pub username: String,
    /// Admin or viewer; a role the store does not know reads as viewer.
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
    /// Bounded, pooled Argon2 checks.
    checks: PasswordChecker,
}

/// A throttle reservation; dropped unsettled (busy, client gone, storage error) it is released
/// without counting.
struct Reservation<'a> {
    throttle: &'a Mutex<Throttle>,
    key: ThrottleKey,
    settled: bool,
}

impl Reservation<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Throttle> {
        // A panic while holding this lock leaves only counters behind; keep using them.
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fail(mut self) {
        self.settled = true;
        self.lock().fail(self.key, now_us());
    }

    fn succeed(mut self) {
        self.settled = true;
        self.lock().succeed(self.key, now_us());
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.lock().release(self.key);
        }
    }
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

impl AuthService {
    /// A service over `store` with an empty throttle and `limits` on password checks.
    pub fn new(store: Arc<dyn Store>, limits: LoginLimits) -> Self {
        Self {
            store,
            throttle: Mutex::new(Throttle::default()),
            dummy_hash: OnceCell::new(),
            checks: PasswordChecker::new(limits),
        }
    }

    /// Reserves an attempt of `username` from `client` before any work is done.
    fn reserve(&self, username: &str, client: &str) -> Result<Reservation<'_>> {
        let key = Throttle::key(username, client);
        let mut throttle = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        throttle
            .begin(key, now_us())
            .map_err(|retry_after_secs| Error::RateLimited { retry_after_secs })?;
        Ok(Reservation {
            throttle: &self.throttle,
            key,
            settled: false,
        })
    }

    /// Checks the password and opens a session; returns the token (shown once) and the user.
    /// `username` must already be within [`MAX_LOGIN_USERNAME_BYTES`].
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<(String, Principal)> {
        let reservation = self.reserve(username, client)?;
        // Failures other collectors on this database counted lock the pair out here too.
        let shared_key = reservation.key.hex();
        let now = now_us();
        if let Some(until) = self.store.login_locked_until(&shared_key, now).await? {
            let secs = (until - now + 999_999) / 1_000_000;
            return Err(Error::RateLimited {
                retry_after_secs: u64::try_from(secs).unwrap_or(1).max(1),
            });
        }
        let slot = self.checks.slot().await?;
        let user = self.store.find_user_by_name(username).await?;
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => self.dummy_hash().await?,
        };
        let valid = slot.verify(password.to_owned(), hash).await?;
        let user = match user {
            Some(u) if valid && !u.disabled => u,
            _ => {
                reservation.fail();
                self.store
                    .record_login_failure(
                        &shared_key,
                        now_us(),
                        i64::from(throttle::MAX_FAILURES),
                        throttle::LOCKOUT_US,
                    )
                    .await?;
                self.audit(
                    &audit_username(username),
                    "auth.login_failed",
                    None,
                    json!({"client": client, "username_bytes": username.len()}),
                )
                .await?;
                return Err(Error::Unauthorized("invalid username or password"));
            }
        };
        reservation.succeed();
        self.store.clear_login_failures(&shared_key).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audited_usernames_are_cut_and_marked() {
        assert_eq!(audit_username("admin"), "admin");
        let exact = "a".repeat(AUDIT_USERNAME_CHARS);
        assert_eq!(audit_username(&exact), exact);
        let long = "é".repeat(1000);
        let cut = audit_username(&long);
        assert!(cut.starts_with(&"é".repeat(AUDIT_USERNAME_CHARS)));
        assert!(cut.ends_with("…(truncated)"));
        assert_eq!(
            cut.chars().count(),
            AUDIT_USERNAME_CHARS + "…(truncated)".len() - 2
        );
    }

    #[test]
    fn login_limits_are_at_least_one() {
        let l = LoginLimits::new(0, 0);
        assert!(l.concurrency >= 1);
        assert_eq!(l.queue, 1);
        assert_eq!(LoginLimits::new(3, 7).concurrency, 3);
    }
}
