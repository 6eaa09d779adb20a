//! What a batch object holds: gzip NDJSON (one record's fields per line), the JSON envelope
//! every Outflow destination shares, or a Parquet file written by the export's Parquet encoder
//! (`export::encode`: the same typed columns, one per drained field, in the drain's field
//! order). Encoding is deterministic — gzip without a timestamp in its header, Parquet without
//! one either — so a retried batch writes the very same bytes and the same SHA-256.
//!
//! Parquet columns take their types from the field catalog; a drained record's JSON value is
//! turned back into the typed value it was projected from (timestamps from Outflow's one
//! output form). One file per batch, so a retry rewrites exactly one object.

use crate::domain::{FieldType, catalog};
use crate::drain::batch::{Batch, envelope_head};
use crate::drain::dest::config::S3Format;
use crate::export::encode::{Column, EncodeError, EncodeOptions, Encoder, Format};
use crate::store::Value;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value as Json;
use std::io::Write;

/// An encoded batch object.
pub struct Encoded {
    /// The object's bytes.
    pub bytes: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// Encodes the batch's records in `format`. Only Parquet can fail: a value that does not fit
/// its catalog column (which projection never produces).
pub fn encode(batch: &Batch, format: S3Format) -> Result<Encoded, EncodeError> {
    Ok(match format {
        S3Format::Parquet => Encoded {
            bytes: parquet(batch)?,
            content_type: Format::Parquet.content_type(),
        },
        S3Format::Ndjson => {
            // flate2's default header carries mtime 0, which keeps the output deterministic.
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            for record in &batch.records {
                gz.write_all(record.json.as_bytes())
                    .expect("writing to memory");
                gz.write_all(b"\n").expect("writing to memory");
            }
            Encoded {
                bytes: gz.finish().expect("writing to memory"),
                // The object is a gzip file, not gzip-encoded JSON: `Content-Encoding: gzip`
                // would make HTTP clients unpack a download named `.gz`.
                content_type: "application/gzip",
            }
        }
        S3Format::Json => {
            // The envelope the HTTP destination sends, the records' JSON copied in.
            let mut bytes = envelope_head(batch);
            for (n, record) in batch.records.iter().enumerate() {
                if n > 0 {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(record.json.as_bytes());
            }
            bytes.extend_from_slice(b"]}");
            Encoded {
                bytes,
                content_type: "application/json",
            }
        }
    })
}

/// The batch's columns: its records' fields in order, typed by the catalog.
fn columns(batch: &Batch) -> Vec<Column> {
    let spec = catalog::spec(batch.data_type);
    let Some(first) = batch.records.first() else {
        return Vec::new();
    };
    first
        .fields()
        .keys()
        .map(|id| Column {
            id: id.clone(),
            ty: spec.field(id).map_or(FieldType::Json, |f| f.ty),
        })
        .collect()
}

/// A drained JSON value back as the typed value of a `ty` column. A value of another shape is
/// passed on as it is, and the encoder refuses it with the column's name.
fn typed(ty: FieldType, v: &Json) -> Value {
    match (ty, v) {
        (_, Json::Null) => Value::Null,
        (FieldType::Json, v) => Value::Json(v.clone()),
        (FieldType::Timestamp, Json::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Value::Timestamp(t.with_timezone(&chrono::Utc)))
            .unwrap_or_else(|_| Value::Text(s.clone())),
        (FieldType::Integer, Json::Number(n)) if n.is_i64() => {
            Value::Integer(n.as_i64().unwrap_or_default())
        }
        (_, Json::Number(n)) if n.is_i64() => Value::Integer(n.as_i64().unwrap_or_default()),
        (_, Json::Number(n)) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        (_, Json::Bool(b)) => Value::Bool(*b),
        (_, Json::String(s)) => Value::Text(s.clone()),
        (_, v) => Value::Json(v.clone()),
    }
}

fn parquet(batch: &Batch) -> Result<Vec<u8>, EncodeError> {
    let columns = columns(batch);
    let types: Vec<FieldType> = columns.iter().map(|c| c.ty).collect();
    let mut encoder = Encoder::new(
        columns.clone(),
        EncodeOptions {
            format: Format::Parquet,
            ..EncodeOptions::default()
        },
    )?;
    let mut out = Vec::new();
    for record in &batch.records {
        let fields = record.fields();
        let row: Vec<Value> = columns
            .iter()
            .zip(&types)
            .map(|(c, ty)| typed(*ty, fields.get(&c.id).unwrap_or(&Json::Null)))
            .collect();
        encoder.write_row(&row)?;
        out.extend_from_slice(&encoder.take_ready());
    }
    out.extend_from_slice(&encoder.finish()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use crate::drain::batch::DrainRecord;
    use flate2::read::GzDecoder;
    use serde_json::{Value as Json, json};
    use std::io::Read;

    fn batch() -> Batch {
        let fields = |n: i64| json!({"run_id": format!("r{n}"), "credit_cost": n});
        Batch {
            drain_id: "drn_1".into(),
            drain_name: "Nightly".into(),
            org_id: "acme".into(),
            data_type: DataType::Workflows,
            first_pos: 1,
            last_pos: 2,
            key: "k".into(),
            chain: crate::drain::batch::Chain::live(1, None),
            records: (1..=2)
                .map(|n| DrainRecord::new(chrono::Utc::now(), fields(n).as_object().unwrap()))
                .collect(),
        }
    }

    #[test]
    fn ndjson_is_gzip_lines_and_deterministic() {
        let a = encode(&batch(), S3Format::Ndjson).unwrap();
        let b = encode(&batch(), S3Format::Ndjson).unwrap();
        assert_eq!(a.bytes, b.bytes);
        let mut text = String::new();
        GzDecoder::new(&a.bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                json!({"run_id":"r1","credit_cost":1}),
                json!({"run_id":"r2","credit_cost":2})
            ]
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn parquet_is_typed_by_the_catalog_and_deterministic() {
        let mut b = batch();
        // A masked timestamp (null) and a JSON document next to text and a number.
        let times = [Json::Null, json!("2026-03-01T08:00:00.000000Z")];
        for (r, time) in b.records.iter_mut().zip(times) {
            let mut fields = r.fields();
            fields.insert("pl_run_created_ts".into(), time);
            fields.insert("pipeline".into(), json!({"steps": [1, 2]}));
            *r = DrainRecord::new(r.time, &fields);
        }
        let a = encode(&b, S3Format::Parquet).unwrap();
        assert_eq!(a.bytes, encode(&b, S3Format::Parquet).unwrap().bytes);
        assert_eq!(a.content_type, "application/vnd.apache.parquet");
        let reader = ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(a.bytes),
        )
        .unwrap()
        .build()
        .unwrap();
        let rows: Vec<_> = reader.map(Result::unwrap).collect();
        let schema = rows[0].schema();
        let types: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            [
                "run_id:Utf8",
                "credit_cost:Float64",
                "pl_run_created_ts:Timestamp(µs, \"UTC\")",
                "pipeline:Utf8"
            ]
        );
        assert_eq!(rows[0].num_rows(), 2);
        assert!(rows[0].column(2).is_null(0) && !rows[0].column(2).is_null(1));
    }

    #[test]
    fn json_is_the_envelope() {
        let e = encode(&batch(), S3Format::Json).unwrap();
        let v: Json = serde_json::from_slice(&e.bytes).unwrap();
        assert_eq!(
            v,
            json!({"source":"outflow","drain_id":"drn_1","drain_name":"Nightly",
                   "data_type":"workflows","seq":1,"prev":null,"sequence":"live",
                   "records":[{"run_id":"r1","credit_cost":1},{"run_id":"r2","credit_cost":2}]})
        );
        assert_eq!(e.content_type, "application/json");
    }
}
