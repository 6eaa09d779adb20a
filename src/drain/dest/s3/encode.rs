//! What a batch object holds: gzip NDJSON (one record's fields per line) or the JSON envelope
//! every Outflow destination shares. Encoding is deterministic — gzip without a timestamp in
//! its header — so a retried batch writes the very same bytes and the same SHA-256.

use crate::drain::batch::{Batch, envelope_head};
use crate::drain::dest::config::S3Format;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

/// An encoded batch object.
pub struct Encoded {
    /// The object's bytes.
    pub bytes: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// Encodes the batch's records in `format`.
pub fn encode(batch: &Batch, format: S3Format) -> Encoded {
    match format {
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
    }
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
