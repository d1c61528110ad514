//! The store of sign-in: users, sessions and the audit trail. A supertrait of [`super::Store`]
//! so auth code can be read (and its SQL, `statements/auth.rs`) apart from logs.

use super::StoreResult;
use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

/// A user as login and session checks need it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRecord {
    /// Row id; what [`SessionRecord::user_id`] points at.
    pub id: Uuid,
    /// Login name, unique among users; also the `actor` of the user's audit rows.
    pub username: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `admin` or `viewer`.
    pub role: String,
    /// Disabled users cannot log in and their sessions stop working.
    pub disabled: bool,
}

/// A session to store; only the token's hash is kept, so a database leak yields no sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Row id, a fresh UUIDv7 (time-ordered); the token itself is never stored.
    pub id: Uuid,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The signed-in user; the session stops working when that user is disabled.
    pub user_id: Uuid,
    /// Sign-in time, microseconds since the epoch.
    pub created_at: i64,
    /// After this the token is refused.
    pub expires_at: i64,
}

/// One `audit_logs` row: who did what to which target.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Username, or the attempted username for failed logins.
    pub actor: String,
    /// e.g. `auth.login`, `logs.query`.
    pub action: String,
    /// The object acted on, when there is one.
    pub target: Option<String>,
    /// Filters, row counts, client address.
    pub details: Value,
}

/// Users, sessions and the audit trail.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// The user named `username`, if any.
    async fn find_user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Stores a new session; a token hash already stored is a `Conflict` (the column is unique).
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The user of an unexpired session with this token hash.
    async fn find_session_user(
        &self,
        token_hash: &str,
        now_us: i64,
    ) -> StoreResult<Option<UserRecord>>;
    /// Deletes sessions that expired before `now_us`; returns how many.
    async fn prune_sessions(&self, now_us: i64) -> StoreResult<u64>;
    /// Ends a session; unknown hashes are not an error.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Replaces a user's password hash and ends every session of that user, in one
    /// transaction (whoever knew the old password is logged out); false when no such user.
    async fn set_password(&self, user_id: uuid::Uuid, password_hash: &str) -> StoreResult<bool>;
    /// Appends an audit row, stamped with the collector's clock and a fresh id.
    async fn insert_audit(&self, record: &AuditRecord) -> StoreResult<()>;
    /// Until when the (username, address) of `throttle_key` is locked out by failures recorded
    /// by any collector on this database; `None` when it is not locked now.
    async fn login_locked_until(&self, throttle_key: &str, now_us: i64)
    -> StoreResult<Option<i64>>;
    /// Counts one failed sign-in: the count restarts when its window (`lockout_us`) has passed or
    /// a lockout ended, and reaching `max_failures` locks the key until `now_us + lockout_us`.
    /// Also forgets keys whose window and lockout are both over.
    async fn record_login_failure(
        &self,
        throttle_key: &str,
        now_us: i64,
        max_failures: i64,
        lockout_us: i64,
    ) -> StoreResult<()>;
    /// Forgets the failures of a key that just signed in.
    async fn clear_login_failures(&self, throttle_key: &str) -> StoreResult<()>;
}
