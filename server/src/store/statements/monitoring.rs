//! [`MonitoringStore`] for one backend: aggregate rows, slow requests and slow statements.
//! Compiled once per backend (see [`crate::store::dialect`]).

use super::{Db, This};
use crate::monitoring::aggregate::{
    AggregateRow, Quantiles, SeriesKey, SummaryRow, period_start, roll_up,
};
use crate::monitoring::combined::{family_key, family_totals};
use crate::monitoring::sketch::Sketch;
use crate::store::dialect::Dialect;
use crate::store::monitoring::{
    AGGREGATE_COLUMNS, AGGREGATE_KEY, AggregateRecord, FAMILY_AGGREGATE_COLUMNS,
    FAMILY_SUMMARY_COLUMNS, SUMMARY_COLUMNS, SummaryRecord, decode_sketch,
};
use crate::store::{self, MonitoringStore, SeriesFilter, SlowQueryRow, SlowRequestRow};
use tracewire_shared::api::monitoring::Period;
use uuid::Uuid;

#[async_trait::async_trait]
impl MonitoringStore for This {
    async fn aggregate_rows(&self, f: &SeriesFilter) -> store::StoreResult<Vec<AggregateRow>> {
        self.read_rows(Table::Series, f).await
    }

    async fn aggregate_summaries(
        &self,
        f: &SeriesFilter,
        with_sketches: bool,
    ) -> store::StoreResult<Vec<SummaryRow>> {
        self.read_summaries(Table::Series, f, with_sketches).await
    }

    async fn aggregate_sketches(&self, ids: &[Uuid]) -> store::StoreResult<Vec<(Uuid, Sketch)>> {
        self.read_sketches(Table::Series, ids).await
    }

    async fn family_rows(&self, f: &SeriesFilter) -> store::StoreResult<Vec<AggregateRow>> {
        self.read_rows(Table::Family, f).await
    }

    async fn family_summaries(
        &self,
        f: &SeriesFilter,
        with_sketches: bool,
    ) -> store::StoreResult<Vec<SummaryRow>> {
        self.read_summaries(Table::Family, f, with_sketches).await
    }

    async fn family_sketches(&self, ids: &[Uuid]) -> store::StoreResult<Vec<(Uuid, Sketch)>> {
        self.read_sketches(Table::Family, ids).await
    }

    async fn backfill_family_totals(&self, max: u32) -> store::StoreResult<usize> {
        let mut tx = self.begin_tx().await?;
        let pending: Vec<(String, String, i64, String, Uuid)> = sqlx::query_as::<Db, _>(
            "SELECT aggregation_period, metric_type, period_start, source, project_id \
             FROM metric_family_pending LIMIT $1",
        )
        .bind(i64::from(max))
        .fetch_all(&mut *tx)
        .await?;
        for (period, metric_type, start, source, project_id) in &pending {
            let period = Period::parse(period).ok_or_else(|| {
                store::StoreError::Corrupt("metric_family_pending: period".into())
            })?;
            let source = source
                .parse()
                .map_err(|_| store::StoreError::Corrupt("metric_family_pending: source".into()))?;
            let family = crate::monitoring::aggregate::SeriesKey {
                project_id: *project_id,
                source,
                metric_type: metric_type.clone(),
                metric_name: String::new(),
                endpoint: None,
            };
            rebuild_family(&mut tx, period, &family, *start).await?;
            sqlx::query::<Db>(
                "DELETE FROM metric_family_pending WHERE aggregation_period = $1 \
                 AND metric_type = $2 AND period_start = $3 AND source = $4 AND project_id = $5",
            )
            .bind(period.as_str())
            .bind(metric_type)
            .bind(start)
            .bind(family.source.as_str())
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(pending.len())
    }

    async fn slow_requests(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
        before: Option<(i64, Uuid)>,
        limit: u32,
    ) -> store::StoreResult<Vec<SlowRequestRow>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, project_id, timestamp, source, method, endpoint, path, status, \
             duration_ms, trace_id, log_id FROM slow_requests WHERE duration_ms >= ",
        );
        push_window(&mut qb, min_duration_ms, from_us, to_us, before);
        qb.push(format!(
            " ORDER BY timestamp DESC, id DESC LIMIT {}",
            u64::from(limit) + 1
        ));
        Ok(qb.build_query_as().fetch_all(self.pool()).await?)
    }

    async fn count_slow_requests(
        &self,
        min_duration_ms: f64,
        endpoint: Option<&str>,
        from_us: i64,
        to_us: i64,
    ) -> store::StoreResult<i64> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT COUNT(*) FROM slow_requests WHERE duration_ms >= ",
        );
        push_window(&mut qb, min_duration_ms, from_us, to_us, None);
        if let Some(endpoint) = endpoint {
            qb.push(" AND endpoint = ");
            qb.push_bind(endpoint);
        }
        let (n,): (i64,) = qb.build_query_as().fetch_one(self.pool()).await?;
        Ok(n)
    }

    async fn count_slow_queries(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
    ) -> store::StoreResult<i64> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT COUNT(*) FROM slow_queries WHERE duration_ms >= ",
        );
        push_window(&mut qb, min_duration_ms, from_us, to_us, None);
        let (n,): (i64,) = qb.build_query_as().fetch_one(self.pool()).await?;
        Ok(n)
    }

    async fn slow_queries(
        &self,
        min_duration_ms: f64,
        from_us: i64,
        to_us: i64,
        before: Option<(i64, Uuid)>,
        limit: u32,
    ) -> store::StoreResult<Vec<SlowQueryRow>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, project_id, timestamp, summary, statement, duration_ms, row_count, \
             endpoint, trace_id FROM slow_queries WHERE duration_ms >= ",
        );
        push_window(&mut qb, min_duration_ms, from_us, to_us, before);
        qb.push(format!(
            " ORDER BY timestamp DESC, id DESC LIMIT {}",
            u64::from(limit) + 1
        ));
        Ok(qb.build_query_as().fetch_all(self.pool()).await?)
    }

    async fn prune_slow(&self, before_us: i64) -> store::StoreResult<u64> {
        let mut deleted = 0;
        for table in ["slow_requests", "slow_queries"] {
            deleted += sqlx::query::<Db>(&format!("DELETE FROM {table} WHERE timestamp < $1"))
                .bind(before_us)
                .execute(self.write_pool())
                .await?
                .rows_affected();
        }
        Ok(deleted)
    }

    async fn roll_up_changed(
        &self,
        finer: Period,
        coarser: Period,
        max_rows: u32,
    ) -> store::StoreResult<usize> {
        let lock = <This as Dialect>::LOCK_FOR_UPDATE;
        let mut tx = self.begin_tx().await?;
        let changed: Vec<AggregateRecord> = sqlx::query_as::<Db, AggregateRecord>(&format!(
            "SELECT {AGGREGATE_COLUMNS} FROM metric_aggregates \
             WHERE aggregation_period = $1 AND dirty LIMIT $2{lock}"
        ))
        .bind(finer.as_str())
        .bind(i64::from(max_rows))
        .fetch_all(&mut *tx)
        .await?;
        let mut periods = std::collections::BTreeSet::new();
        for record in changed {
            let row = record.into_row()?;
            let start = period_start(coarser, row.period_start_us);
            periods.insert((row.series, start));
        }
        let len = coarser.seconds() * 1_000_000;
        let members = format!(
            "SELECT {AGGREGATE_COLUMNS} FROM metric_aggregates WHERE aggregation_period = $1 \
             AND metric_type = $2 AND metric_name = $3 AND endpoint = $4 AND source = $5 \
             AND project_id = $6 AND period_start >= $7 AND period_start < $8{lock}"
        );
        let mut families = std::collections::BTreeSet::new();
        for (series, start) in &periods {
            families.insert((family_key(series), *start));
            let records: Vec<AggregateRecord> = sqlx::query_as::<Db, AggregateRecord>(&members)
                .bind(finer.as_str())
                .bind(&series.metric_type)
                .bind(&series.metric_name)
                .bind(series.endpoint.as_deref().unwrap_or(""))
                .bind(series.source.as_str())
                .bind(series.project_id)
                .bind(start)
                .bind(start + len)
                .fetch_all(&mut *tx)
                .await?;
            let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
            let rows = records
                .into_iter()
                .map(AggregateRecord::into_row)
                .collect::<store::StoreResult<Vec<_>>>()?;
            for coarse in roll_up(&rows, coarser) {
                delete_aggregate(&mut tx, &coarse).await?;
                super::monitoring::insert_aggregate(&mut tx, &coarse).await?;
            }
            for chunk in ids.chunks(store::retention_sql::DELETE_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<Db>::new(
                    "UPDATE metric_aggregates SET dirty = FALSE WHERE id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
        }
        // The family totals of every bucket just rebuilt, from its coarse rows as they now
        // stand, in the same transaction: a reader never sees one without the other.
        for (family, start) in &families {
            rebuild_family(&mut tx, coarser, family, *start).await?;
        }
        tx.commit().await?;
        Ok(periods.len())
    }

    async fn prune_aggregates(&self, period: Period, before_us: i64) -> store::StoreResult<u64> {
        let mut deleted = 0;
        // Totals and queued totals go with the rows they merge; only the rows are counted.
        for table in [
            "metric_aggregates",
            "metric_family_totals",
            "metric_family_pending",
        ] {
            let n = sqlx::query::<Db>(&format!(
                "DELETE FROM {table} WHERE aggregation_period = $1 AND period_start < $2"
            ))
            .bind(period.as_str())
            .bind(before_us)
            .execute(self.write_pool())
            .await?
            .rows_affected();
            if table == "metric_aggregates" {
                deleted = n;
            }
        }
        Ok(deleted)
    }
}

/// Which stored aggregates a read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `metric_aggregates`, one row per series.
    Series,
    /// `metric_family_totals`, one row per family, project and source (no name, no endpoint).
    Family,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Series => "metric_aggregates",
            Table::Family => "metric_family_totals",
        }
    }

    fn aggregate_columns(self) -> &'static str {
        match self {
            Table::Series => AGGREGATE_COLUMNS,
            Table::Family => FAMILY_AGGREGATE_COLUMNS,
        }
    }

    fn summary_columns(self) -> &'static str {
        match self {
            Table::Series => SUMMARY_COLUMNS,
            Table::Family => FAMILY_SUMMARY_COLUMNS,
        }
    }
}

impl This {
    /// Rows of `table` matching `f`, with their sketches.
    async fn read_rows(
        &self,
        table: Table,
        f: &SeriesFilter,
    ) -> store::StoreResult<Vec<AggregateRow>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {} FROM {} WHERE aggregation_period = ",
            table.aggregate_columns(),
            table.name()
        ));
        push_series_filter(&mut qb, f, table);
        let records: Vec<AggregateRecord> = qb.build_query_as().fetch_all(self.pool()).await?;
        records.into_iter().map(AggregateRecord::into_row).collect()
    }

    /// Summaries of `table` matching `f`, sketches only when `with_sketches`.
    async fn read_summaries(
        &self,
        table: Table,
        f: &SeriesFilter,
        with_sketches: bool,
    ) -> store::StoreResult<Vec<SummaryRow>> {
        // `CASE … THEN sketch END` keeps the column's type when it is NULL.
        let sketch = if with_sketches {
            "sketch"
        } else {
            "CASE WHEN 1 = 0 THEN sketch END"
        };
        let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {}, {sketch} AS sketch FROM {} WHERE aggregation_period = ",
            table.summary_columns(),
            table.name()
        ));
        push_series_filter(&mut qb, f, table);
        let records: Vec<SummaryRecord> = qb.build_query_as().fetch_all(self.pool()).await?;
        records.into_iter().map(SummaryRecord::into_row).collect()
    }

    /// The sketches of the rows `ids` of `table`.
    async fn read_sketches(
        &self,
        table: Table,
        ids: &[Uuid],
    ) -> store::StoreResult<Vec<(Uuid, Sketch)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(store::retention_sql::DELETE_CHUNK) {
            let mut qb = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT id, sketch FROM {} WHERE id IN (",
                table.name()
            ));
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            let rows: Vec<(Uuid, Vec<u8>)> = qb.build_query_as().fetch_all(self.pool()).await?;
            for (id, bytes) in rows {
                out.push((id, decode_sketch(&bytes)?));
            }
        }
        Ok(out)
    }
}

/// Replaces the family total of (`family`, `period`, `start`) by the merge of the bucket's
/// stored `period` rows of every name and endpoint (none left: no total).
async fn rebuild_family(
    conn: &mut <Db as sqlx::Database>::Connection,
    period: Period,
    family: &SeriesKey,
    start: i64,
) -> store::StoreResult<()> {
    let records: Vec<AggregateRecord> = sqlx::query_as::<Db, AggregateRecord>(&format!(
        "SELECT {AGGREGATE_COLUMNS} FROM metric_aggregates WHERE aggregation_period = $1 \
         AND metric_type = $2 AND period_start = $3 AND source = $4 AND project_id = $5"
    ))
    .bind(period.as_str())
    .bind(&family.metric_type)
    .bind(start)
    .bind(family.source.as_str())
    .bind(family.project_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut rows = records
        .into_iter()
        .map(AggregateRecord::into_row)
        .collect::<store::StoreResult<Vec<_>>>()?;
    // A stable order, so the total's unit is the same whichever order the rows came in.
    rows.sort_by(|a, b| a.series.cmp(&b.series));
    sqlx::query::<Db>(
        "DELETE FROM metric_family_totals WHERE aggregation_period = $1 AND metric_type = $2 \
         AND period_start = $3 AND source = $4 AND project_id = $5",
    )
    .bind(period.as_str())
    .bind(&family.metric_type)
    .bind(start)
    .bind(family.source.as_str())
    .bind(family.project_id)
    .execute(&mut *conn)
    .await?;
    for total in family_totals(&rows) {
        let q = Quantiles::of(&total.sketch);
        sqlx::query::<Db>(
            "INSERT INTO metric_family_totals (id, project_id, source, metric_type, \
             aggregation_period, period_start, period_end, value, unit, count, errors, sum, min, \
             max, p50, p95, p99, sketch) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18)",
        )
        .bind(Uuid::now_v7())
        .bind(total.series.project_id)
        .bind(total.series.source.as_str())
        .bind(&total.series.metric_type)
        .bind(total.period.as_str())
        .bind(total.period_start_us)
        .bind(total.period_end_us())
        .bind(total.mean())
        .bind(&total.unit)
        .bind(i64::try_from(total.count).unwrap_or(i64::MAX))
        .bind(i64::try_from(total.errors).unwrap_or(i64::MAX))
        .bind(total.sketch.sum())
        .bind(total.sketch.min().unwrap_or(0.0))
        .bind(total.sketch.max().unwrap_or(0.0))
        .bind(q.p50)
        .bind(q.p95)
        .bind(q.p99)
        .bind(total.sketch.to_bytes())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// `<period> AND metric_type = … AND period_start …` and the optional parts of `f` (name and
/// endpoint only for per-series rows), then the order, after `WHERE aggregation_period = `.
fn push_series_filter<'a>(qb: &mut sqlx::QueryBuilder<'a, Db>, f: &'a SeriesFilter, table: Table) {
    qb.push_bind(f.period.as_str());
    qb.push(" AND metric_type = ");
    qb.push_bind(&f.metric_type);
    qb.push(" AND period_start >= ");
    qb.push_bind(f.from_us);
    qb.push(" AND period_start < ");
    qb.push_bind(f.to_us);
    if table == Table::Series {
        if let Some(name) = &f.metric_name {
            qb.push(" AND metric_name = ");
            qb.push_bind(name);
        }
        if let Some(endpoint) = &f.endpoint {
            qb.push(" AND endpoint = ");
            qb.push_bind(endpoint);
        }
    }
    if let Some(source) = &f.source {
        qb.push(" AND source = ");
        qb.push_bind(source);
    }
    qb.push(" ORDER BY period_start");
}

/// `<min> AND timestamp BETWEEN <from> AND <to>` and the keyset condition, after
/// `duration_ms >= `.
fn push_window(
    qb: &mut sqlx::QueryBuilder<'_, Db>,
    min_duration_ms: f64,
    from_us: i64,
    to_us: i64,
    before: Option<(i64, Uuid)>,
) {
    qb.push_bind(min_duration_ms);
    qb.push(" AND timestamp >= ");
    qb.push_bind(from_us);
    qb.push(" AND timestamp <= ");
    qb.push_bind(to_us);
    if let Some((time, id)) = before {
        qb.push(" AND (timestamp < ");
        qb.push_bind(time);
        qb.push(" OR (timestamp = ");
        qb.push_bind(time);
        qb.push(" AND id < ");
        qb.push_bind(id);
        qb.push("))");
    }
}

/// Deletes the stored row of `r`'s key, if any.
async fn delete_aggregate(
    conn: &mut <Db as sqlx::Database>::Connection,
    r: &AggregateRow,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query::<Db>(
        "DELETE FROM metric_aggregates WHERE aggregation_period = $1 AND metric_type = $2 \
         AND metric_name = $3 AND endpoint = $4 AND source = $5 AND project_id = $6 \
         AND period_start = $7",
    )
    .bind(r.period.as_str())
    .bind(&r.series.metric_type)
    .bind(&r.series.metric_name)
    .bind(r.series.endpoint.as_deref().unwrap_or(""))
    .bind(r.series.source.as_str())
    .bind(r.series.project_id)
    .bind(r.period_start_us)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// `INSERT INTO metric_aggregates (…) VALUES (…), …` for `rows`, new ids, dirty.
pub(in crate::store) fn aggregate_values<'a>(
    rows: &[&'a AggregateRow],
) -> sqlx::QueryBuilder<'a, Db> {
    let mut qb = sqlx::QueryBuilder::<Db>::new(
        "INSERT INTO metric_aggregates (id, project_id, source, metric_type, metric_name, \
         endpoint, aggregation_period, period_start, period_end, value, unit, count, errors, \
         sum, min, max, p50, p95, p99, sketch) ",
    );
    qb.push_values(rows, |mut b, r| {
        let q = Quantiles::of(&r.sketch);
        b.push_bind(uuid::Uuid::now_v7())
            .push_bind(r.series.project_id)
            .push_bind(r.series.source.as_str())
            .push_bind(&r.series.metric_type)
            .push_bind(&r.series.metric_name)
            .push_bind(r.series.endpoint.as_deref().unwrap_or(""))
            .push_bind(r.period.as_str())
            .push_bind(r.period_start_us)
            .push_bind(r.period_end_us())
            .push_bind(r.mean())
            .push_bind(&r.unit)
            .push_bind(i64::try_from(r.count).unwrap_or(i64::MAX))
            .push_bind(i64::try_from(r.errors).unwrap_or(i64::MAX))
            .push_bind(r.sketch.sum())
            .push_bind(r.sketch.min().unwrap_or(0.0))
            .push_bind(r.sketch.max().unwrap_or(0.0))
            .push_bind(q.p50)
            .push_bind(q.p95)
            .push_bind(q.p99)
            .push_bind(r.sketch.to_bytes());
    });
    qb
}

/// Inserts one aggregate row unless its key is taken; returns the rows inserted (0 or 1).
pub(in crate::store) async fn insert_aggregate(
    conn: &mut <Db as sqlx::Database>::Connection,
    r: &AggregateRow,
) -> Result<u64, sqlx::Error> {
    let mut qb = aggregate_values(&[r]);
    qb.push(format!(" ON CONFLICT {AGGREGATE_KEY} DO NOTHING"));
    Ok(qb.build().execute(&mut *conn).await?.rows_affected())
}
