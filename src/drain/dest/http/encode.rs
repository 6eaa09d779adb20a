//! Request bodies, and the split of a batch into requests under the byte cap.
//!
//! A batch is encoded record by record into pieces plus the framing around them, so that the
//! size of any run of records is known exactly without encoding it: the split is greedy
//! (as many consecutive records as fit under `max_body_bytes`, uncompressed), and it is a
//! function of the records alone. A retried batch therefore splits at the same places, and
//! each part keeps its `webhook-id` across retries. (OTLP's `observed_time_unix_nano` changes
//! between attempts, but not its size: fixed64 in protobuf, and in JSON a decimal string of
//! 19 digits from 2001 to 2286.)

use super::otlp::{self, ProtoFrame};
use crate::drain::batch::{Batch, envelope_head};
use crate::drain::dest::config::{HttpFormat, OtlpEncoding};
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use std::borrow::Cow;
use std::ops::Range;

/// A batch, encoded and ready to be cut into request bodies. JSON and NDJSON items borrow
/// the records' JSON from the batch: nothing is re-encoded or copied until a body is cut.
pub(super) enum Body<'a> {
    /// JSON envelope, NDJSON and OTLP JSON: `head`, the items (each followed by `term`)
    /// joined by `sep`, `tail`.
    Text {
        head: Vec<u8>,
        items: Vec<Cow<'a, [u8]>>,
        term: &'static [u8],
        sep: &'static [u8],
        tail: Vec<u8>,
    },
    /// OTLP protobuf: the records, re-encoded per request inside the same frame.
    Proto {
        resource: Resource,
        scope: InstrumentationScope,
        frame: ProtoFrame,
        records: Vec<LogRecord>,
        item_lens: Vec<usize>,
    },
}

fn to_json(v: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON values serialize")
}

/// Encodes `batch` in `format`; `observed_nanos` stamps OTLP's `observed_time_unix_nano`.
pub(super) fn prepare<'a>(
    format: HttpFormat,
    encoding: OtlpEncoding,
    batch: &'a Batch,
    observed_nanos: u64,
) -> Body<'a> {
    let borrowed = || {
        batch
            .records
            .iter()
            .map(|r| Cow::Borrowed(r.json.as_bytes()))
            .collect()
    };
    match format {
        HttpFormat::Json => Body::Text {
            head: envelope_head(batch),
            items: borrowed(),
            term: b"",
            sep: b",",
            tail: b"]}".to_vec(),
        },
        HttpFormat::Ndjson => Body::Text {
            head: vec![],
            items: borrowed(),
            term: b"\n",
            sep: b"",
            tail: vec![],
        },
        HttpFormat::Otlp => {
            let resource = otlp::resource(&batch.org_id, &batch.chain);
            let scope = otlp::scope();
            let records: Vec<LogRecord> = batch
                .records
                .iter()
                .map(|r| otlp::log_record(batch, r, observed_nanos))
                .collect();
            match encoding {
                OtlpEncoding::Json => {
                    let (head, tail) = otlp::json_frame(&resource, &scope);
                    Body::Text {
                        head: head.into_bytes(),
                        items: records
                            .iter()
                            .map(|r| Cow::Owned(to_json(&otlp::log_record_json(r))))
                            .collect(),
                        term: b"",
                        sep: b",",
                        tail: tail.into_bytes(),
                    }
                }
                OtlpEncoding::Protobuf => Body::Proto {
                    frame: ProtoFrame::new(&resource, &scope),
                    item_lens: records.iter().map(ProtoFrame::item_len).collect(),
                    resource,
                    scope,
                    records,
                },
            }
        }
    }
}

impl Body<'_> {
    /// Number of records.
    pub(super) fn count(&self) -> usize {
        match self {
            Body::Text { items, .. } => items.len(),
            Body::Proto { records, .. } => records.len(),
        }
    }

    fn item_len(&self, i: usize) -> usize {
        match self {
            Body::Text { items, term, .. } => items[i].len() + term.len(),
            Body::Proto { item_lens, .. } => item_lens[i],
        }
    }

    /// Size of a body of `n` records whose items add up to `items` bytes.
    fn framed_len(&self, n: usize, items: usize) -> usize {
        match self {
            Body::Text {
                head, sep, tail, ..
            } => head.len() + items + sep.len() * n.saturating_sub(1) + tail.len(),
            Body::Proto { frame, .. } => frame.total_len(items),
        }
    }

    /// Size of the body of `range`.
    pub(super) fn len(&self, range: Range<usize>) -> usize {
        let n = range.len();
        let items = range.map(|i| self.item_len(i)).sum();
        self.framed_len(n, items)
    }

    /// The body of the records in `range`.
    pub(super) fn bytes(&self, range: Range<usize>) -> Vec<u8> {
        let out = match self {
            Body::Text {
                head,
                items,
                term,
                sep,
                tail,
            } => {
                let mut out = Vec::with_capacity(self.len(range.clone()));
                out.extend_from_slice(head);
                for (n, item) in items[range.clone()].iter().enumerate() {
                    if n > 0 {
                        out.extend_from_slice(sep);
                    }
                    out.extend_from_slice(item);
                    out.extend_from_slice(term);
                }
                out.extend_from_slice(tail);
                out
            }
            Body::Proto {
                resource,
                scope,
                records,
                ..
            } => otlp::request(resource, scope, records[range.clone()].to_vec()).encode_to_vec(),
        };
        debug_assert_eq!(out.len(), self.len(range), "body sizes are exact");
        out
    }

    /// Consecutive runs of records whose bodies fit in `cap` bytes, greedily; an error when
    /// one record alone does not fit. An empty batch has no runs.
    pub(super) fn chunks(&self, cap: usize) -> Result<Vec<Range<usize>>, String> {
        let n = self.count();
        let mut chunks = vec![];
        let mut start = 0;
        while start < n {
            let (mut end, mut items) = (start, 0);
            while end < n {
                let more = items + self.item_len(end);
                if self.framed_len(end - start + 1, more) > cap {
                    break;
                }
                items = more;
                end += 1;
            }
            if end == start {
                return Err(format!(
                    "record {} of the batch alone makes a {}-byte request body, over this \
                     destination's max_body_bytes of {cap}; raise max_body_bytes or select \
                     fewer fields",
                    start + 1,
                    self.len(start..start + 1),
                ));
            }
            chunks.push(start..end);
            start = end;
        }
        Ok(chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use crate::drain::batch::DrainRecord;
    use chrono::TimeZone;
    use serde_json::{Value as Json, json};

    fn batch(n: usize) -> Batch {
        Batch {
            drain_id: "drn_\"q\"".into(),
            drain_name: "Nightly → warehouse".into(),
            org_id: "org_1".into(),
            data_type: DataType::Workflows,
            first_pos: 1,
            last_pos: n as i64,
            key: "key".into(),
            chain: crate::drain::batch::Chain::live(2, Some("prev".into())),
            records: (0..n)
                .map(|i| {
                    DrainRecord::new(
                        chrono::Utc
                            .timestamp_opt(1_700_000_000 + i as i64, 0)
                            .unwrap(),
                        json!({"id": format!("wf_{i}"), "n": i, "pad": "x".repeat(i % 7)})
                            .as_object()
                            .unwrap(),
                    )
                })
                .collect(),
        }
    }

    fn all_formats() -> [(HttpFormat, OtlpEncoding); 4] {
        [
            (HttpFormat::Json, OtlpEncoding::Protobuf),
            (HttpFormat::Ndjson, OtlpEncoding::Protobuf),
            (HttpFormat::Otlp, OtlpEncoding::Protobuf),
            (HttpFormat::Otlp, OtlpEncoding::Json),
        ]
    }

    #[test]
    fn json_envelope() {
        let b = batch(2);
        let body = prepare(HttpFormat::Json, OtlpEncoding::Protobuf, &b, 0);
        let v: Json = serde_json::from_slice(&body.bytes(0..2)).unwrap();
        assert_eq!(
            v,
            json!({
                "source": "outflow",
                "drain_id": "drn_\"q\"",
                "drain_name": "Nightly → warehouse",
                "data_type": "workflows",
                "seq": 2,
                "prev": "prev",
                "sequence": "live",
                "records": [
                    {"id": "wf_0", "n": 0, "pad": ""},
                    {"id": "wf_1", "n": 1, "pad": "x"},
                ],
            })
        );
        let empty: Json = serde_json::from_slice(&body.bytes(0..0)).unwrap();
        assert_eq!(empty["records"], json!([]));
    }

    #[test]
    fn ndjson_lines() {
        let b = batch(3);
        let body = prepare(HttpFormat::Ndjson, OtlpEncoding::Protobuf, &b, 0);
        let text = String::from_utf8(body.bytes(0..3)).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], json!({"id": "wf_2", "n": 2, "pad": "xx"}));
    }

    #[test]
    fn sizes_are_exact_for_every_format_and_range() {
        let b = batch(20);
        for (format, encoding) in all_formats() {
            let body = prepare(format, encoding, &b, 99);
            for range in [0..0, 0..1, 3..4, 0..20, 5..17] {
                assert_eq!(
                    body.bytes(range.clone()).len(),
                    body.len(range.clone()),
                    "{format:?}/{encoding:?} {range:?}"
                );
            }
        }
    }

    #[test]
    fn chunks_are_consecutive_maximal_and_under_the_cap() {
        let b = batch(50);
        for (format, encoding) in all_formats() {
            let body = prepare(format, encoding, &b, 1_700_000_000_000_000_000);
            let whole = body.len(0..50);
            let chunks = body.chunks(whole).unwrap();
            assert_eq!((chunks.len(), &chunks[0]), (1, &(0..50)));
            for cap in [whole - 1, whole / 3, body.len(0..2)] {
                let chunks = body.chunks(cap).unwrap();
                assert!(chunks.len() > 1, "{format:?} cap {cap}");
                assert_eq!(chunks.first().unwrap().start, 0);
                assert_eq!(chunks.last().unwrap().end, 50);
                for w in chunks.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                    // Greedy: the next record would not have fit.
                    assert!(body.len(w[0].start..w[0].end + 1) > cap);
                }
                for c in &chunks {
                    assert!(!c.is_empty() && body.bytes(c.clone()).len() <= cap);
                }
                // Deterministic: the same records split the same way.
                let again = prepare(format, encoding, &b, 1_800_000_000_123_456_789);
                assert_eq!(again.chunks(cap).unwrap(), chunks, "{format:?}");
            }
        }
    }

    #[test]
    fn one_record_over_the_cap_is_an_error() {
        let b = batch(3);
        let body = prepare(HttpFormat::Json, OtlpEncoding::Protobuf, &b, 0);
        let one = body.len(0..1);
        let err = body.chunks(one - 1).unwrap_err();
        assert!(
            err.contains(&format!("{one}-byte")) && err.contains(&format!("of {}", one - 1)),
            "{err}"
        );
    }

    #[test]
    fn empty_batches_have_no_chunks() {
        let b = batch(0);
        let body = prepare(HttpFormat::Json, OtlpEncoding::Protobuf, &b, 0);
        assert!(body.chunks(10).unwrap().is_empty());
    }
}
