//! Row decoding and the INSERT of the drain repository, without a database: the columns a
//! query selects, the names its rows are read by and the columns the INSERT writes are one
//! list, and a NULL where the schema says NOT NULL is an error.

use super::*;
use crate::domain::DataType;
use crate::drain::dest::DestinationConfig;
use crate::drain::model::DrainScope;
use crate::export::filters::TeamScope;
use crate::store::named::NamedRow;

fn drain() -> Drain {
    let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&Utc);
    Drain {
        id: "drn_1".into(),
        org_id: "acme".into(),
        name: "Audit to SIEM".into(),
        data_type: DataType::AuditLogs,
        scope: DrainScope {
            fields: vec!["event_type".into()],
            teams: TeamScope::everything(),
            entity_ids: Vec::new(),
            category: None,
            permission_group: None,
            event_types: Vec::new(),
            hide_child_runs: false,
        },
        destination: DestinationConfig::Http {
            format: Default::default(),
            otlp_encoding: Default::default(),
            gzip: false,
            max_body_bytes: 1_000_000,
        },
        secret_id: "sec_1".into(),
        status: DrainStatus::Active,
        status_reason: None,
        cursor_pos: 7,
        pending_last: None,
        failed_cycles: 0,
        batch_seq: 0,
        batch_prev: None,
        start_pos: 0,
        records_delivered: 0,
        last_synced_at: None,
        oldest_pending_at: None,
        oldest_ingested_at: None,
        start_ts: None,
        lease_owner: None,
        lease_until: None,
        created_by: "usr_1".into(),
        created_at: at,
        updated_at: at,
    }
}

/// The row a read would hand back for `d` as inserted (`None` → NULL), with no ingest mark
/// past its cursor.
fn stored_row(d: &Drain) -> NamedRow {
    let mut values: Vec<Value> = insert_row(d)
        .into_iter()
        .map(|(_, v)| match v {
            Some(Value::NullTimestamp) | None => Value::Null,
            Some(v) => v,
        })
        .collect();
    values.push(Value::Null);
    DRAIN_READ.rows(vec![values], "drain").pop().unwrap()
}

#[test]
fn reads_return_the_stored_columns_then_the_ingest_time_of_the_oldest_record() {
    let stored: Vec<&str> = DRAIN.0.iter().map(|c| c.name).collect();
    let read: Vec<&str> = DRAIN_READ.0.iter().map(|c| c.name).collect();
    assert_eq!(read[..stored.len()], stored[..]);
    assert_eq!(read[stored.len()..], ["oldest_ingested_at"]);
}

#[test]
fn the_insert_writes_the_columns_the_queries_read_in_the_same_order() {
    let written: Vec<&str> = insert_row(&drain()).iter().map(|(n, _)| *n).collect();
    let read: Vec<&str> = DRAIN.0.iter().map(|c| c.name).collect();
    assert_eq!(written, read);
}

#[test]
fn the_insert_names_its_columns_and_writes_absent_integers_as_literal_nulls() {
    let (sql, params) = insert_statement(&drain());
    assert!(sql.starts_with("INSERT INTO drains (\"id\", \"org_id\", \"name\", "));
    assert_eq!(sql.matches('?').count(), params.len());
    assert_eq!(params.len(), DRAIN.0.len() - 1);
    // pending_last is the 11th column: a literal NULL, not a parameter.
    let slots = sql.split("VALUES (").nth(1).unwrap();
    assert_eq!(slots.split(", ").nth(10), Some("NULL"));
}

#[test]
fn a_stored_drain_reads_back_by_name() {
    let d = drain();
    let back = from_row(stored_row(&d)).unwrap();
    assert_eq!(back.id, d.id);
    assert_eq!(back.name, d.name);
    assert_eq!(back.data_type, d.data_type);
    assert_eq!(back.scope, d.scope);
    assert_eq!(back.destination, d.destination);
    assert_eq!(back.status, d.status);
    assert_eq!(back.cursor_pos, 7);
    assert_eq!(back.pending_last, None);
    assert_eq!(back.lease_owner, None);
    assert_eq!(back.created_at, d.created_at);
}

#[test]
fn a_null_where_the_schema_says_not_null_is_corrupt_not_a_default() {
    for (column, message) in [
        ("name", "drain name: missing"),
        ("created_by", "drain created_by: missing"),
        ("cursor_pos", "drain cursor_pos: missing"),
        ("created_at", "drain created_at: missing"),
        ("scope", "drain scope: missing"),
    ] {
        let d = drain();
        let mut values: Vec<Value> = insert_row(&d)
            .into_iter()
            .map(|(_, v)| v.unwrap_or(Value::Null))
            .collect();
        let i = DRAIN.0.iter().position(|c| c.name == column).unwrap();
        values[i] = Value::Null;
        let row = DRAIN.rows(vec![values], "drain").pop().unwrap();
        match from_row(row) {
            Err(StoreError::Corrupt(m)) => assert_eq!(m, message),
            other => panic!("{column}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn a_stored_status_reason_hides_url_paths() {
    let mut d = drain();
    d.status_reason = Some("HTTP 500 from https://hooks.example.com/T0/secret-token".into());
    let back = from_row(stored_row(&d)).unwrap();
    let reason = back.status_reason.unwrap();
    assert!(!reason.contains("secret-token"), "{reason}");
}

#[test]
fn an_attempt_reads_by_name_and_a_missing_outcome_is_corrupt() {
    let at = Utc::now();
    let row = |ok: Value| {
        let values = vec![
            Value::Text("live".into()),
            Value::Text("key".into()),
            Value::Integer(1),
            Value::Integer(9),
            Value::Integer(9),
            ok,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Integer(12),
            Value::Integer(300),
            Value::Integer(1),
            Value::Timestamp(at),
        ];
        ATTEMPT.rows(vec![values], "drain delivery").pop().unwrap()
    };
    let a = attempt_from_row(row(Value::Bool(true))).unwrap();
    assert!(a.ok);
    assert_eq!((a.first_pos, a.last_pos, a.records), (Some(1), Some(9), 9));
    assert_eq!((a.status_code, a.bytes), (None, Some(300)));
    assert_eq!(a.created_at, at);
    match attempt_from_row(row(Value::Null)) {
        Err(StoreError::Corrupt(m)) => assert_eq!(m, "drain delivery ok: missing"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
