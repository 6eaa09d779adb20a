//! The drain service behind both API styles: create (with preflight), update, pause,
//! resume, delete, test, replay, and destination secrets — each with its audit record — and
//! the reads the handlers and pages need (drains, attempts, metrics totals, secrets,
//! validation). It is the only way into drains from `http`, `web` and `commands`: they never
//! call `drain::repo` (checked by `tests/it/architecture.rs`).

use super::batch::{Batch, Chain, DrainRecord};
use super::dest::{Delivered, Destination};
use super::engine::Engine;
use super::model::{DeliveryAttempt, Drain, DrainStatus};
use super::open::{self, OpenDestError};
use super::repo::{self, AttemptTotals, NewAttempt};
use super::request::{self, DrainParamNames, DrainRequest, ValidDrain, ValidateError};
use super::secrets::{self, SecretBox, SecretInfo};
use crate::audit::{self, Actor};
use crate::domain::catalog::{self};
use crate::domain::entity::Org;
use crate::domain::{DataType, FieldType};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Instant;

/// Why a drain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// No such drain or secret in the organization.
    #[error("{0}")]
    NotFound(String),
    /// The destination failed its preflight check: nothing was stored.
    #[error("preflight check failed: {0}")]
    Preflight(String),
    /// The request conflicts with stored state.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Drains and secrets of every organization.
#[derive(Clone)]
pub struct Drains {
    /// Storage.
    pub store: Store,
    /// Seals secrets.
    pub secrets: SecretBox,
    /// This node's engine.
    pub engine: Engine,
}

/// What `test` did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TestResult {
    /// Delivered?
    pub ok: bool,
    /// Receiver's status.
    pub status_code: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
    /// Remark (partial success, truncation).
    pub note: Option<String>,
    /// Milliseconds.
    pub duration_ms: u64,
    /// Records sent.
    pub records: usize,
    /// Idempotency key of the test batch.
    pub batch_key: String,
}

impl Drains {
    async fn destination(
        &self,
        org: &str,
        config: &super::dest::DestinationConfig,
        secret_id: &str,
    ) -> Result<Box<dyn Destination>, DrainError> {
        open::open(
            &self.store,
            &self.secrets,
            self.engine.dest_context(),
            org,
            config,
            secret_id,
        )
        .await
        .map_err(|e| match e {
            OpenDestError::Store(s) => DrainError::Store(s),
            OpenDestError::MissingSecret(_) => DrainError::NotFound(e.to_string()),
            OpenDestError::Invalid(m) => DrainError::Preflight(m),
        })
    }

    async fn preflight(&self, org: &str, v: &ValidDrain, drain_id: &str) -> Result<(), DrainError> {
        let dest = self.destination(org, &v.destination, &v.secret_id).await?;
        dest.preflight(drain_id)
            .await
            .map_err(|e| DrainError::Preflight(e.describe()))
    }

    /// Creates a drain after its destination passed preflight.
    pub async fn create(
        &self,
        org: &str,
        v: ValidDrain,
        actor: &Actor,
    ) -> Result<Drain, DrainError> {
        let id = repo::new_id();
        self.preflight(org, &v, &id).await?;
        let now = Utc::now();
        // With start_ts the drain reads from the beginning and skips older records;
        // without, it starts after everything committed now.
        let cursor_pos = match v.start_ts {
            Some(_) => 0,
            None => self.store.head_position(v.data_type, org).await?,
        };
        let drain = Drain {
            id: id.clone(),
            org_id: org.to_string(),
            name: v.name,
            data_type: v.data_type,
            scope: v.scope,
            destination: v.destination,
            secret_id: v.secret_id,
            status: DrainStatus::Active,
            status_reason: None,
            cursor_pos,
            pending_last: None,
            failed_cycles: 0,
            batch_seq: 0,
            batch_prev: None,
            start_pos: cursor_pos,
            records_delivered: 0,
            last_synced_at: None,
            oldest_pending_at: None,
            oldest_ingested_at: None,
            start_ts: v.start_ts,
            lease_owner: None,
            lease_until: None,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let audit = audit::event(
            org,
            audit::events::DRAIN_CREATED,
            actor,
            Some(&id),
            serde_json::json!({
                "drain_id": id,
                "name": drain.name,
                "data_type": drain.data_type,
                "destination": drain.destination.kind(),
                "secret_id": drain.secret_id,
                "fields": drain.scope.fields,
            }),
        );
        repo::insert(&self.store, &drain, &audit).await?;
        self.engine.refresh();
        Ok(drain)
    }

    /// One drain of `org`.
    pub async fn get(&self, org: &str, id: &str) -> Result<Drain, DrainError> {
        repo::get(&self.store, org, id)
            .await?
            .ok_or_else(|| DrainError::NotFound(format!("drain `{id}` not found")))
    }

    /// Fills `tally` with the reconciliation of drain `id` of `org` (see `reconcile`); the
    /// drain as read.
    pub async fn reconcile(
        &self,
        org: &str,
        id: &str,
        tally: &mut super::reconcile::Tally,
    ) -> Result<Drain, DrainError> {
        let drain = self.get(org, id).await?;
        super::reconcile::reconcile(&self.store, &drain, tally).await?;
        Ok(drain)
    }

    /// The objects of an S3 drain under its prefix — its manifests and data files, not other
    /// drains' — (key, bytes), read with the drain's secret: what `outflow verify --s3` checks.
    pub async fn read_s3(&self, drain: &Drain) -> Result<Vec<(String, Vec<u8>)>, DrainError> {
        let bucket = open::open_s3(
            &self.store,
            &self.secrets,
            self.engine.dest_context(),
            drain,
        )
        .await
        .map_err(|e| match e {
            OpenDestError::Store(e) => DrainError::Store(e),
            other => DrainError::Conflict(format!("cannot open the drain's bucket: {other}")),
        })?;
        let wanted = |key: &str| super::received::wanted(key, &drain.id);
        bucket
            .read_all(drain.data_type.as_str(), wanted)
            .await
            .map_err(|e| {
                DrainError::Conflict(format!("cannot read the drain's bucket: {}", e.describe()))
            })
    }

    /// The organization's drains, newest first.
    pub async fn list(&self, org: &str) -> Result<Vec<Drain>, DrainError> {
        Ok(repo::list(&self.store, org).await?)
    }

    /// Every organization's drains (metrics: the operator's view).
    pub async fn list_all(&self) -> Result<Vec<Drain>, DrainError> {
        Ok(repo::list_all(&self.store).await?)
    }

    /// The most recent `limit` delivery attempts of a drain read with [`Drains::get`] (which
    /// checked its organization), newest first.
    pub async fn attempts(
        &self,
        drain: &Drain,
        limit: i64,
    ) -> Result<Vec<DeliveryAttempt>, DrainError> {
        Ok(repo::attempts(&self.store, &drain.id, limit).await?)
    }

    /// The newest `limit` status changes of a drain read with [`Drains::get`] (created,
    /// paused, resumed, stopped by errors, settings changed), newest first, from its audit
    /// events.
    pub async fn status_history(
        &self,
        drain: &Drain,
        limit: i64,
    ) -> Result<Vec<super::history::StatusEvent>, DrainError> {
        Ok(super::history::list(&self.store, &drain.org_id, &drain.id, limit).await?)
    }

    /// Where a drain read with [`Drains::get`] delivers, as `scheme://host[:port]`: never the
    /// path, query or credentials (see `dest::describe::display`). For HTTP drains the URL
    /// lives in the sealed secret, which is opened here for its host alone; S3, GCS and Azure
    /// Blob name their custom endpoint, if any. `None` when there is nothing more to show than
    /// the page's other facts (Datadog's site, S3 on AWS) or the secret cannot be read.
    pub async fn destination_host(&self, drain: &Drain) -> Result<Option<String>, DrainError> {
        use super::dest::{DestinationConfig, SecretPayload, describe};
        let url = match &drain.destination {
            DestinationConfig::S3 { endpoint, .. }
            | DestinationConfig::Gcs { endpoint, .. }
            | DestinationConfig::AzureBlob { endpoint, .. } => endpoint.clone(),
            DestinationConfig::Datadog { .. } => None,
            DestinationConfig::Http { .. } => {
                let Some(sealed) =
                    secrets::sealed(&self.store, &drain.org_id, &drain.secret_id).await?
                else {
                    return Ok(None);
                };
                match self.secrets.open(&drain.org_id, &drain.secret_id, &sealed) {
                    Ok(SecretPayload::Http { url, .. }) => Some(url),
                    _ => None,
                }
            }
        };
        Ok(url
            .and_then(|u| url::Url::parse(&u).ok())
            .map(|u| describe::display(&u)))
    }

    /// Every drain's live delivery attempts totalled by outcome (metrics).
    pub async fn live_attempt_totals(&self) -> Result<Vec<AttemptTotals>, DrainError> {
        Ok(repo::live_attempt_totals(&self.store).await?)
    }

    /// Validates a create or update request for `org` as of now (it reads the stored names
    /// its filters refer to and the secret it names).
    pub async fn validate(
        &self,
        org: &Org,
        req: &DrainRequest,
        names: DrainParamNames,
    ) -> Result<ValidDrain, ValidateError> {
        request::validate(&self.store, org, req, names, Utc::now()).await
    }

    /// The organization's secrets (descriptions only, never their contents).
    pub async fn secrets(&self, org: &str) -> Result<Vec<SecretInfo>, DrainError> {
        Ok(secrets::list(&self.store, org).await?)
    }

    /// One secret's description.
    pub async fn secret(&self, org: &str, id: &str) -> Result<SecretInfo, DrainError> {
        secrets::get(&self.store, org, id)
            .await?
            .ok_or_else(|| DrainError::NotFound(format!("secret `{id}` not found")))
    }

    /// Replaces a drain's settings; a changed destination or secret is preflighted first.
    pub async fn update(
        &self,
        org: &str,
        id: &str,
        v: ValidDrain,
        actor: &Actor,
    ) -> Result<Drain, DrainError> {
        let mut drain = self.get(org, id).await?;
        if drain.data_type != v.data_type {
            return Err(DrainError::Conflict(format!(
                "data_type cannot change (the drain delivers {}); create a new drain instead",
                drain.data_type
            )));
        }
        if drain.destination != v.destination || drain.secret_id != v.secret_id {
            self.preflight(org, &v, id).await?;
        }
        let now = Utc::now();
        drain.name = v.name;
        drain.scope = v.scope;
        drain.destination = v.destination;
        drain.secret_id = v.secret_id;
        let audit = audit::event(
            org,
            audit::events::DRAIN_UPDATED,
            actor,
            Some(id),
            serde_json::json!({
                "drain_id": id,
                "name": drain.name,
                "destination": drain.destination.kind(),
                "secret_id": drain.secret_id,
                "fields": drain.scope.fields,
            }),
        );
        repo::update_settings(&self.store, &drain, now, &audit).await?;
        self.engine.wake(id);
        self.get(org, id).await
    }

    /// Pauses (`Paused`) or resumes (`Active`, from the cursor, failure count cleared).
    pub async fn set_status(
        &self,
        org: &str,
        id: &str,
        status: DrainStatus,
        actor: &Actor,
    ) -> Result<Drain, DrainError> {
        let drain = self.get(org, id).await?;
        let event = match status {
            DrainStatus::Active => audit::events::DRAIN_RESUMED,
            _ => audit::events::DRAIN_PAUSED,
        };
        let audit = audit::event(
            org,
            event,
            actor,
            Some(id),
            serde_json::json!({"drain_id": id, "name": drain.name, "previous_status": drain.status}),
        );
        repo::set_status(&self.store, org, id, status, None, Utc::now(), &audit).await?;
        self.engine.refresh();
        self.engine.wake(id);
        self.get(org, id).await
    }

    /// Deletes a drain (permanent: a new drain starts from now).
    pub async fn delete(&self, org: &str, id: &str, actor: &Actor) -> Result<(), DrainError> {
        let drain = self.get(org, id).await?;
        let audit = audit::event(
            org,
            audit::events::DRAIN_DELETED,
            actor,
            Some(id),
            serde_json::json!({"drain_id": id, "name": drain.name}),
        );
        if !repo::delete(&self.store, org, id, &audit).await? {
            return Err(DrainError::NotFound(format!("drain `{id}` not found")));
        }
        self.engine.refresh();
        Ok(())
    }

    /// Sends a sample batch (one synthetic record of the drain's fields) now.
    pub async fn test(&self, org: &str, id: &str) -> Result<TestResult, DrainError> {
        let drain = self.get(org, id).await?;
        let dest = self
            .destination(org, &drain.destination, &drain.secret_id)
            .await?;
        let key = format!("test-{}", uuid::Uuid::now_v7().simple());
        let batch = Batch {
            drain_id: drain.id.clone(),
            drain_name: drain.name.clone(),
            org_id: org.to_string(),
            data_type: drain.data_type,
            first_pos: 0,
            last_pos: 0,
            key: key.clone(),
            records: vec![sample_record(drain.data_type, &drain.scope.fields)],
            chain: Chain::test(),
        };
        let started = Instant::now();
        let result = dest.deliver(&batch).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (ok, status_code, error, note, bytes) = match &result {
            Ok(Delivered {
                status,
                note,
                bytes,
                ..
            }) => (true, *status, None, note.clone(), Some(*bytes)),
            Err(e) => (false, e.status, Some(e.describe()), None, None),
        };
        repo::record_attempt(
            &self.store,
            &NewAttempt {
                drain_id: id,
                org_id: org,
                kind: "test",
                batch_key: &key,
                first_pos: None,
                last_pos: None,
                records: 1,
                ok,
                status_code,
                error: error.clone(),
                note: note.clone(),
                duration_ms: duration_ms as i64,
                bytes,
                attempt: 1,
                at: Utc::now(),
            },
        )
        .await?;
        Ok(TestResult {
            ok,
            status_code,
            error,
            note,
            duration_ms,
            records: 1,
            batch_key: key,
        })
    }

    /// Starts re-delivering `[from, to)`; the replay id.
    pub async fn replay(
        &self,
        org: &str,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<String, DrainError> {
        let drain = self.get(org, id).await?;
        let dest: Arc<dyn Destination> = Arc::from(
            self.destination(org, &drain.destination, &drain.secret_id)
                .await?,
        );
        Ok(self.engine.replay(drain, dest, from, to).await?)
    }

    /// Seals and stores a secret.
    pub async fn create_secret(
        &self,
        org: &str,
        name: &str,
        payload: &super::dest::SecretPayload,
        actor: &Actor,
    ) -> Result<SecretInfo, DrainError> {
        let info = SecretInfo {
            id: secrets::new_id(),
            name: name.to_string(),
            kind: payload.kind().to_string(),
            created_at: Utc::now(),
        };
        let sealed = self.secrets.seal(org, &info.id, payload);
        let audit = audit::event(
            org,
            audit::events::SECRET_CREATED,
            actor,
            Some(&info.id),
            serde_json::json!({"secret_id": info.id, "name": info.name, "kind": info.kind}),
        );
        secrets::insert(&self.store, org, &info, &sealed, &audit).await?;
        Ok(info)
    }

    /// Replaces a secret's contents (same kind); drains using it pick the new credentials up
    /// at their next cycle. Rotating signing secrets: put `[new, old]`, let receivers switch,
    /// then put `[new]`.
    pub async fn replace_secret(
        &self,
        org: &str,
        id: &str,
        name: &str,
        payload: &super::dest::SecretPayload,
        actor: &Actor,
    ) -> Result<SecretInfo, DrainError> {
        let Some(mut info) = secrets::get(&self.store, org, id).await? else {
            return Err(DrainError::NotFound(format!("secret `{id}` not found")));
        };
        if info.kind != payload.kind() {
            return Err(DrainError::Conflict(format!(
                "secret `{id}` is of kind `{}`; its kind cannot change (create a new secret)",
                info.kind
            )));
        }
        info.name = name.to_string();
        let sealed = self.secrets.seal(org, id, payload);
        let audit = audit::event(
            org,
            audit::events::SECRET_UPDATED,
            actor,
            Some(id),
            serde_json::json!({"secret_id": id, "name": info.name, "kind": info.kind}),
        );
        if !secrets::replace(&self.store, org, &info, &sealed, Utc::now(), &audit).await? {
            return Err(DrainError::NotFound(format!("secret `{id}` not found")));
        }
        for drain in secrets::users(&self.store, org, id).await? {
            self.engine.wake(&drain);
        }
        Ok(info)
    }

    /// Deletes a secret no drain, schedule, budget or notification setting uses.
    pub async fn delete_secret(
        &self,
        org: &str,
        id: &str,
        actor: &Actor,
    ) -> Result<(), DrainError> {
        let Some(info) = secrets::get(&self.store, org, id).await? else {
            return Err(DrainError::NotFound(format!("secret `{id}` not found")));
        };
        let mut users: Vec<String> = secrets::users(&self.store, org, id)
            .await?
            .into_iter()
            .map(|d| format!("drain {d}"))
            .collect();
        users.extend(secrets::other_users(&self.store, org, id).await?);
        if !users.is_empty() {
            return Err(DrainError::Conflict(format!(
                "secret `{id}` is used by {}; delete them or point them at another secret first",
                users.join(", ")
            )));
        }
        let audit = audit::event(
            org,
            audit::events::SECRET_DELETED,
            actor,
            Some(id),
            serde_json::json!({"secret_id": id, "name": info.name, "kind": info.kind}),
        );
        if !secrets::delete(&self.store, org, id, &audit).await? {
            return Err(DrainError::Conflict(format!(
                "secret `{id}` is in use or already gone"
            )));
        }
        Ok(())
    }
}

/// One synthetic record with the drain's fields (test sends).
fn sample_record(data_type: DataType, fields: &[String]) -> DrainRecord {
    let spec = catalog::spec(data_type);
    let now = Utc::now();
    let mut map = serde_json::Map::new();
    let mut ids: Vec<&str> = fields.iter().map(String::as_str).collect();
    if !ids.contains(&spec.time_field) {
        ids.push(spec.time_field);
    }
    for id in ids {
        let Some(def) = spec.field(id) else { continue };
        let v = match def.ty {
            FieldType::Text => serde_json::Value::String(format!("sample_{id}")),
            FieldType::Number => serde_json::json!(1.5),
            FieldType::Integer => serde_json::json!(1),
            FieldType::Boolean => serde_json::json!(true),
            FieldType::Timestamp => {
                serde_json::Value::String(crate::domain::time::format_timestamp(&now))
            }
            FieldType::Json => serde_json::json!({"sample": true}),
            FieldType::Enum(values) => {
                serde_json::Value::String(values.first().map_or("sample", |v| v.0).to_string())
            }
        };
        map.insert(id.to_string(), v);
    }
    DrainRecord::new(now, &map)
}
