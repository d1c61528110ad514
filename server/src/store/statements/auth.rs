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
