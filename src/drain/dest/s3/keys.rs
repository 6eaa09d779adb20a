//! Object keys of the S3 destination. Every key is a function of the batch alone, so a retried
//! batch lands on the key it was meant for and overwrites whatever a failed attempt left:
//!
//! ```text
//! {prefix}/{data_type}/dt=YYYY-MM-DD/{drain_id}-{first_pos}-{last_pos}.ndjson.gz   (or .json, .parquet)
//! {prefix}/{data_type}/dt=YYYY-MM-DD/{drain_id}-{sequence}-{first}-{last}.…       (replays, tests)
//! {prefix}/{data_type}/_manifests/{drain_id}/{sequence}/{seq:010}.json          (per batch)
//! {prefix}/_outflow_preflight/{drain_id}-{uuid}.txt                               (deleted again)
//! ```
//!
//! `{sequence}` is the batch's sequence space with `:` spelled `-` (`live`,
//! `replay-rpl_…`, `test`), so the keys are also valid file names when a bucket is synced to
//! disk. A test send's manifest is named by its batch key, since test sends have no seq.
//! Replay and test objects name their sequence too: a replay batch can cover the positions of
//! a live batch, and must not overwrite the object the live manifest vouches for.
//!
//! The day is the UTC date of the batch's first record: a batch that straddles midnight stays
//! in one object, under the day it started. An empty prefix gives keys without a leading slash.

use crate::drain::batch::Batch;
use crate::drain::dest::config::S3Format;

/// The longest prefix accepted; S3 keys may be 1,024 bytes and the rest of the key needs room.
const MAX_PREFIX_LEN: usize = 512;

/// Trims slashes off a configured prefix and checks it only holds characters S3 documents as
/// safe in keys (plus `=`, for Hive-style `name=value` folders), so the key we report is the
/// key written — nothing gets percent-encoded on the way.
pub fn normalize_prefix(prefix: &str) -> Result<String, String> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.len() > MAX_PREFIX_LEN {
        return Err(format!(
            "the S3 prefix is longer than {MAX_PREFIX_LEN} characters"
        ));
    }
    if let Some(bad) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!-_.*'()/=".contains(*c)))
    {
        return Err(format!(
            "the S3 prefix may hold letters, digits and `! - _ . * ' ( ) / =`, not `{bad}`"
        ));
    }
    if !trimmed.is_empty()
        && trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err("the S3 prefix may not contain empty, `.` or `..` segments".into());
    }
    Ok(trimmed.to_string())
}

/// `{prefix}/{rest}`, or `rest` alone under an empty prefix.
pub fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}/{rest}")
    }
}

/// `YYYY-MM-DD` of the batch's first record (UTC), or `None` for a batch without records.
pub fn batch_date(batch: &Batch) -> Option<String> {
    let first = batch.records.first()?;
    Some(first.time.date_naive().format("%Y-%m-%d").to_string())
}

fn day_folder(prefix: &str, batch: &Batch, date: &str) -> String {
    join(prefix, &format!("{}/dt={date}", batch.data_type.as_str()))
}

/// The folder of a drain's manifests of one sequence space (`live`, `replay:{id}`).
pub fn manifest_folder(prefix: &str, data_type: &str, drain_id: &str, sequence: &str) -> String {
    join(
        prefix,
        &format!(
            "{data_type}/_manifests/{drain_id}/{}",
            sequence.replace(':', "-")
        ),
    )
}

/// Key of the batch's object; `None` for a batch without records (there is nothing to write).
pub fn object_key(prefix: &str, batch: &Batch, format: S3Format) -> Option<String> {
    let date = batch_date(batch)?;
    let ext = match format {
        S3Format::Ndjson => "ndjson.gz",
        S3Format::Json => "json",
        S3Format::Parquet => "parquet",
    };
    let space = if batch.chain.space == crate::drain::batch::Chain::LIVE {
        String::new()
    } else {
        format!("-{}", batch.chain.space.replace(':', "-"))
    };
    Some(format!(
        "{}/{}{space}-{}-{}.{ext}",
        day_folder(prefix, batch, &date),
        batch.drain_id,
        batch.first_pos,
        batch.last_pos
    ))
}

/// Key of the batch's manifest: by seq in its sequence space (by key for a test send).
pub fn manifest_key(prefix: &str, batch: &Batch) -> String {
    let folder = manifest_folder(
        prefix,
        batch.data_type.as_str(),
        &batch.drain_id,
        &batch.chain.space,
    );
    if batch.chain.seq > 0 {
        format!("{folder}/{:010}.json", batch.chain.seq)
    } else {
        format!("{folder}/{}.json", batch.key)
    }
}

/// Key of a preflight probe; `nonce` keeps two checks of the same drain apart.
pub fn probe_key(prefix: &str, drain_id: &str, nonce: &str) -> String {
    join(
        prefix,
        &format!("_outflow_preflight/{drain_id}-{nonce}.txt"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DataType;
    use crate::drain::batch::DrainRecord;
    use chrono::TimeZone;

    fn batch(times: &[(i32, u32, u32, u32)]) -> Batch {
        Batch {
            drain_id: "drn_1".into(),
            drain_name: "n".into(),
            org_id: "org".into(),
            data_type: DataType::CreditLogs,
            first_pos: 10,
            last_pos: 42,
            key: "k".into(),
            chain: crate::drain::batch::Chain::live(41, None),
            records: times
                .iter()
                .map(|&(y, m, d, h)| {
                    DrainRecord::new(
                        chrono::Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap(),
                        &Default::default(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn keys_follow_the_layout_and_the_first_records_day() {
        let b = batch(&[(2026, 3, 1, 23), (2026, 3, 2, 1)]);
        assert_eq!(
            object_key("exports/acme", &b, S3Format::Ndjson).unwrap(),
            "exports/acme/credit_logs/dt=2026-03-01/drn_1-10-42.ndjson.gz"
        );
        assert_eq!(
            object_key("", &b, S3Format::Json).unwrap(),
            "credit_logs/dt=2026-03-01/drn_1-10-42.json"
        );
        assert_eq!(
            manifest_key("", &b),
            "credit_logs/_manifests/drn_1/live/0000000041.json"
        );
        let mut replayed = b.clone();
        replayed.chain = crate::drain::batch::Chain::replay("rpl_9", 2, None);
        assert_eq!(
            object_key("p", &replayed, S3Format::Json).unwrap(),
            "p/credit_logs/dt=2026-03-01/drn_1-replay-rpl_9-10-42.json",
            "a replay never overwrites a live object"
        );
        assert_eq!(
            manifest_key("p", &replayed),
            "p/credit_logs/_manifests/drn_1/replay-rpl_9/0000000002.json"
        );
        replayed.chain = crate::drain::batch::Chain::test();
        assert_eq!(
            manifest_key("p", &replayed),
            "p/credit_logs/_manifests/drn_1/test/k.json"
        );
        assert_eq!(
            probe_key("p", "drn_1", "u"),
            "p/_outflow_preflight/drn_1-u.txt"
        );
        assert_eq!(
            probe_key("", "drn_1", "u"),
            "_outflow_preflight/drn_1-u.txt"
        );
        assert_eq!(
            object_key("p", &b, S3Format::Parquet).unwrap(),
            "p/credit_logs/dt=2026-03-01/drn_1-10-42.parquet"
        );
        assert_eq!(object_key("p", &batch(&[]), S3Format::Json), None);
    }

    #[test]
    fn prefixes_are_trimmed_and_checked() {
        assert_eq!(normalize_prefix("/a/b=c/").unwrap(), "a/b=c");
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("///").unwrap(), "");
        assert!(normalize_prefix("a//b").is_err());
        assert!(normalize_prefix("a/../b").is_err());
        assert!(normalize_prefix("a b").unwrap_err().contains("` `"));
        assert!(normalize_prefix("a?b").is_err());
        assert!(normalize_prefix(&"x".repeat(600)).is_err());
    }
}
