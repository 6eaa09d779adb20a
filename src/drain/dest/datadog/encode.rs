//! From a batch to Logs intake request bodies: one log entry per record, entries cut to the
//! per-log limit, and entries packed in order into as few requests as the per-request limits
//! allow. The packing is deterministic: the same batch always gives the same requests.
//!
//! An entry:
//!
//! ```json
//! {"ddsource":"outflow","service":"outflow.workflows",
//!  "ddtags":"drain_id:drn_…,drain_name:Nightly,data_type:workflows,schema:workflows_1,env:prod",
//!  "hostname":"outflow","message":"{\"run_id\":\"r1\",…}","timestamp":1772323200000,
//!  "outflow_schema":"workflows@1","outflow_batch_seq":41,"outflow_batch_prev":"drn_…-1-40",
//!  "outflow_batch_sequence":"live"}
//! ```
//!
//! The `outflow_batch_*` attributes place the entry's batch in its drain's sequence (see
//! `batch::Chain`): a monitor can find a missing seq. They are attributes, not tags, because a
//! number per batch would be a tag of unbounded cardinality.
//!
//! The record travels only inside `message`, as a JSON string. Every attribute Datadog routes
//! or indexes by — source, service, tags, host, time — is set by the drain outside it, so a
//! record's content cannot re-route itself to another service or pose as another drain.

use super::limits::{MAX_ENTRIES_PER_REQUEST, MAX_LOG_BYTES, MAX_REQUEST_BYTES, MAX_TAG_LEN};
use crate::domain::schema;
use crate::drain::batch::Batch;
use serde::Serialize;

/// What the drain's settings put on every entry.
#[derive(Debug, Clone)]
pub struct EntrySettings {
    /// `ddsource` (default `outflow`).
    pub source: Option<String>,
    /// `service` (default `outflow.{data_type}`).
    pub service: Option<String>,
    /// Extra tags, already validated.
    pub tags: Vec<String>,
}

#[derive(Serialize)]
struct Entry<'a> {
    ddsource: &'a str,
    service: &'a str,
    ddtags: &'a str,
    hostname: &'static str,
    message: &'a str,
    timestamp: i64,
    /// The record's schema name, exactly (`credit_logs@1`); the `schema` tag carries it in
    /// Datadog's tag alphabet, which has no `@` (`schema:credit_logs_1`).
    outflow_schema: &'a str,
    outflow_batch_seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    outflow_batch_prev: Option<&'a str>,
    outflow_batch_sequence: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    outflow_truncated: bool,
}

/// The request bodies of one batch.
#[derive(Debug, Default)]
pub struct Encoded {
    /// Uncompressed JSON arrays, in record order.
    pub bodies: Vec<Vec<u8>>,
    /// Entries per body.
    pub entries: Vec<usize>,
    /// Records whose message was cut to fit [`MAX_LOG_BYTES`].
    pub truncated: usize,
}

/// A tag value as Datadog would keep it: anything that could end the tag (`,`) or that
/// Datadog does not allow becomes `_`, and the tag stays within [`MAX_TAG_LEN`].
fn tag(key: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{key}:{clean}").chars().take(MAX_TAG_LEN).collect()
}

/// Bytes `c` takes inside a JSON string as serde_json writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest prefix of `s` whose escaped form fits in `budget` bytes (on a char boundary).
fn cut(s: &str, budget: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += escaped_len(c);
        if used > budget {
            return &s[..i];
        }
    }
    s
}

/// Encodes `batch` into request bodies within the intake's limits.
pub fn encode(batch: &Batch, settings: &EntrySettings) -> Encoded {
    let data_type = batch.data_type.as_str();
    let default_service = format!("outflow.{data_type}");
    let source = settings.source.as_deref().unwrap_or("outflow");
    let service = settings.service.as_deref().unwrap_or(&default_service);
    let schema_name = schema::name(batch.data_type);
    let mut tags = vec![
        tag("drain_id", &batch.drain_id),
        tag("drain_name", &batch.drain_name),
        tag("data_type", data_type),
        tag("schema", &schema_name),
    ];
    tags.extend(settings.tags.iter().cloned());
    let ddtags = tags.join(",");
    let truncated_tags = format!("{ddtags},truncated:true");

    let mut out = Encoded::default();
    let mut body: Vec<u8> = Vec::new();
    let mut count = 0;
    for record in &batch.records {
        // The record's compact JSON, as written by the selector.
        let message: &str = &record.json;
        let mut entry = Entry {
            ddsource: source,
            service,
            ddtags: &ddtags,
            hostname: "outflow",
            message,
            timestamp: record.time.timestamp_millis(),
            outflow_schema: &schema_name,
            outflow_batch_seq: batch.chain.seq,
            outflow_batch_prev: batch.chain.prev.as_deref(),
            outflow_batch_sequence: &batch.chain.space,
            outflow_truncated: false,
        };
        let mut bytes = serde_json::to_vec(&entry).expect("entries serialize");
        if bytes.len() > MAX_LOG_BYTES {
            entry.ddtags = &truncated_tags;
            entry.outflow_truncated = true;
            entry.message = "";
            let overhead = serde_json::to_vec(&entry).expect("entries serialize").len();
            entry.message = cut(message, MAX_LOG_BYTES.saturating_sub(overhead));
            bytes = serde_json::to_vec(&entry).expect("entries serialize");
            out.truncated += 1;
        }
        debug_assert!(bytes.len() <= MAX_LOG_BYTES);
        // `[` + entries joined by `,` + `]`.
        let grown = body.len() + 1 + bytes.len() + 1;
        if count > 0 && (count == MAX_ENTRIES_PER_REQUEST || grown > MAX_REQUEST_BYTES) {
            body.push(b']');
            out.bodies.push(std::mem::take(&mut body));
            out.entries.push(count);
            count = 0;
        }
        body.push(if count == 0 { b'[' } else { b',' });
        body.extend_from_slice(&bytes);
        count += 1;
    }
    if count > 0 {
        body.push(b']');
        out.bodies.push(body);
        out.entries.push(count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use crate::drain::batch::DrainRecord;
    use serde_json::{Value as Json, json};

    fn batch(values: Vec<Json>) -> Batch {
        Batch {
            drain_id: "drn_1".into(),
            drain_name: "Nightly, prod".into(),
            org_id: "acme".into(),
            data_type: DataType::Workflows,
            first_pos: 1,
            last_pos: values.len() as i64,
            key: "k".into(),
            chain: crate::drain::batch::Chain::live(4, Some("k3".into())),
            records: values
                .into_iter()
                .map(|v| {
                    DrainRecord::new(
                        chrono::DateTime::from_timestamp_millis(1_772_323_200_123).unwrap(),
                        v.as_object().unwrap(),
                    )
                })
                .collect(),
        }
    }

    fn settings() -> EntrySettings {
        EntrySettings {
            source: None,
            service: None,
            tags: vec!["env:prod".into()],
        }
    }

    fn entries(e: &Encoded) -> Vec<Json> {
        e.bodies
            .iter()
            .flat_map(|b| serde_json::from_slice::<Vec<Json>>(b).unwrap())
            .collect()
    }

    #[test]
    fn an_entry_carries_the_drains_attributes_and_the_record_as_message() {
        let e = encode(
            &batch(vec![json!({"run_id": "r1", "service": "evil"})]),
            &settings(),
        );
        let all = entries(&e);
        assert_eq!(
            all,
            [json!({"ddsource":"outflow","service":"outflow.workflows",
                    "ddtags":"drain_id:drn_1,drain_name:Nightly__prod,data_type:workflows,schema:workflows_1,env:prod",
                    "hostname":"outflow","message":"{\"run_id\":\"r1\",\"service\":\"evil\"}",
                    "timestamp":1_772_323_200_123_i64,"outflow_schema":"workflows@1",
                    "outflow_batch_seq":4,"outflow_batch_prev":"k3","outflow_batch_sequence":"live"})]
        );
        assert_eq!(e.truncated, 0);
    }

    #[test]
    fn requests_split_at_the_entry_and_byte_limits_deterministically() {
        let small: Vec<Json> = (0..2_500).map(|n| json!({"n": n})).collect();
        let e = encode(&batch(small.clone()), &settings());
        assert_eq!(e.entries, [1000, 1000, 500]);
        assert_eq!(e.bodies, encode(&batch(small), &settings()).bodies);

        let big: Vec<Json> = (0..12)
            .map(|n| json!({"n": n, "pad": "x".repeat(900_000)}))
            .collect();
        let e = encode(&batch(big), &settings());
        assert!(e.bodies.len() >= 3, "{:?}", e.entries);
        assert!(e.bodies.iter().all(|b| b.len() <= MAX_REQUEST_BYTES));
        assert_eq!(e.entries.iter().sum::<usize>(), 12);
        let ns: Vec<i64> = entries(&e)
            .iter()
            .map(|x| {
                serde_json::from_str::<Json>(x["message"].as_str().unwrap()).unwrap()["n"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ns, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn an_oversized_record_is_cut_to_fit_and_marked() {
        // Quotes double when escaped: the cut must count escaped bytes, not characters.
        let e = encode(
            &batch(vec![
                json!({"blob": "\"é\n".repeat(400_000)}),
                json!({"n": 1}),
            ]),
            &settings(),
        );
        assert_eq!(e.truncated, 1);
        let all = entries(&e);
        let first = &all[0];
        assert_eq!(first["outflow_truncated"], true);
        assert!(
            first["ddtags"]
                .as_str()
                .unwrap()
                .ends_with(",truncated:true")
        );
        assert!(serde_json::to_vec(first).unwrap().len() <= MAX_LOG_BYTES);
        assert!(first["message"].as_str().unwrap().len() > MAX_LOG_BYTES / 2);
        assert!(all[1].get("outflow_truncated").is_none());
    }
}
