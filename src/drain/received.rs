//! What a receiver holds, read back: the files a drain's destination wrote (a local copy of a
//! bucket, a folder an HTTP receiver filled, or the drain's own S3 prefix), checked against
//! their manifests and the drain's sequence, and tallied like [`reconcile`](super::reconcile)
//! tallies the source — what `outflow verify` compares.
//!
//! - **Data files**: `.ndjson`, `.jsonl`, `.json`, each optionally `.gz` (gzip is recognised
//!   by its magic bytes), and `.parquet` (an object-store drain's typed columns). A file is a JSON envelope (`{"records": […]}`, another drain's is
//!   skipped), a JSON array of records, or NDJSON (one record per line). Another drain's S3
//!   objects (named `drn_…-{first}-{last}.…`) are skipped too.
//! - **Manifests** (`…/_manifests/{drain_id}/…/*.json`, see `dest::s3::manifest`): each
//!   names an object with its size and SHA-256, which must match; the live manifests' seqs
//!   must run without a gap up to the drain's last delivered seq, each naming the one before.
//!   Objects of test sends and replays (their own sequences) are left out of the tally.
//! - **Envelopes** carrying `seq` join the sequence check, so an HTTP receiver that stored
//!   bodies is checked for missing batches too.
//!
//! Identical records are counted once (a retry the receiver did not drop by `webhook-id`).

use super::dest::s3::BatchManifest;
use super::reconcile::Tally;
use crate::domain::DataType;
use crate::domain::catalog;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;

/// One file a receiver holds: its key (path below the root read) and its bytes.
#[derive(Debug, Clone)]
pub struct File {
    /// Object key or relative path, `/`-separated.
    pub key: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// The drain the files are checked for.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Drain id.
    pub drain_id: &'a str,
    /// Its data type (which fields hold the id and the time).
    pub data_type: DataType,
    /// The seq of the last live batch it delivered (0: none).
    pub last_seq: i64,
}

/// What reading the files found.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    /// Data files read.
    pub files: usize,
    /// Manifests read.
    pub manifests: usize,
    /// Distinct records tallied.
    pub records: usize,
    /// Everything wrong besides the bucket counts: altered or missing objects, missing
    /// batches, unreadable files. Sorted.
    pub problems: Vec<String>,
}

/// Whether `key` can matter to drain `drain_id`: one of its manifests, or a data file that is
/// not another drain's (what `outflow verify --s3` downloads).
pub fn wanted(key: &str, drain_id: &str) -> bool {
    is_manifest(key, drain_id) || is_data(key, drain_id)
}

fn is_manifest(key: &str, drain_id: &str) -> bool {
    key.contains(&format!("_manifests/{drain_id}/")) && key.ends_with(".json")
}

fn is_data(key: &str, drain_id: &str) -> bool {
    let k = key.strip_suffix(".gz").unwrap_or(key);
    let name = key.rsplit('/').next().unwrap_or(key);
    // Another drain's S3 object (`drn_…-{first}-{last}.…`) in the same prefix.
    let others = name.starts_with("drn_") && !name.starts_with(&format!("{drain_id}-"));
    !others
        && !key.contains("_manifests/")
        && !key.contains("_outflow_preflight/")
        && [".ndjson", ".jsonl", ".json", ".parquet"]
            .iter()
            .any(|e| k.ends_with(e))
}

fn gunzip_if_gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| format!("it is not valid gzip: {e}"))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// A data file's content: its records, and the envelope's drain id and sequence if it has one.
struct Parsed {
    records: Vec<Json>,
    drain_id: Option<String>,
    live_seq: Option<i64>,
}

/// A Parquet file's rows as JSON records: text as strings, numbers as numbers, timestamps in
/// Outflow's one output form (what the other formats carry), so all formats tally alike.
fn parquet_records(bytes: &[u8]) -> Result<Vec<Json>, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
    use arrow_schema::DataType as A;
    let bad = |e: &dyn std::fmt::Display| format!("it is not a readable Parquet file: {e}");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(bytes.to_vec()),
    )
    .and_then(|b| b.build())
    .map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut record = serde_json::Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let value = if column.is_null(row) {
                    Json::Null
                } else {
                    match field.data_type() {
                        A::Utf8 => column.as_string::<i32>().value(row).into(),
                        A::Int64 => column.as_primitive::<Int64Type>().value(row).into(),
                        A::Float64 => serde_json::Number::from_f64(
                            column.as_primitive::<Float64Type>().value(row),
                        )
                        .map_or(Json::Null, Json::Number),
                        A::Boolean => column.as_boolean().value(row).into(),
                        A::Timestamp(..) => {
                            let us = column.as_primitive::<TimestampMicrosecondType>().value(row);
                            DateTime::<Utc>::from_timestamp_micros(us).map_or(Json::Null, |t| {
                                crate::domain::time::format_timestamp(&t).into()
                            })
                        }
                        other => return Err(format!("column `{}` has type {other}", field.name())),
                    }
                };
                record.insert(field.name().clone(), value);
            }
            out.push(Json::Object(record));
        }
    }
    Ok(out)
}

fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut parsed = Parsed {
        records: vec![],
        drain_id: None,
        live_seq: None,
    };
    if bytes.starts_with(b"PAR1") {
        parsed.records = parquet_records(bytes)?;
        return Ok(parsed);
    }
    let text = gunzip_if_gzip(bytes)?;
    match serde_json::from_slice::<Json>(&text) {
        Ok(Json::Object(mut o)) if o.get("records").is_some_and(Json::is_array) => {
            parsed.drain_id = o.get("drain_id").and_then(Json::as_str).map(String::from);
            if o.get("sequence").and_then(Json::as_str) == Some("live") {
                parsed.live_seq = o.get("seq").and_then(Json::as_i64);
            }
            if let Some(Json::Array(records)) = o.remove("records") {
                parsed.records = records;
            }
        }
        Ok(Json::Array(records)) => parsed.records = records,
        Ok(record @ Json::Object(_)) => parsed.records = vec![record],
        _ => {
            for (n, line) in text.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let record = serde_json::from_slice::<Json>(line)
                    .map_err(|e| format!("line {} is not JSON: {e}", n + 1))?;
                parsed.records.push(record);
            }
        }
    }
    Ok(parsed)
}

/// The file a manifest names: the same key, or — when only part of a bucket was copied —
/// the file whose key is the end of it (or whose key ends with it).
fn named<'a>(files: &HashMap<&str, &'a File>, key: &str) -> Option<&'a File> {
    if let Some(f) = files.get(key) {
        return Some(*f);
    }
    let mut rest = key;
    while let Some((_, tail)) = rest.split_once('/') {
        if let Some(f) = files.get(tail) {
            return Some(*f);
        }
        rest = tail;
    }
    files
        .iter()
        .find(|(k, _)| k.ends_with(&format!("/{key}")))
        .map(|(_, f)| *f)
}

/// The state of one [`read`]: what was found so far.
struct Reading<'a> {
    expected: &'a Expected<'a>,
    /// Data files by key.
    data: HashMap<&'a str, &'a File>,
    found: Findings,
    problems: BTreeSet<String>,
    /// Live seqs held (from manifests and envelopes).
    seqs: BTreeSet<i64>,
    /// Objects of replays and test sends: not tallied.
    other_sequences: HashSet<&'a str>,
}

/// Checks `files` for `expected`'s drain and tallies their records into `tally`.
pub fn read(files: &[File], expected: &Expected<'_>, tally: &mut Tally) -> Findings {
    let mut r = Reading {
        expected,
        data: files
            .iter()
            .filter(|f| is_data(&f.key, expected.drain_id))
            .map(|f| (f.key.as_str(), f))
            .collect(),
        found: Findings::default(),
        problems: BTreeSet::new(),
        seqs: BTreeSet::new(),
        other_sequences: HashSet::new(),
    };
    r.manifests(files);
    r.records(tally);
    r.sequence();
    r.found.problems = r.problems.into_iter().collect();
    r.found
}

impl<'a> Reading<'a> {
    /// Each manifest's object as listed; the live manifests' seqs and chain.
    fn manifests(&mut self, files: &'a [File]) {
        let mut live: BTreeMap<i64, BatchManifest> = BTreeMap::new();
        for f in files
            .iter()
            .filter(|f| is_manifest(&f.key, self.expected.drain_id))
        {
            self.found.manifests += 1;
            let m = match BatchManifest::parse(&f.bytes) {
                Ok(m) => m,
                Err(e) => {
                    self.problems.insert(format!("manifest `{}`: {e}", f.key));
                    continue;
                }
            };
            self.object(&m);
            if m.sequence == "live" && m.seq > 0 {
                self.seqs.insert(m.seq);
                live.insert(m.seq, m);
            }
        }
        for (seq, m) in &live {
            if let Some(before) = live.get(&(seq - 1))
                && m.prev.as_deref() != Some(before.batch_key.as_str())
            {
                self.problems.insert(format!(
                    "batch seq {seq}: it names `{}` as the batch before it, but seq {} is `{}`",
                    m.prev.as_deref().unwrap_or("none"),
                    seq - 1,
                    before.batch_key
                ));
            }
        }
    }

    /// The object `m` lists: present, with the size and SHA-256 it lists.
    fn object(&mut self, m: &BatchManifest) {
        let what = format!("batch seq {} ({})", m.seq, m.sequence);
        let Some(obj) = named(&self.data, &m.key) else {
            self.problems
                .insert(format!("{what}: the object `{}` is missing", m.key));
            return;
        };
        let sha = hex::encode(Sha256::digest(&obj.bytes));
        if sha != m.sha256 || obj.bytes.len() as u64 != m.bytes {
            self.problems.insert(format!(
                "{what}: the object `{}` was altered: {} bytes with SHA-256 {sha}, the manifest \
                 says {} bytes with SHA-256 {}",
                obj.key,
                obj.bytes.len(),
                m.bytes,
                m.sha256
            ));
        }
        if m.sequence != "live" {
            self.other_sequences.insert(obj.key.as_str());
        }
    }

    /// Every distinct record of the drain's data files into `tally`.
    fn records(&mut self, tally: &mut Tally) {
        let spec = catalog::spec(self.expected.data_type);
        let mut seen: HashSet<String> = HashSet::new();
        let mut files: Vec<&File> = self.data.values().copied().collect();
        files.sort_by(|a, b| a.key.cmp(&b.key));
        let (mut no_id, mut no_time) = (0usize, 0usize);
        let drain = self.expected.drain_id;
        let (replays, tests) = (format!("{drain}-replay-"), format!("{drain}-test-"));
        for f in files {
            // Replays and test sends, listed in a manifest or not: not the live delivery.
            let name = f.key.rsplit('/').next().unwrap_or(&f.key);
            if self.other_sequences.contains(f.key.as_str())
                || name.starts_with(&replays)
                || name.starts_with(&tests)
            {
                continue;
            }
            let parsed = match parse(&f.bytes) {
                Ok(p) => p,
                Err(e) => {
                    self.problems.insert(format!("file `{}`: {e}", f.key));
                    continue;
                }
            };
            if parsed
                .drain_id
                .as_deref()
                .is_some_and(|d| d != self.expected.drain_id)
            {
                continue;
            }
            self.found.files += 1;
            self.seqs.extend(parsed.live_seq);
            for record in parsed.records {
                let Json::Object(fields) = &record else {
                    self.problems
                        .insert(format!("file `{}`: a record is not a JSON object", f.key));
                    continue;
                };
                let Some(time) = fields
                    .get(spec.time_field)
                    .and_then(Json::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                else {
                    no_time += 1;
                    continue;
                };
                let id = match fields.get(spec.id_field) {
                    Some(Json::String(s)) => s.clone(),
                    Some(Json::Null) | None => {
                        no_id += 1;
                        continue;
                    }
                    Some(other) => other.to_string(),
                };
                if seen.insert(record.to_string()) {
                    self.found.records += 1;
                    tally.received(time.with_timezone(&Utc), &id);
                }
            }
        }
        if no_id > 0 {
            self.problems.insert(format!(
                "{no_id} records have no `{}`: digests need it, so add it to the drain's fields",
                spec.id_field
            ));
        }
        if no_time > 0 {
            self.problems.insert(format!(
                "{no_time} records have no readable `{}` (RFC 3339): they cannot be bucketed",
                spec.time_field
            ));
        }
    }

    /// The live sequence: from the first seq held (older files may have been pruned) to the
    /// drain's last, without a gap.
    fn sequence(&mut self) {
        let (Some(&first), Some(&held_last)) = (self.seqs.first(), self.seqs.last()) else {
            return;
        };
        let last = self.expected.last_seq.max(held_last);
        let missing: Vec<i64> = (first..=last).filter(|s| !self.seqs.contains(s)).collect();
        if !missing.is_empty() {
            self.problems.insert(format!(
                "{} live batches are missing: seq {}",
                missing.len(),
                shorten(&missing)
            ));
        }
    }
}

/// `1, 2, 5…` — at most 20 numbers.
fn shorten(seqs: &[i64]) -> String {
    let mut s: Vec<String> = seqs.iter().take(20).map(i64::to_string).collect();
    if seqs.len() > 20 {
        s.push("…".into());
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Granularity;
    use chrono::TimeZone;
    use serde_json::json;

    fn tally() -> Tally {
        let day = |d| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
        Tally::new(chrono_tz::UTC, Granularity::Day, day(1), day(3)).unwrap()
    }

    fn envelope(seq: i64, ids: &[&str]) -> File {
        let records: Vec<Json> = ids
            .iter()
            .map(|id| json!({"run_id": id, "pl_run_created_ts": "2026-03-01T10:00:00.000000Z"}))
            .collect();
        File {
            key: format!("in/{seq}.json"),
            bytes: serde_json::to_vec(&json!({"drain_id": "drn_1", "sequence": "live",
                "seq": seq, "records": records}))
            .unwrap(),
        }
    }

    fn expected(last_seq: i64) -> Expected<'static> {
        Expected {
            drain_id: "drn_1",
            data_type: DataType::Workflows,
            last_seq,
        }
    }

    #[test]
    fn envelopes_are_tallied_once_and_a_missing_seq_is_named() {
        let mut t = tally();
        let files = [
            envelope(1, &["a", "b"]),
            envelope(2, &["c"]),
            File {
                key: "in/2-again.json".into(),
                ..envelope(2, &["c"])
            },
            envelope(4, &["d"]),
        ];
        let f = read(&files, &expected(5), &mut t);
        assert_eq!(f.records, 4, "the repeated batch counts once");
        assert_eq!(t.buckets()[0].delivered, 4);
        assert_eq!(f.problems, ["2 live batches are missing: seq 3, 5"]);
    }

    #[test]
    fn ndjson_gzip_and_arrays_are_read() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"run_id\":\"a\",\"pl_run_created_ts\":\"2026-03-02T01:00:00Z\"}\n\n{\"run_id\":\"b\",\"pl_run_created_ts\":\"2026-03-02T02:00:00Z\"}\n").unwrap();
        let files = [
            File {
                key: "x/1.ndjson.gz".into(),
                bytes: gz.finish().unwrap(),
            },
            File {
                key: "x/2.json".into(),
                bytes: br#"[{"run_id":"c","pl_run_created_ts":"2026-03-02T03:00:00Z"}]"#.to_vec(),
            },
            File {
                key: "x/notes.txt".into(),
                bytes: b"ignored".to_vec(),
            },
        ];
        let mut t = tally();
        let f = read(&files, &expected(0), &mut t);
        assert_eq!((f.files, f.records), (2, 3));
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(t.buckets()[1].delivered, 3);
    }
}
