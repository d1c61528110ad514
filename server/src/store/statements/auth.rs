//! [`AuthStore`] for one backend: users, sessions and the audit trail. Compiled once per
//! backend (see [`crate::store::dialect`]), with `Db` and `This` naming its driver and store.

use super::{Db, This};
use crate::store::dialect::Dialect;
use crate::store::{self, AuthStore};

#[async_trait::async_trait]
impl AuthStore for This {
    async fn find_user_by_name(
        &self,
        username: &str,
    ) -> store::StoreResult<Option<store::UserRecord>> {
        Ok(sqlx::query_as::<Db, store::UserRecord>(
            "SELECT id, username, password_hash, role, disabled FROM users \
             WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool())
        .await?)
    }

    async fn insert_session(&self, s: &store::SessionRecord) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.id)
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn find_session_user(
        &self,
        token_hash: &str,
        now_us: i64,
    ) -> store::StoreResult<Option<store::UserRecord>> {
        Ok(sqlx::query_as::<Db, store::UserRecord>(
            "SELECT u.id, u.username, u.password_hash, u.role, u.disabled \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_us)
        .fetch_optional(self.pool())
        .await?)
    }

    async fn login_locked_until(
        &self,
        throttle_key: &str,
        now_us: i64,
    ) -> store::StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar::<Db, i64>(
            "SELECT locked_until FROM login_failures \
             WHERE throttle_key = $1 AND locked_until > $2",
        )
        .bind(throttle_key)
        .bind(now_us)
        .fetch_optional(self.pool())
        .await?)
    }

    async fn record_login_failure(
        &self,
        throttle_key: &str,
        now_us: i64,
        max_failures: i64,
        lockout_us: i64,
    ) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "DELETE FROM login_failures WHERE window_start <= $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(now_us - 2 * lockout_us)
        .bind(now_us)
        .execute(self.write_pool())
        .await?;
        // `restart`: the stored window is over, or its lockout ended; the count starts again.
        // On the right of SET, `login_failures.` names the row as it was.
        sqlx::query::<Db>(
            "INSERT INTO login_failures (throttle_key, failures, window_start, locked_until) \
             VALUES ($1, 1, $2, CASE WHEN 1 >= $3 THEN $2 + $4 ELSE NULL END) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               failures = CASE WHEN login_failures.window_start <= $2 - $4 \
                   OR login_failures.locked_until <= $2 THEN 1 \
                   ELSE login_failures.failures + 1 END, \
               window_start = CASE WHEN login_failures.window_start <= $2 - $4 \
                   OR login_failures.locked_until <= $2 THEN $2 \
                   ELSE login_failures.window_start END, \
               locked_until = CASE WHEN login_failures.window_start <= $2 - $4 \
                   OR login_failures.locked_until <= $2 \
                   THEN (CASE WHEN 1 >= $3 THEN $2 + $4 ELSE NULL END) \
                   WHEN login_failures.failures + 1 >= $3 THEN $2 + $4 \
                   ELSE login_failures.locked_until END",
        )
        .bind(throttle_key)
        .bind(now_us)
        .bind(max_failures)
        .bind(lockout_us)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, throttle_key: &str) -> store::StoreResult<()> {
        sqlx::query::<Db>("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(throttle_key)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn prune_sessions(&self, now_us: i64) -> store::StoreResult<u64> {
        Ok(
            sqlx::query::<Db>("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now_us)
                .execute(self.write_pool())
                .await?
                .rows_affected(),
        )
    }

    async fn delete_session(&self, token_hash: &str) -> store::StoreResult<()> {
        sqlx::query::<Db>("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn set_password(
        &self,
        user_id: uuid::Uuid,
        password_hash: &str,
    ) -> store::StoreResult<bool> {
        let mut tx = self.write_pool().begin().await?;
        let updated = sqlx::query::<Db>("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query::<Db>("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(updated == 1)
    }

    async fn insert_audit(&self, a: &store::AuditRecord) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO audit_logs (id, timestamp, actor, action, target, details) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(crate::clock::now_us())
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.target)
        .bind(sqlx::types::Json(&a.details))
        .execute(self.write_pool())
        .await?;
        Ok(())
    }
}
