//! [`AlertStore`] for one backend: rules, states, the history outbox and the exception reads
//! of exception conditions. Compiled once per backend (see [`crate::store::dialect`]); dynamic
//! filters go through sqlx's `QueryBuilder`, which numbers placeholders for either driver.

use super::{Db, This};
use crate::store::dialect::Dialect;
use crate::store::read_sql::bind_all;
use crate::store::{self, AlertStore};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use tracewire_shared::api::monitoring::ChannelOutcome;
use uuid::Uuid;

const RULE_SELECT: &str = "SELECT r.id, r.project_id, r.name, r.description, r.enabled, \
    r.severity, r.condition, r.operator, r.threshold, r.window_minutes, r.pending_evaluations, \
    r.throttle_minutes, r.mute_until, r.channels, r.created_at, r.updated_at, s.data AS state \
    FROM alert_configs r LEFT JOIN alert_states s ON s.rule_id = r.id";

const HISTORY_COLUMNS: &str = "id, rule_id, rule_name, severity, kind, state, value, threshold, \
    triggered_at, notification_sent, notification_status, delivery, message, payload, \
    acknowledged_at, acknowledged_by, acknowledge_note";

const INSERT_HISTORY: &str = "INSERT INTO alert_history (id, rule_id, rule_name, severity, \
    kind, state, value, threshold, triggered_at, notification_sent, notification_status, \
    delivery, message, payload, acknowledged_at, acknowledged_by, acknowledge_note) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";

/// Sample rows an exception condition reads for its message.
const SAMPLE_ROWS: i64 = crate::alerting::message::MAX_SAMPLES as i64;

async fn insert_history<'e, E>(executor: E, h: &store::HistoryRecord) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query::<Db>(INSERT_HISTORY)
        .bind(h.id)
        .bind(h.rule_id)
        .bind(&h.rule_name)
        .bind(&h.severity)
        .bind(&h.kind)
        .bind(&h.state)
        .bind(h.value)
        .bind(h.threshold)
        .bind(h.triggered_at)
        .bind(h.notification_sent)
        .bind(&h.notification_status)
        .bind(&h.delivery)
        .bind(&h.message)
        .bind(&h.payload)
        .bind(h.acknowledged_at)
        .bind(&h.acknowledged_by)
        .bind(&h.acknowledge_note)
        .execute(executor)
        .await?;
    Ok(())
}

/// The filters of a history page; the keyset position only when `with_cursor`.
fn push_history_filters(
    qb: &mut QueryBuilder<'_, Db>,
    f: &store::HistoryFilter,
    with_cursor: bool,
) {
    qb.push(" WHERE 1 = 1");
    if let Some(rule) = f.rule_id {
        qb.push(" AND rule_id = ").push_bind(rule);
    }
    if let Some(kind) = &f.kind {
        qb.push(" AND kind = ").push_bind(kind.clone());
    }
    // A residual filter on the time-ordered scan: three values, so an index would not pay.
    if !f.severities.is_empty() {
        qb.push(" AND severity IN (");
        let mut list = qb.separated(", ");
        for severity in &f.severities {
            list.push_bind(severity.clone());
        }
        qb.push(")");
    }
    match f.acknowledged {
        Some(true) => {
            qb.push(" AND acknowledged_at IS NOT NULL");
        }
        Some(false) => {
            qb.push(" AND acknowledged_at IS NULL");
        }
        None => {}
    }
    if let Some(from) = f.from_us {
        qb.push(" AND triggered_at >= ").push_bind(from);
    }
    if let Some(to) = f.to_us {
        qb.push(" AND triggered_at <= ").push_bind(to);
    }
    if with_cursor && let Some((time, id)) = f.before {
        qb.push(" AND (triggered_at < ")
            .push_bind(time)
            .push(" OR (triggered_at = ")
            .push_bind(time)
            .push(" AND id < ")
            .push_bind(id)
            .push("))");
    }
}

/// The `FROM … WHERE …` of an exception signal over `[from_us, to_us]`.
fn push_signal_from(
    qb: &mut QueryBuilder<'_, Db>,
    signal: store::ExceptionSignal,
    source: Option<&str>,
    exception_type: Option<&str>,
    from_us: i64,
    to_us: i64,
) {
    let time = match signal {
        store::ExceptionSignal::New => {
            qb.push(" FROM app_exceptions g WHERE ");
            "g.first_received_at"
        }
        store::ExceptionSignal::Regressed => {
            qb.push(" FROM app_exceptions g WHERE ");
            "g.regressed_at"
        }
        store::ExceptionSignal::Occurrences => {
            qb.push(
                " FROM exception_events e JOIN app_exceptions g ON g.id = e.exception_id WHERE ",
            );
            "e.timestamp"
        }
    };
    qb.push(time)
        .push(" >= ")
        .push_bind(from_us)
        .push(" AND ")
        .push(time)
        .push(" <= ")
        .push_bind(to_us);
    match source {
        Some(s) => {
            qb.push(" AND g.source = ").push_bind(s.to_owned());
        }
        // The collector's own 5xx reports count only when asked for, as in every query.
        None => {
            qb.push(" AND g.source <> 'collector'");
        }
    }
    if let Some(t) = exception_type {
        qb.push(" AND g.exception_type = ").push_bind(t.to_owned());
    }
}

#[async_trait::async_trait]
impl AlertStore for This {
    async fn insert_rule(&self, r: &store::AlertRuleRecord) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "INSERT INTO alert_configs (id, project_id, name, description, enabled, severity, \
             condition_type, condition, operator, threshold, window_minutes, \
             pending_evaluations, throttle_minutes, mute_until, channels, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(r.id)
        .bind(r.project_id)
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.enabled)
        .bind(&r.severity)
        .bind(r.condition.type_name())
        .bind(&r.condition)
        .bind(&r.operator)
        .bind(r.threshold)
        .bind(r.window_minutes)
        .bind(r.pending_evaluations)
        .bind(r.throttle_minutes)
        .bind(r.mute_until)
        .bind(&r.channels)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn update_rule(&self, r: &store::AlertRuleRecord) -> store::StoreResult<()> {
        let updated = sqlx::query::<Db>(
            "UPDATE alert_configs SET name = $2, description = $3, enabled = $4, \
             severity = $5, condition_type = $6, condition = $7, operator = $8, \
             threshold = $9, window_minutes = $10, pending_evaluations = $11, \
             throttle_minutes = $12, mute_until = $13, channels = $14, updated_at = $15 \
             WHERE id = $1",
        )
        .bind(r.id)
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.enabled)
        .bind(&r.severity)
        .bind(r.condition.type_name())
        .bind(&r.condition)
        .bind(&r.operator)
        .bind(r.threshold)
        .bind(r.window_minutes)
        .bind(r.pending_evaluations)
        .bind(r.throttle_minutes)
        .bind(r.mute_until)
        .bind(&r.channels)
        .bind(r.updated_at)
        .execute(self.write_pool())
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(store::StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_rule(&self, id: Uuid) -> store::StoreResult<()> {
        let deleted = sqlx::query::<Db>("DELETE FROM alert_configs WHERE id = $1")
            .bind(id)
            .execute(self.write_pool())
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(store::StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_rule(&self, id: Uuid) -> store::StoreResult<store::AlertRuleRecord> {
        Ok(
            sqlx::query_as::<Db, store::AlertRuleRecord>(&format!("{RULE_SELECT} WHERE r.id = $1"))
                .bind(id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    async fn list_rules(&self) -> store::StoreResult<Vec<store::AlertRuleRecord>> {
        Ok(sqlx::query_as::<Db, store::AlertRuleRecord>(&format!(
            "{RULE_SELECT} ORDER BY r.created_at, r.id"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    async fn record_evaluations(
        &self,
        evaluations: &[store::EvaluationRecord],
    ) -> store::StoreResult<usize> {
        let mut tx = self.begin_tx().await?;
        let mut written = 0;
        for e in evaluations {
            let exists: i64 =
                sqlx::query_scalar::<Db, i64>("SELECT COUNT(*) FROM alert_configs WHERE id = $1")
                    .bind(e.rule_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if exists == 0 {
                continue;
            }
            sqlx::query::<Db>(
                "INSERT INTO alert_states (rule_id, state, data, last_evaluated_at, last_value) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule_id) DO UPDATE SET \
                 state = excluded.state, data = excluded.data, \
                 last_evaluated_at = excluded.last_evaluated_at, last_value = excluded.last_value",
            )
            .bind(e.rule_id)
            .bind(e.state.state.as_str())
            .bind(Json(&e.state))
            .bind(e.state.last_evaluated_us)
            .bind(e.state.last_value)
            .execute(&mut *tx)
            .await?;
            if let Some(entry) = &e.entry {
                insert_history(&mut *tx, entry).await?;
                written += 1;
            }
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn insert_history(&self, entry: &store::HistoryRecord) -> store::StoreResult<()> {
        insert_history(self.write_pool(), entry).await?;
        Ok(())
    }

    async fn pending_deliveries(&self) -> store::StoreResult<Vec<store::HistoryRecord>> {
        Ok(sqlx::query_as::<Db, store::HistoryRecord>(&format!(
            "SELECT {HISTORY_COLUMNS} FROM alert_history WHERE delivery = 'pending' \
             ORDER BY triggered_at, id"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    async fn claim_delivery(&self, id: Uuid) -> store::StoreResult<bool> {
        let claimed = sqlx::query::<Db>(
            "UPDATE alert_history SET delivery = 'sending' WHERE id = $1 AND delivery = 'pending'",
        )
        .bind(id)
        .execute(self.write_pool())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    async fn finish_delivery(
        &self,
        id: Uuid,
        sent: bool,
        outcomes: &[ChannelOutcome],
    ) -> store::StoreResult<()> {
        sqlx::query::<Db>(
            "UPDATE alert_history SET delivery = 'done', notification_sent = $2, \
             notification_status = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(sent)
        .bind(Json(outcomes))
        .execute(self.write_pool())
        .await?;
        Ok(())
    }

    async fn interrupt_stale_deliveries(&self) -> store::StoreResult<u64> {
        Ok(sqlx::query::<Db>(
            "UPDATE alert_history SET delivery = 'interrupted' WHERE delivery = 'sending'",
        )
        .execute(self.write_pool())
        .await?
        .rows_affected())
    }

    async fn list_history(
        &self,
        f: &store::HistoryFilter,
    ) -> store::StoreResult<(Vec<store::HistoryRecord>, i64)> {
        let mut page =
            QueryBuilder::<Db>::new(format!("SELECT {HISTORY_COLUMNS} FROM alert_history"));
        push_history_filters(&mut page, f, true);
        page.push(" ORDER BY triggered_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(f.limit) + 1);
        let rows = page
            .build_query_as::<store::HistoryRecord>()
            .fetch_all(self.pool())
            .await?;
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM alert_history");
        push_history_filters(&mut count, f, false);
        let total: i64 = count
            .build_query_scalar::<i64>()
            .fetch_one(self.pool())
            .await?;
        Ok((rows, total))
    }

    async fn get_history(&self, id: Uuid) -> store::StoreResult<store::HistoryRecord> {
        Ok(sqlx::query_as::<Db, store::HistoryRecord>(&format!(
            "SELECT {HISTORY_COLUMNS} FROM alert_history WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await?)
    }

    async fn acknowledge_history(
        &self,
        id: Uuid,
        at_us: i64,
        by: &str,
        note: Option<&str>,
    ) -> store::StoreResult<store::HistoryRecord> {
        let updated = sqlx::query::<Db>(
            "UPDATE alert_history SET acknowledged_at = COALESCE(acknowledged_at, $2), \
             acknowledged_by = COALESCE(acknowledged_by, $3), \
             acknowledge_note = COALESCE(acknowledge_note, $4) WHERE id = $1",
        )
        .bind(id)
        .bind(at_us)
        .bind(by)
        .bind(note)
        .execute(self.write_pool())
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(store::StoreError::NotFound);
        }
        self.get_history(id).await
    }

    async fn count_log_occurrences(
        &self,
        f: &crate::query::logs::LogFilter,
    ) -> store::StoreResult<i64> {
        let search = self.index_plan(f).await?;
        let w = f.where_clause(false, &search);
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(dedup_count), 0) AS BIGINT) FROM app_logs{}",
            w.sql()
        );
        let q = sqlx::query_scalar::<Db, i64>(&sql);
        Ok(bind_all!(q, &w.binds).fetch_one(self.pool()).await?)
    }

    async fn exception_signal(
        &self,
        signal: store::ExceptionSignal,
        source: Option<&str>,
        exception_type: Option<&str>,
        from_us: i64,
        to_us: i64,
    ) -> store::StoreResult<store::SignalCount> {
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*)");
        push_signal_from(&mut count, signal, source, exception_type, from_us, to_us);
        let total: i64 = count
            .build_query_scalar::<i64>()
            .fetch_one(self.pool())
            .await?;
        if total == 0 {
            return Ok(store::SignalCount::default());
        }
        let (message, order) = match signal {
            store::ExceptionSignal::New => ("g.exception_message", "g.first_received_at"),
            store::ExceptionSignal::Regressed => ("g.exception_message", "g.regressed_at"),
            store::ExceptionSignal::Occurrences => ("e.exception_message", "e.timestamp"),
        };
        let mut samples = QueryBuilder::<Db>::new(format!("SELECT g.exception_type, {message}"));
        push_signal_from(&mut samples, signal, source, exception_type, from_us, to_us);
        samples
            .push(format!(" ORDER BY {order} DESC LIMIT "))
            .push_bind(SAMPLE_ROWS);
        let rows: Vec<(String, String)> = samples
            .build_query_as::<(String, String)>()
            .fetch_all(self.pool())
            .await?;
        Ok(store::SignalCount {
            count: total,
            samples: rows.into_iter().map(|(t, m)| format!("{t}: {m}")).collect(),
        })
    }
}
