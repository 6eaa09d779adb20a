//! What a batch object holds: gzip NDJSON (one record's fields per line) or the JSON envelope
//! every Outflow destination shares. Encoding is deterministic — gzip without a timestamp in
//! its header — so a retried batch writes the very same bytes and the same SHA-256.

use crate::drain::batch::Batch;
use crate::drain::dest::config::S3Format;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::io::Write;

/// An encoded batch object.
pub struct Encoded {
    /// The object's bytes.
    pub bytes: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    source: &'static str,
    drain_id: &'a str,
    drain_name: &'a str,
    data_type: &'a str,
    seq: i64,
    prev: Option<&'a str>,
    sequence: &'a str,
    records: Vec<&'a Map<String, Json>>,
}

/// Encodes the batch's records in `format`.
pub fn encode(batch: &Batch, format: S3Format) -> Encoded {
    match format {
        S3Format::Ndjson => {
            // flate2's default header carries mtime 0, which keeps the output deterministic.
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            for record in &batch.records {
                serde_json::to_writer(&mut gz, &record.fields).expect("writing to memory");
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
            let envelope = Envelope {
                source: "outflow",
                drain_id: &batch.drain_id,
                drain_name: &batch.drain_name,
                data_type: batch.data_type.as_str(),
                seq: batch.chain.seq,
                prev: batch.chain.prev.as_deref(),
                sequence: &batch.chain.space,
                records: batch.records.iter().map(|r| &r.fields).collect(),
            };
            Encoded {
                bytes: serde_json::to_vec(&envelope).expect("JSON values always serialize"),
                content_type: "application/json",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use crate::drain::batch::DrainRecord;
    use flate2::read::GzDecoder;
    use serde_json::json;
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
                .map(|n| DrainRecord {
                    time: chrono::Utc::now(),
                    fields: fields(n).as_object().unwrap().clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn ndjson_is_gzip_lines_and_deterministic() {
        let a = encode(&batch(), S3Format::Ndjson);
        let b = encode(&batch(), S3Format::Ndjson);
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
    fn json_is_the_envelope() {
        let e = encode(&batch(), S3Format::Json);
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
