//! Record batches as ingest hands them to storage, and records as storage hands them back.

use super::value::Value;
use crate::domain::{DataType, FieldType, TypeSpec, catalog};

/// One validated record: its organization and one value per catalog field, in catalog order.
#[derive(Debug, Clone)]
pub struct Record {
    /// Owning organization.
    pub org_id: String,
    /// Values aligned with `TypeSpec::fields`; absent fields are `Value::Null`.
    pub values: Vec<Value>,
}

/// Validated records of one data type, ready to store.
#[derive(Debug, Clone)]
pub struct RecordBatch {
    /// The data type of every record.
    pub data_type: DataType,
    /// The records, in request order.
    pub records: Vec<Record>,
}

impl RecordBatch {
    /// An empty batch.
    pub fn new(data_type: DataType) -> Self {
        RecordBatch {
            data_type,
            records: Vec::new(),
        }
    }

    /// The catalog entry of the batch's type.
    pub fn spec(&self) -> &'static TypeSpec {
        catalog::spec(self.data_type)
    }
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// Records newly stored.
    pub accepted: u64,
    /// Records whose id was already stored (nothing written).
    pub duplicates: u64,
}

/// A stored record with its delivery position.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// Position in delivery order (see `store::postgres::position`).
    pub pos: i64,
    /// Values aligned with `TypeSpec::fields`.
    pub values: Vec<Value>,
}

impl StoredRecord {
    /// The value of field `id`.
    pub fn get(&self, spec: &TypeSpec, id: &str) -> Option<&Value> {
        spec.fields
            .iter()
            .position(|f| f.id == id)
            .map(|i| &self.values[i])
    }
}

/// `"a", "b", …` — the quoted column list of a type's fields.
pub(crate) fn column_list(spec: &TypeSpec) -> String {
    spec.fields
        .iter()
        .map(|f| format!("\"{}\"", f.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The conflict target that makes ingest idempotent.
pub(crate) fn conflict_target(spec: &TypeSpec) -> String {
    if spec.data_type == DataType::Agents {
        "(org_id, agent_id, agent_version)".into()
    } else {
        format!("(org_id, \"{}\")", spec.id_field)
    }
}

/// Column types of a type's fields, for decoding.
pub(crate) fn column_types(spec: &TypeSpec) -> Vec<FieldType> {
    spec.fields.iter().map(|f| f.ty).collect()
}

/// Fields that are not part of an agent's configuration: they change on every version.
const AGENT_VERSION_FIELDS: [&str; 2] = ["agent_version", "agent_updated_ts"];

/// SHA-256 over an agent record's configuration, to tell a change (new version) from a resend.
pub(crate) fn agent_content_hash(spec: &TypeSpec, record: &Record) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (f, v) in spec.fields.iter().zip(&record.values) {
        if AGENT_VERSION_FIELDS.contains(&f.id) {
            continue;
        }
        h.update(f.id.as_bytes());
        h.update([0]);
        h.update(v.to_json().to_string().as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Upserts the agent's latest-version row; returns a row (the new version number) only when
/// the configuration changed or the agent is new.
pub(crate) fn agent_upsert(spec: &TypeSpec, record: &Record, hash: &str) -> (String, Vec<Value>) {
    let get = |id: &str| {
        record.values[spec
            .fields
            .iter()
            .position(|f| f.id == id)
            .expect("agent field")]
        .clone()
    };
    let agent_id = get("agent_id");
    let name = match get("agent_name") {
        Value::Text(n) => Value::Text(n),
        _ => agent_id.clone(),
    };
    (
        "INSERT INTO agents (org_id, id, name, workspace_id, version, content_hash, updated_at) \
         VALUES (?, ?, ?, ?, 1, ?, ?) \
         ON CONFLICT (org_id, id) DO UPDATE SET name = excluded.name, \
         workspace_id = excluded.workspace_id, version = agents.version + 1, \
         content_hash = excluded.content_hash, updated_at = excluded.updated_at \
         WHERE agents.content_hash <> excluded.content_hash \
         RETURNING version"
            .into(),
        vec![
            record.org_id.clone().into(),
            agent_id,
            name,
            get("workspace_id"),
            hash.into(),
            chrono::Utc::now().into(),
        ],
    )
}

/// Fills the version number and (if absent) the version time of a new agent version.
pub(crate) fn stamp_agent_version(spec: &TypeSpec, record: &mut Record, version: i64) {
    for (f, v) in spec.fields.iter().zip(record.values.iter_mut()) {
        match f.id {
            "agent_version" => *v = Value::Integer(version),
            "agent_updated_ts" if matches!(v, Value::Null | Value::NullTimestamp) => {
                *v = Value::Timestamp(chrono::Utc::now())
            }
            _ => {}
        }
    }
}

impl super::Store {
    /// The latest stored version of an agent, every catalog column in catalog order.
    pub async fn latest_agent_version(
        &self,
        org: &str,
        agent: &str,
    ) -> Result<Option<Vec<Value>>, super::StoreError> {
        let spec = crate::domain::catalog::spec(crate::domain::DataType::Agents);
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = ? AND agent_id = ? ORDER BY agent_version DESC LIMIT 1",
            column_list(spec),
            spec.table
        );
        let rows = self
            .query(&sql, &[org.into(), agent.into()], &column_types(spec))
            .await?;
        Ok(rows.into_iter().next())
    }
}

/// The statement that records when `rows` were stored (`ingest_marks`): per organization, the
/// last position it actually wrote among `start..start + rows` (ids already stored take a
/// position but write nothing), at `now`. `?` placeholders; parameters: data type, now, org,
/// first and last position.
pub(crate) fn ingest_mark_sql(table: &str) -> String {
    format!(
        "INSERT INTO ingest_marks (data_type, org_id, last_pos, at) \
         SELECT ?, org_id, MAX(pos), ? FROM {table} WHERE org_id = ? AND pos >= ? AND pos <= ? \
         GROUP BY org_id"
    )
}

/// The organizations of `batch`, each once, in first-seen order.
pub(crate) fn batch_orgs(batch: &RecordBatch) -> Vec<&str> {
    let mut orgs: Vec<&str> = Vec::new();
    for r in &batch.records {
        if !orgs.contains(&r.org_id.as_str()) {
            orgs.push(r.org_id.as_str());
        }
    }
    orgs
}
