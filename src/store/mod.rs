//! Storage: one [`Store`] in front of two backends, SQLite (embedded default) and PostgreSQL
//! (scale-out), each with its own migrations under `migrations/{sqlite,postgres}`.
//!
//! What is the same on both lives here and in the shared modules (`entities`, `keys`,
//! `records`): SQL is written once with `?` placeholders and numbered for PostgreSQL.
//! What differs — binding, decoding, bulk inserts and the delivery-order positions — lives in
//! `sqlite/` and `postgres/`.
//!
//! **Delivery order.** Every record gets a position `pos`. A reader that has consumed every
//! record up to position P never later sees a newly committed record at a position ≤ P; each
//! backend explains why (`sqlite/mod.rs`, `postgres/position.rs`). [`Store::read_after`] is the
//! tailing read that relies on it.

pub mod admin;
mod entities;
mod keys;
pub mod named;
pub mod notify;
pub mod paging;
pub mod postgres;
pub mod records;
pub mod rollups;
pub mod rows;
pub mod sqlite;
pub mod value;

pub use entities::{EntityPage, ListQuery, like_pattern};
pub use keys::{NewOrgKey, OrgKey, Scope};
pub use paging::Paging;
pub use records::{InsertOutcome, Record, RecordBatch, StoredRecord};
pub use rows::{Cell, CellRef, Row, RowBlock};
pub use value::Value;

use crate::domain::entity::{
    ApiKeyInput, CustomRoleInput, EntityKind, MemberInput, Org, OrgInput, TeamInput, WorkbookInput,
};
use crate::domain::{DataType, FieldType, Id};
use rollups::Families;
use std::collections::HashSet;

/// A read query for [`Store::stream`].
#[derive(Debug, Clone)]
pub struct StreamQuery {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Parameters in order.
    pub params: Vec<Value>,
    /// Column types.
    pub types: Vec<FieldType>,
    /// How the query may be cut into consecutive time windows, if it can.
    pub split: Option<TimeSplit>,
    /// Connections that may read windows in parallel (PostgreSQL; 1 reads the query whole).
    pub streams: usize,
}

/// Says that a query's rows are ordered by one time column first and that two of its
/// parameters bound that column as a half-open range `[start, end)`: substituting any
/// consecutive windows of the range and concatenating their results gives the same rows in
/// the same order.
#[derive(Debug, Clone)]
pub struct TimeSplit {
    /// A query with `?` placeholders answering the least and greatest time of the rows (two
    /// timestamp columns, NULL when there are none).
    pub bounds_sql: String,
    /// Its parameters.
    pub bounds_params: Vec<Value>,
    /// Index in [`StreamQuery::params`] of the range's start.
    pub start_param: usize,
    /// Index in [`StreamQuery::params`] of the range's end.
    pub end_param: usize,
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL or options are unusable.
    #[error("{0}")]
    Config(String),
    /// A stored value cannot be read back (a bug or a hand-edited database).
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
    /// A value no backend may store (see [`Value::check_storable`]): bad input, refused before
    /// it reaches the database so both backends answer alike.
    #[error("invalid value: {0}")]
    Invalid(String),
}

/// Refuses parameters one backend would store and the other refuse.
fn storable(params: &[Value]) -> StoreResult<()> {
    params
        .iter()
        .try_for_each(Value::check_storable)
        .map_err(StoreError::Invalid)
}

/// [`storable`] for every value of a batch.
fn storable_batch(batch: &RecordBatch) -> StoreResult<()> {
    batch.records.iter().try_for_each(|r| storable(&r.values))
}

/// Result of storage operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The storage of one Outflow deployment.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    notifier: notify::Notifier,
    listening: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The usage rollups ingest maintains: every family, except in the ingest benchmark's
    /// comparison runs.
    rollups: std::sync::Arc<std::sync::RwLock<Families>>,
    /// Bumped by every change of what drains cache between cycles (see
    /// [`Store::settings_changed`]).
    settings: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

/// Calls the same method on whichever backend is in use.
macro_rules! dispatch {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($b) => $call,
            Backend::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`); does not migrate.
    pub async fn connect(url: &str, pool_size: u32) -> StoreResult<Store> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::SqliteBackend::connect(url, pool_size).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(postgres::PgBackend::connect(url, pool_size).await?)
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme in `{}`; allowed: sqlite://PATH, postgres://…",
                redact_url(url)
            )));
        };
        Ok(Store {
            backend,
            notifier: notify::Notifier::default(),
            listening: Default::default(),
            rollups: std::sync::Arc::new(std::sync::RwLock::new(&rollups::FAMILIES)),
            settings: Default::default(),
        })
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Applies the backend's pending migrations, then fills the latency-bucket table the
    /// usage rollups look up (idempotent).
    pub async fn migrate(&self) -> StoreResult<()> {
        dispatch!(self, b => b.migrate().await)?;
        for (sql, params) in rollups::seed_bounds_statements() {
            dispatch!(self, b => b.exec(&sql, &params).await)?;
        }
        Ok(())
    }

    /// Turns usage-rollup maintenance at ingest off or on. Only `outflow bench ingest` turns
    /// it off, to measure what rollups cost; with it off, `GET /v1/usage` misses records.
    pub fn set_rollups(&self, on: bool) {
        self.set_rollup_families(if on { &rollups::FAMILIES } else { &[] });
    }

    /// Has ingest maintain only `families` (for `outflow bench ingest`'s floor: the least
    /// rollup a 15-minute granularity allows). Anything but every family leaves the usage
    /// tables incomplete.
    pub fn set_rollup_families(&self, families: Families) {
        *self.rollups.write().unwrap_or_else(|e| e.into_inner()) = families;
    }

    /// Which SQL dialect this store speaks (for the usage rollups' raw-row expressions).
    pub fn dialect(&self) -> rollups::Dialect {
        match self.kind() {
            BackendKind::Sqlite => rollups::Dialect::Sqlite,
            BackendKind::Postgres => rollups::Dialect::Postgres,
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, b => b.exec("SELECT 1", &[]).await.map(|_| ()))
    }

    /// Closes the pools.
    pub async fn close(&self) {
        dispatch!(self, b => b.close().await)
    }

    // ----- organizations and entities -------------------------------------------------------

    /// Creates or updates an organization; a new one gets a fresh pseudonym key.
    pub async fn upsert_org(&self, id: &Id, input: &OrgInput) -> StoreResult<Org> {
        let (sql, params) = entities::upsert_org(id, input);
        storable(&params)?;
        dispatch!(self, b => b.exec(&sql, &params).await)?;
        self.settings_changed();
        Ok(self.get_org(id.as_str()).await?.expect("just upserted"))
    }

    /// One organization.
    pub async fn get_org(&self, id: &str) -> StoreResult<Option<Org>> {
        let rows = dispatch!(self, b => b.fetch(entities::SELECT_ORG_BY_ID, &[id.into()], &entities::ORG_COLUMNS).await)?;
        Ok(rows.into_iter().next().map(entities::org_from_row))
    }

    /// Every organization, by id.
    pub async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        let rows = dispatch!(self, b => b.fetch(entities::SELECT_ORGS, &[], &entities::ORG_COLUMNS).await)?;
        Ok(rows.into_iter().map(entities::org_from_row).collect())
    }

    /// The organization's pseudonym key (a secret: never shown).
    pub async fn org_pseudonym_key(&self, id: &str) -> StoreResult<Option<String>> {
        let rows = dispatch!(self, b => b.fetch("SELECT pseudonym_key FROM orgs WHERE id = ?", &[id.into()], &[FieldType::Text]).await)?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r[0].as_text().map(str::to_string)))
    }

    /// Which of `ids` are existing organizations.
    pub async fn existing_orgs(&self, ids: &HashSet<&str>) -> StoreResult<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!("SELECT id FROM orgs WHERE id IN ({marks})");
        let params: Vec<Value> = ids.iter().map(|s| Value::from(*s)).collect();
        storable(&params)?;
        let rows = dispatch!(self, b => b.fetch(&sql, &params, &[FieldType::Text]).await)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r[0].as_text().map(str::to_string))
            .collect())
    }

    /// Creates or updates a team or personal space.
    pub async fn upsert_team(&self, org: &str, id: &Id, t: &TeamInput) -> StoreResult<()> {
        self.exec_one(entities::upsert_team(org, id, t)).await?;
        self.settings_changed();
        Ok(())
    }

    /// Creates or updates a member, and creates their personal space if it does not exist.
    pub async fn upsert_member(&self, org: &str, id: &Id, m: &MemberInput) -> StoreResult<()> {
        let statements = entities::upsert_member(org, id, m);
        for (_, params) in &statements {
            storable(params)?;
        }
        dispatch!(self, b => b.exec_in_tx(&statements).await)?;
        // A new member's personal space is a new team.
        self.settings_changed();
        Ok(())
    }

    /// The email of a member of `org`; `None` when there is no such member. The one query
    /// for it, shared by export validation (the requesting member) and the demo (its admin).
    pub async fn member_email(&self, org: &str, id: &str) -> StoreResult<Option<String>> {
        use named::{Columns, col};
        const EMAIL: Columns = Columns(&[col("email", FieldType::Text)]);
        let rows = self
            .query_named(
                "SELECT {columns} FROM members WHERE org_id = ? AND id = ?",
                &[org.into(), id.into()],
                EMAIL,
                "member",
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|mut r| r.text("email"))
            .transpose()
    }

    /// Creates or updates a custom role.
    pub async fn upsert_custom_role(
        &self,
        org: &str,
        id: &Id,
        r: &CustomRoleInput,
    ) -> StoreResult<()> {
        self.exec_one(entities::upsert_custom_role(org, id, r))
            .await
    }

    /// Creates or updates a workbook.
    pub async fn upsert_workbook(&self, org: &str, id: &Id, w: &WorkbookInput) -> StoreResult<()> {
        self.exec_one(entities::upsert_workbook(org, id, w)).await
    }

    /// Creates or updates a platform API key.
    pub async fn upsert_api_key(&self, org: &str, id: &Id, k: &ApiKeyInput) -> StoreResult<()> {
        self.exec_one(entities::upsert_api_key(org, id, k)).await
    }

    /// Lists one kind of entity of an organization, filtered by name and paginated.
    pub async fn list_entities(
        &self,
        org: &str,
        kind: EntityKind,
        query: &ListQuery,
    ) -> StoreResult<EntityPage> {
        let (count_sql, list_sql, params, types) = entities::list(org, kind, query);
        storable(&params)?;
        let total =
            dispatch!(self, b => b.fetch(&count_sql, &params, &[FieldType::Integer]).await)?;
        let total = total
            .first()
            .and_then(|r| r[0].as_i64())
            .unwrap_or_default();
        let mut list_params = params;
        list_params.push(Value::Integer(query.page_size() as i64));
        list_params.push(Value::Integer(query.offset() as i64));
        let rows = dispatch!(self, b => b.fetch(&list_sql, &list_params, &types).await)?;
        Ok(entities::page(kind, query, total, rows))
    }

    async fn exec_one(&self, (sql, params): (String, Vec<Value>)) -> StoreResult<()> {
        storable(&params)?;
        dispatch!(self, b => b.exec(&sql, &params).await).map(|_| ())
    }

    // ----- records --------------------------------------------------------------------------

    /// Stores a batch idempotently: records whose id is already stored count as duplicates.
    /// Agent records become new versions only when their configuration changed.
    pub async fn insert_records(&self, batch: &RecordBatch) -> StoreResult<InsertOutcome> {
        if batch.records.is_empty() {
            return Ok(InsertOutcome::default());
        }
        storable_batch(batch)?;
        let rollups = *self.rollups.read().unwrap_or_else(|e| e.into_inner());
        let outcome = dispatch!(self, b => b.insert_records(batch, rollups).await)?;
        if outcome.accepted > 0 {
            self.announce(batch);
        }
        Ok(outcome)
    }

    /// Something running drains cache changed through this process: a drain's settings or
    /// status, a secret, an organization's or team's privacy, a team. Drains compare
    /// [`settings_generation`](Self::settings_generation) before each cycle and read their
    /// settings again when it moved.
    pub fn settings_changed(&self) {
        self.settings
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The generation [`settings_changed`](Self::settings_changed) bumps.
    pub fn settings_generation(&self) -> u64 {
        self.settings.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Commit notifications of this database (see [`notify`]). On PostgreSQL the first call
    /// starts this process's listener connection.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<notify::Committed> {
        let rx = self.notifier.subscribe();
        if let Backend::Postgres(b) = &self.backend
            && !self
                .listening
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            b.spawn_listener(self.notifier.clone());
        }
        rx
    }

    /// On SQLite, announces a committed batch in-process (PostgreSQL announces through
    /// `pg_notify` at commit, to every process).
    fn announce(&self, batch: &RecordBatch) {
        if let Backend::Sqlite(_) = &self.backend {
            let mut orgs: Vec<&str> = batch.records.iter().map(|r| r.org_id.as_str()).collect();
            orgs.sort_unstable();
            orgs.dedup();
            for org in orgs {
                self.notifier.send(notify::Committed {
                    data_type: Some(batch.data_type),
                    org: org.to_string(),
                    position: 0,
                });
            }
        }
    }

    /// The position below which every record of the type is committed and visible: a drain
    /// created now starts after it. On PostgreSQL records above it may already be committed
    /// too (they will be delivered); none below it can still appear.
    pub async fn head_position(&self, data_type: DataType, org: &str) -> StoreResult<i64> {
        match &self.backend {
            Backend::Sqlite(_) => self.max_position(data_type, org).await,
            Backend::Postgres(_) => Ok(self.visible_horizon().await? - 1),
        }
    }

    /// The highest committed position of the type in the organization (0 when none), whether
    /// or not the tailing read may return it yet.
    pub async fn max_position(&self, data_type: DataType, org: &str) -> StoreResult<i64> {
        let spec = crate::domain::catalog::spec(data_type);
        let sql = format!(
            "SELECT COALESCE(MAX(pos), 0) FROM {} WHERE org_id = ?",
            spec.table
        );
        let rows = dispatch!(self, b => b.fetch(&sql, &[org.into()], &[FieldType::Integer]).await)?;
        Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default())
    }

    /// Every position below this is final: committed or never to exist (see
    /// `postgres::position`). On SQLite, where positions are visible at commit, `i64::MAX`.
    pub async fn visible_horizon(&self) -> StoreResult<i64> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(i64::MAX),
            Backend::Postgres(b) => {
                let rows = b
                    .fetch(
                        &format!("SELECT {}", postgres::position::HORIZON),
                        &[],
                        &[FieldType::Integer],
                    )
                    .await?;
                Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default())
            }
        }
    }

    /// Runs statements in one transaction, but only if the first one changes a row (a fence
    /// such as "this node still holds the lease"); otherwise changes nothing and returns false.
    pub async fn execute_fenced(&self, statements: &[(String, Vec<Value>)]) -> StoreResult<bool> {
        for (_, params) in statements {
            storable(params)?;
        }
        dispatch!(self, b => b.exec_fenced(statements, None).await)
    }

    /// [`Store::execute_fenced`], storing `records` (an audit record) in the same transaction
    /// when the fence holds: a deletion and its audit record are both there or neither.
    pub async fn execute_fenced_with_records(
        &self,
        statements: &[(String, Vec<Value>)],
        records: &RecordBatch,
    ) -> StoreResult<bool> {
        for (_, params) in statements {
            storable(params)?;
        }
        storable_batch(records)?;
        let done = dispatch!(self, b => b.exec_fenced(statements, Some(records)).await)?;
        if done {
            self.announce(records);
        }
        Ok(done)
    }

    /// Records of `data_type` in `org` after position `after`, in delivery order, at most
    /// `limit`. Never returns a record that a later call could precede (see module docs).
    pub async fn read_after(
        &self,
        data_type: DataType,
        org: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredRecord>> {
        dispatch!(self, b => b.read_after(data_type, org, after, limit).await)
    }

    /// Like [`read_after`](Self::read_after), reading only the fields marked in `wanted`
    /// (aligned with the catalog's fields); the others come back as `Null`. Drains read the
    /// few columns they deliver and filter on instead of every column.
    pub async fn read_after_fields(
        &self,
        data_type: DataType,
        org: &str,
        after: i64,
        limit: i64,
        wanted: &[bool],
    ) -> StoreResult<Vec<StoredRecord>> {
        let spec = crate::domain::catalog::spec(data_type);
        let picked: Vec<usize> = (0..spec.fields.len())
            .filter(|i| wanted.get(*i).copied().unwrap_or(true))
            .collect();
        let columns = picked
            .iter()
            .map(|i| format!("\"{}\"", spec.fields[*i].id))
            .collect::<Vec<_>>();
        let types: Vec<FieldType> = picked.iter().map(|i| spec.fields[*i].ty).collect();
        let visible = match self.kind() {
            BackendKind::Postgres => format!(" AND {}", postgres::position::VISIBLE),
            BackendKind::Sqlite => String::new(),
        };
        let sql = format!(
            "SELECT pos{}{} FROM {} WHERE org_id = ? AND pos > ?{visible} ORDER BY pos LIMIT ?",
            if columns.is_empty() { "" } else { ", " },
            columns.join(", "),
            spec.table
        );
        let mut all_types = vec![FieldType::Integer];
        all_types.extend(types);
        let rows = dispatch!(self, b => b.fetch(&sql, &[org.into(), Value::Integer(after), Value::Integer(limit)], &all_types).await)?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let pos = r[0].as_i64().unwrap_or_default();
                let mut values = vec![Value::Null; spec.fields.len()];
                for (slot, v) in picked.iter().zip(r.drain(1..)) {
                    values[*slot] = v;
                }
                StoredRecord { pos, values }
            })
            .collect())
    }

    /// What [`read_after_fields`](Self::read_after_fields) reads, through the export path's
    /// fast readers ([`Store::stream`]: binary COPY on PostgreSQL, `rusqlite` on SQLite) into
    /// row blocks, with no `Value` per cell: column 0 is the position, then the fields marked
    /// in `wanted`, in catalog order. The blocks hold the rows in position order.
    pub async fn read_after_block(
        &self,
        data_type: DataType,
        org: &str,
        after: i64,
        limit: i64,
        wanted: &[bool],
    ) -> StoreResult<Vec<RowBlock>> {
        let spec = crate::domain::catalog::spec(data_type);
        let picked: Vec<usize> = (0..spec.fields.len())
            .filter(|i| wanted.get(*i).copied().unwrap_or(true))
            .collect();
        let mut columns = vec!["pos".to_string()];
        columns.extend(picked.iter().map(|i| format!("\"{}\"", spec.fields[*i].id)));
        let mut types = vec![FieldType::Integer];
        types.extend(picked.iter().map(|i| spec.fields[*i].ty));
        let visible = match self.kind() {
            BackendKind::Postgres => format!(" AND {}", postgres::position::VISIBLE),
            BackendKind::Sqlite => String::new(),
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = ? AND pos > ?{visible} ORDER BY pos LIMIT ?",
            columns.join(", "),
            spec.table
        );
        let query = StreamQuery {
            sql,
            params: vec![org.into(), Value::Integer(after), Value::Integer(limit)],
            types,
            split: None,
            streams: 1,
        };
        let mut rx = self.stream(query, usize::try_from(limit).unwrap_or(1).max(1));
        let mut blocks = Vec::new();
        while let Some(block) = rx.recv().await {
            blocks.push(block?);
        }
        Ok(blocks)
    }

    /// Records of `data_type` in `org` whose time field lies in `[from, to)`, in (time,
    /// position) order, at most `limit`, after `resume` (the (time, position) of the previous
    /// page's last row), reading only the fields marked in `wanted` like
    /// [`read_after_fields`](Self::read_after_fields). Through the (org, time, id) index, so a
    /// drain's reconciliation reads its window, and a replay pages through it, not through the
    /// whole stream. Every committed record counts, drainable yet or not.
    pub async fn read_window_fields(
        &self,
        data_type: DataType,
        org: &str,
        (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
        resume: Option<(chrono::DateTime<chrono::Utc>, i64)>,
        limit: i64,
        wanted: &[bool],
    ) -> StoreResult<Vec<StoredRecord>> {
        let spec = crate::domain::catalog::spec(data_type);
        let picked: Vec<usize> = (0..spec.fields.len())
            .filter(|i| wanted.get(*i).copied().unwrap_or(true))
            .collect();
        let mut columns = vec!["pos".to_string()];
        columns.extend(picked.iter().map(|i| format!("\"{}\"", spec.fields[*i].id)));
        let mut types = vec![FieldType::Integer];
        types.extend(picked.iter().map(|i| spec.fields[*i].ty));
        let time = format!("\"{}\"", spec.time_field);
        let mut params: Vec<Value> = vec![org.into(), Value::Timestamp(from), Value::Timestamp(to)];
        let after = match resume {
            Some((t, pos)) => {
                params.extend([
                    Value::Timestamp(t),
                    Value::Timestamp(t),
                    Value::Integer(pos),
                ]);
                format!(" AND ({time} > ? OR ({time} = ? AND pos > ?))")
            }
            None => String::new(),
        };
        params.push(Value::Integer(limit));
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = ? AND {time} >= ? AND {time} < ?{after} \
             ORDER BY {time}, pos LIMIT ?",
            columns.join(", "),
            spec.table
        );
        let rows = dispatch!(self, b => b.fetch(&sql, &params, &types).await)?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let pos = r[0].as_i64().unwrap_or_default();
                let mut values = vec![Value::Null; spec.fields.len()];
                for (slot, v) in picked.iter().zip(r.drain(1..)) {
                    values[*slot] = v;
                }
                StoredRecord { pos, values }
            })
            .collect())
    }

    /// Number of stored records of a type in an organization.
    pub async fn count_records(&self, data_type: DataType, org: &str) -> StoreResult<i64> {
        let spec = crate::domain::catalog::spec(data_type);
        let sql = format!("SELECT COUNT(*) FROM {} WHERE org_id = ?", spec.table);
        let rows = dispatch!(self, b => b.fetch(&sql, &[org.into()], &[FieldType::Integer]).await)?;
        Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default())
    }

    /// Runs a read-only query with `?` placeholders, decoding columns as `types`.
    /// For reports and tests; record streaming goes through dedicated paths.
    pub async fn query(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        storable(params)?;
        dispatch!(self, b => b.fetch(sql, params, types).await)
    }

    /// Like [`query`](Self::query), for a read query answering many small rows (usage
    /// analytics): on an SQLite file it reads through `rusqlite` on a blocking thread, as
    /// exports do, instead of handing each row over from sqlx's worker thread. Columns of
    /// other types than integer, number and text are read as by `query`.
    pub async fn query_many(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        storable(params)?;
        match &self.backend {
            Backend::Sqlite(b) => b.fetch_many(sql, params, types).await,
            Backend::Postgres(b) => b.fetch(sql, params, types).await,
        }
    }

    /// Runs a statement with `?` placeholders that returns rows (`UPDATE … RETURNING`).
    pub async fn query_write(
        &self,
        sql: &str,
        params: &[Value],
        types: &[FieldType],
    ) -> StoreResult<Vec<Vec<Value>>> {
        storable(params)?;
        dispatch!(self, b => b.fetch_write(sql, params, types).await)
    }

    /// Runs a statement and stores `batch` (e.g. its audit record) in one transaction.
    pub async fn execute_with_records(
        &self,
        sql: &str,
        params: &[Value],
        batch: &RecordBatch,
    ) -> StoreResult<()> {
        storable(params)?;
        storable_batch(batch)?;
        dispatch!(self, b => b.exec_with_records(sql, params, batch).await)?;
        self.announce(batch);
        Ok(())
    }

    /// Runs a statement with `?` placeholders; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> StoreResult<u64> {
        storable(params)?;
        dispatch!(self, b => b.exec(sql, params).await)
    }

    /// Streams a read query's rows in blocks of `chunk` rows over a bounded channel, so a
    /// reader of any size holds at most a few blocks in memory and reading overlaps with
    /// whatever the consumer does. Dropping the receiver stops the query.
    pub fn stream(
        &self,
        query: StreamQuery,
        chunk: usize,
    ) -> tokio::sync::mpsc::Receiver<StoreResult<RowBlock>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let store = self.clone();
        tokio::spawn(async move {
            let result = match storable(&query.params) {
                Ok(()) => dispatch!(store, b => b.stream(&query, chunk.max(1), &tx).await),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    // ----- organization keys ----------------------------------------------------------------

    /// Stores a new organization key and its `audit_logs` record in one transaction.
    pub async fn create_org_key(&self, key: &NewOrgKey, audit: &RecordBatch) -> StoreResult<()> {
        let (sql, params) = keys::insert(key);
        storable(&params)?;
        storable_batch(audit)?;
        dispatch!(self, b => b.exec_with_records(&sql, &params, audit).await)
    }

    /// The active key whose secret hashes to `secret_hash`.
    pub async fn find_org_key(&self, secret_hash: &str) -> StoreResult<Option<OrgKey>> {
        let rows = dispatch!(self, b => b.fetch(keys::SELECT_BY_HASH, &[secret_hash.into()], &keys::COLUMNS).await)?;
        Ok(rows.into_iter().next().map(keys::from_row))
    }

    /// The organization's keys (active and revoked), newest first.
    pub async fn list_org_keys(&self, org: &str) -> StoreResult<Vec<OrgKey>> {
        let rows = dispatch!(self, b => b.fetch(keys::SELECT_BY_ORG, &[org.into()], &keys::COLUMNS).await)?;
        Ok(rows.into_iter().map(keys::from_row).collect())
    }

    /// Revokes a key of `org`; false when the organization has no such active key.
    pub async fn revoke_org_key(
        &self,
        org: &str,
        key_id: &str,
        audit: &RecordBatch,
    ) -> StoreResult<bool> {
        let (sql, params) = keys::revoke(org, key_id);
        self.execute_fenced_with_records(&[(sql, params)], audit)
            .await
    }
}

/// Hides the password of a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Replaces each `?` placeholder with `$1`, `$2`, … for PostgreSQL.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_order() {
        assert_eq!(
            numbered("SELECT ? WHERE a = ? AND b IN (?, ?)"),
            "SELECT $1 WHERE a = $2 AND b IN ($3, $4)"
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
