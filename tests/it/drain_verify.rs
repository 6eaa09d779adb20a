//! Drains a customer can verify (issue 17), on both backends: every batch's seq and prev (a
//! receiver finds an injected missing batch), the reconciliation route's digests against an
//! independent computation, and `outflow verify` — the real binary — finding a deleted record
//! and an altered object.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::http_receiver::{Received, Receiver, Reply};
use outflow::drain::engine::Ran;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn settings(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 2;
    c.drains.poll_min_seconds = 600;
    c.drains.poll_max_seconds = 600;
    c.drains.lease_seconds = 3;
}

/// An app that runs no drains, and a drain to `rx` held by a stepper engine only the test
/// runs (as in `drains.rs`): nothing but the test's cycles deliver it.
async fn stepped(backend: Backend, rx: &Receiver) -> (Ctx, outflow::drain::Drains, String) {
    use outflow::drain::request::{self, DrainRequest};
    let ctx = Ctx::new(backend, |c| {
        settings(c);
        c.drains.run = false;
    })
    .await;
    let secret = ctx
        .ok(
            reqwest::Method::POST,
            "/v1/secrets",
            Some(json!({"name": "receiver", "kind": "http", "url": rx.url})),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let store = ctx.app.store.clone();
    let secrets = ctx.app.drains.secrets.clone();
    let config = outflow::config::DrainsConfig {
        allow_private_destinations: true,
        attempts_per_cycle: 2,
        retry_base_ms: 20,
        cycle_backoff_seconds: 0,
        lease_seconds: 600,
        ..Default::default()
    };
    let engine = outflow::drain::engine::Engine::new(
        store.clone(),
        secrets.clone(),
        ctx.app.exports.mailer.clone(),
        config,
        "stepper".into(),
    );
    let stepper = outflow::drain::Drains {
        store: store.clone(),
        secrets,
        engine,
    };
    let org = store.get_org("acme").await.unwrap().unwrap();
    let req = DrainRequest {
        name: Some("verified".into()),
        data_type: Some("workflows".into()),
        fields: Some(vec!["run_id".into(), "credit_cost".into()]),
        destination: Some(
            serde_json::from_value(json!({"type": "http", "format": "json"})).unwrap(),
        ),
        secret_id: Some(secret),
        ..Default::default()
    };
    let valid = request::validate(&store, &org, &req, request::NATIVE, chrono::Utc::now())
        .await
        .unwrap();
    let drain = stepper
        .create("acme", valid, &outflow::audit::Actor::system())
        .await
        .unwrap();
    assert_eq!(stepper.engine.run_due().await.unwrap(), Ran::Idle);
    (ctx, stepper, drain.id)
}

/// A workflow run created at `ts`.
fn run_at(id: &str, ts: &str) -> Value {
    let mut r = run_record("acme", id);
    r["pl_run_created_ts"] = json!(ts);
    r
}

/// Ingests and waits until the records are readable (PostgreSQL: until older transactions
/// elsewhere in the cluster have ended).
async fn ingest(ctx: &Ctx, records: Vec<Value>) {
    ctx.app.ingest_ok("workflows", &Value::Array(records)).await;
    read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
}

/// Record batches (not the preflight probe).
fn batches(reqs: &[Received]) -> Vec<&Received> {
    reqs.iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
        .collect()
}

/// What a receiver does with the seq headers: the seqs it holds of the live sequence, and
/// the ones missing between the first and the last.
fn missing_seqs(held: &[&Received]) -> Vec<i64> {
    let seqs: std::collections::BTreeSet<i64> = held
        .iter()
        .filter(|r| r.header("x-outflow-batch-space") == "live")
        .map(|r| r.header("x-outflow-batch-seq").parse().unwrap())
        .collect();
    let (Some(first), Some(last)) = (seqs.first(), seqs.last()) else {
        return vec![];
    };
    (*first..=*last).filter(|s| !seqs.contains(s)).collect()
}

both_backends!(
    every_batch_carries_seq_and_prev_and_a_receiver_finds_a_missing_one,
    |backend| async move {
        let rx = Receiver::start().await;
        let (ctx, stepper, id) = stepped(backend, &rx).await;
        let engine = &stepper.engine;

        // Batch 1.
        ingest(&ctx, vec![run_at("a", "2026-03-01T10:00:00Z")]).await;
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        // Batch 2 fails a whole cycle (both tries), then goes through: every try carries the
        // same seq, prev and key — the number is the batch's, not the attempt's.
        rx.set_default(Reply::status(503));
        ingest(&ctx, vec![run_at("b", "2026-03-01T11:00:00Z")]).await;
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        rx.set_default(Reply::status(200));
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        // Batches 3 and 4.
        for (n, run) in ["c", "d"].iter().enumerate() {
            ingest(
                &ctx,
                vec![run_at(run, &format!("2026-03-01T1{}:00:00Z", n + 2))],
            )
            .await;
            assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        }

        let reqs = rx.requests();
        let all = batches(&reqs);
        let seq_of = |r: &Received| r.header("x-outflow-batch-seq").to_string();
        assert_eq!(
            all.iter().map(|r| seq_of(r)).collect::<Vec<_>>(),
            ["1", "2", "2", "2", "3", "4"],
            "three tries of batch 2"
        );
        for r in &all[1..4] {
            assert_eq!(r.header("webhook-id"), all[1].header("webhook-id"));
            assert_eq!(
                r.header("x-outflow-batch-prev"),
                all[0].header("webhook-id")
            );
        }
        assert!(
            !all[0].headers.contains_key("x-outflow-batch-prev"),
            "the first batch has no prev"
        );
        // Each names the batch before it, in the headers and the envelope alike.
        for (before, r) in [(all[3], all[4]), (all[4], all[5])] {
            assert_eq!(
                r.header("x-outflow-batch-prev"),
                before.header("webhook-id")
            );
            let body = r.json();
            assert_eq!(body["seq"].to_string(), seq_of(r));
            assert_eq!(body["prev"], before.header("webhook-id"));
            assert_eq!(body["sequence"], "live");
        }

        // The receiver keeps one copy of each delivered batch — and loses batch 3 (a crash
        // before its write hit the disk): it sees 4 after 2.
        let mut kept: Vec<&Received> = vec![all[0], all[3], all[5]];
        assert_eq!(missing_seqs(&kept), [3]);
        // Batch 4's prev names a key the receiver never held.
        let held: Vec<&str> = kept.iter().map(|r| r.header("webhook-id")).collect();
        assert!(!held.contains(&all[5].header("x-outflow-batch-prev")));
        // `outflow verify` reads the stored envelopes the same way.
        let files: Vec<outflow::drain::received::File> = kept
            .iter()
            .map(|r| outflow::drain::received::File {
                key: format!("{}.json", r.header("webhook-id")),
                bytes: r.body.clone(),
            })
            .collect();
        let found = verify_files(&ctx, &id, &files).await;
        assert_eq!(found.problems, ["1 live batches are missing: seq 3"]);
        kept.insert(2, all[4]);
        assert!(missing_seqs(&kept).is_empty());

        // A replay numbers its batches in its own sequence space, from 1 again.
        let r = ctx
            .ok(
                reqwest::Method::POST,
                &format!("/v1/drains/{id}/replay"),
                Some(json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"})),
                202,
            )
            .await;
        let replay = r["replay_id"].as_str().unwrap().to_string();
        let reqs = rx
            .wait_for(WAIT, |r| {
                r.iter()
                    .any(|x| x.header("webhook-id").starts_with("replay-"))
            })
            .await;
        let replayed = reqs
            .iter()
            .find(|x| x.header("webhook-id").starts_with("replay-"))
            .unwrap();
        assert_eq!(replayed.header("x-outflow-batch-seq"), "1");
        assert_eq!(
            replayed.header("x-outflow-batch-space"),
            format!("replay:{replay}")
        );
        assert_eq!(replayed.json()["sequence"], format!("replay:{replay}"));
        assert!(!replayed.headers.contains_key("x-outflow-batch-prev"));
        // The live sequence is untouched: the next live batch is 5.
        ingest(&ctx, vec![run_at("e", "2026-03-01T20:00:00Z")]).await;
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        let reqs = rx.requests();
        let last = batches(&reqs)
            .into_iter()
            .rfind(|r| r.header("x-outflow-batch-space") == "live")
            .unwrap();
        assert_eq!(last.header("x-outflow-batch-seq"), "5");
        assert_eq!(
            last.header("x-outflow-batch-prev"),
            all[5].header("webhook-id")
        );
    }
);

/// `received::read` over `files` for drain `id`, as `outflow verify` runs it.
async fn verify_files(
    ctx: &Ctx,
    id: &str,
    files: &[outflow::drain::received::File],
) -> outflow::drain::received::Findings {
    use outflow::domain::calendar::Granularity;
    let d = ctx.app.drains.get("acme", id).await.unwrap();
    let day = |d| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, d, 0, 0, 0).unwrap();
    let mut tally =
        outflow::drain::reconcile::Tally::new(chrono_tz::UTC, Granularity::Day, day(1), day(3))
            .unwrap();
    let expected = outflow::drain::received::Expected {
        drain_id: &d.id,
        data_type: d.data_type,
        last_seq: d.batch_seq,
    };
    outflow::drain::received::read(files, &expected, &mut tally)
}

/// The digest a customer computes on their side, written here from the documentation: per
/// record id, the first 8 bytes of its SHA-256 as a big-endian number, summed modulo 2^64.
fn independent_digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut sum = 0u64;
    for id in ids {
        let h = Sha256::digest(id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&h[..8]);
        sum = sum.wrapping_add(u64::from_be_bytes(first));
    }
    format!("{sum:016x}")
}

both_backends!(
    reconciliation_digests_match_a_receivers_independent_computation,
    |backend| async move {
        let rx = Receiver::start().await;
        let (ctx, stepper, id) = stepped(backend, &rx).await;
        // Day 1 (UTC): three runs; day 2: two. One of day 2's arrives after the delivery.
        ingest(
            &ctx,
            vec![
                run_at("d1-a", "2026-03-01T01:00:00Z"),
                run_at("d1-b", "2026-03-01T12:00:00Z"),
                run_at("d2-a", "2026-03-02T05:00:00Z"),
                run_at("d1-c", "2026-03-01T23:59:59Z"),
            ],
        )
        .await;
        assert_eq!(stepper.engine.run_once(&id).await.unwrap(), Ran::Worked);
        ingest(&ctx, vec![run_at("d2-late", "2026-03-02T06:00:00Z")]).await;

        let path = format!(
            "/v1/drains/{id}/reconciliation?start=2026-03-01&end=2026-03-02&bucket=1d&timezone=UTC"
        );
        let r = ctx.ok(reqwest::Method::GET, &path, None, 200).await;
        assert_eq!(r["id_field"], "run_id");
        assert_eq!(r["last_batch_seq"], 1);
        let b = r["buckets"].as_array().unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0]["start"], "2026-03-01T00:00:00+00:00");
        assert_eq!(b[0]["end"], "2026-03-02T00:00:00+00:00");
        assert_eq!(
            (
                &b[0]["source_records"],
                &b[0]["delivered_records"],
                &b[0]["pending_records"]
            ),
            (&json!(3), &json!(3), &json!(0))
        );
        assert_eq!(
            (
                &b[1]["source_records"],
                &b[1]["delivered_records"],
                &b[1]["pending_records"]
            ),
            (&json!(2), &json!(1), &json!(1))
        );

        // The receiver's side: the ids it holds, bucketed by the delivered time field.
        let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for req in batches(&rx.requests()) {
            for rec in req.json()["records"].as_array().unwrap() {
                let day = rec["pl_run_created_ts"].as_str().unwrap()[..10].to_string();
                held.entry(day)
                    .or_default()
                    .push(rec["run_id"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(held["2026-03-01"].len(), 3);
        for (bucket, day) in b.iter().zip(["2026-03-01", "2026-03-02"]) {
            let ids = held[day].iter().map(String::as_str);
            assert_eq!(bucket["digest"], independent_digest(ids), "{day}");
        }
        assert_ne!(b[0]["digest"], b[1]["digest"]);

        // Buckets follow the zone: in Berlin, d1-c (23:59:59Z) falls on March 2nd.
        let r = ctx
            .ok(
                reqwest::Method::GET,
                &format!(
                    "/v1/drains/{id}/reconciliation?start=2026-03-01&end=2026-03-01&timezone=Europe/Berlin"
                ),
                None,
                200,
            )
            .await;
        assert_eq!(r["bucket"], "1d");
        assert_eq!(r["buckets"][0]["start"], "2026-03-01T00:00:00+01:00");
        assert_eq!(r["buckets"][0]["source_records"], 2);
        // Hourly buckets.
        let r = ctx
            .ok(
                reqwest::Method::GET,
                &format!(
                    "/v1/drains/{id}/reconciliation?start=2026-03-01T00:00Z&end=2026-03-01T02:00Z&bucket=1h&timezone=UTC"
                ),
                None,
                200,
            )
            .await;
        let hours: Vec<&Value> = r["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["delivered_records"])
            .collect();
        assert_eq!(hours[1], &json!(1), "{r}");

        // Bad input names the problem and the allowed values; another organization's drain
        // is not found.
        let (status, text) = ctx
            .call(
                reqwest::Method::GET,
                &format!(
                    "/v1/drains/{id}/reconciliation?start=2026-03-01&end=2026-03-02&bucket=5m"
                ),
                None,
            )
            .await;
        assert_eq!(status, 400);
        assert!(text.contains("1h, 1d"), "{text}");
        let (status, text) = ctx
            .call(
                reqwest::Method::GET,
                &format!("/v1/drains/{id}/reconciliation?end=2026-03-02"),
                None,
            )
            .await;
        assert_eq!(status, 400);
        assert!(text.contains("start"), "{text}");
        ctx.app.put_org("globex").await;
        let (_, other) = ctx.app.org_key("globex", "drains").await;
        let r = ctx
            .app
            .get(
                &format!("/v1/drains/{id}/reconciliation?start=2026-03-01&end=2026-03-02"),
                &other,
            )
            .await;
        assert_eq!(r.status(), 404);
    }
);

/// Runs the `outflow` binary against the test app's database and master key.
pub(crate) fn outflow_cli(ctx: &Ctx, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outflow"))
        .args(args)
        .env("OUTFLOW_DATA_DIR", ctx.app._db.dir.path())
        .env("OUTFLOW_DATABASE_URL", &ctx.app._db.url)
        .env("OUTFLOW_DRAINS__ALLOW_PRIVATE_DESTINATIONS", "true")
        .env("OUTFLOW_LOG_LEVEL", "error")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// Every file below `dir` whose path contains `needle`.
fn files_with(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_with(&p, needle));
        } else if p.to_string_lossy().contains(needle) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut s).unwrap();
    s
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

both_backends!(
    outflow_verify_finds_a_deleted_record_and_an_altered_object,
    |backend| async move {
        let ctx = Ctx::new(backend, settings).await;
        let s3 = crate::s3::start_s3().await;
        let aws = ctx
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(
                    json!({"name": "aws", "kind": "aws", "access_key_id": crate::s3::ACCESS_KEY,
                    "secret_access_key": crate::s3::SECRET_KEY}),
                ),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let id = ctx
            .ok(
                reqwest::Method::POST,
                "/v1/drains",
                Some(json!({"name": "to s3", "data_type": "workflows",
                    "fields": ["run_id", "credit_cost"], "secret_id": aws,
                    "destination": {"type": "s3", "bucket": crate::s3::BUCKET,
                        "prefix": "usage", "endpoint": s3.endpoint}})),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Two batches, each on its own day.
        ingest(
            &ctx,
            vec![
                run_at("v-1", "2026-03-01T08:00:00Z"),
                run_at("v-2", "2026-03-01T09:00:00Z"),
            ],
        )
        .await;
        ctx.wait_drain(&id, |d| d["records_delivered"] == 2).await;
        ingest(
            &ctx,
            vec![
                run_at("v-3", "2026-03-02T08:00:00Z"),
                run_at("v-4", "2026-03-02T09:00:00Z"),
            ],
        )
        .await;
        ctx.wait_drain(&id, |d| d["records_delivered"] == 4).await;

        let window = [
            "--start",
            "2026-03-01",
            "--end",
            "2026-03-02",
            "--bucket",
            "1d",
            "--tz",
            "UTC",
        ];
        let verify = |source: Vec<&str>| {
            let mut args = vec!["verify", "--org", "acme", "--drain", id.as_str()];
            args.extend(source);
            args.extend(window);
            outflow_cli(&ctx, &args)
        };
        // The bucket as delivered — beside another drain's object in the same prefix, which
        // is not this drain's to count: everything matches, read through the drain's secret.
        let bucket = s3.root.path().join(crate::s3::BUCKET);
        let other = bucket.join("usage/workflows/dt=2026-03-01/drn_other-1-1.ndjson.gz");
        std::fs::write(
            &other,
            gzip("{\"run_id\":\"x\",\"pl_run_created_ts\":\"2026-03-01T10:00:00Z\"}\n"),
        )
        .unwrap();
        let (ok, out) = verify(vec!["--s3"]);
        assert!(ok, "{out}");
        assert!(
            out.contains("2 manifests") && out.contains("4 distinct records"),
            "{out}"
        );
        assert!(out.contains("OK: every bucket matches"), "{out}");

        // A replay of day 1 writes its own objects and manifests beside the live ones: the
        // live delivery still checks out.
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/replay"),
            Some(json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"})),
            202,
        )
        .await;
        // Recorded once both its writes are done.
        let until = std::time::Instant::now() + WAIT;
        loop {
            let log = ctx
                .ok(
                    reqwest::Method::GET,
                    &format!("/v1/drains/{id}/deliveries"),
                    None,
                    200,
                )
                .await;
            let items = log["items"].as_array().unwrap();
            if items
                .iter()
                .any(|a| a["kind"] == "replay" && a["ok"] == true)
            {
                break;
            }
            assert!(
                std::time::Instant::now() < until,
                "no replay delivered: {log}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(files_with(&bucket, "-replay-").len(), 1, "its own object");
        assert_eq!(files_with(&bucket, "/replay-").len(), 1, "its own manifest");
        let (ok, out) = verify(vec!["--s3"]);
        assert!(ok, "{out}");
        assert!(
            out.contains("3 manifests") && out.contains("4 distinct records"),
            "{out}"
        );

        // A receiver's copy without manifests, one record deleted from day 2: that bucket
        // differs, day 1 does not.
        std::fs::remove_file(&other).unwrap();
        let copy = tempfile::tempdir().unwrap();
        for (n, object) in files_with(&bucket, ".ndjson.gz").iter().enumerate() {
            let mut text = gunzip(&std::fs::read(object).unwrap());
            if text.contains("\"v-4\"") {
                text = text
                    .lines()
                    .filter(|l| !l.contains("\"v-4\""))
                    .map(|l| format!("{l}\n"))
                    .collect();
            }
            std::fs::write(copy.path().join(format!("{n}.ndjson")), text).unwrap();
        }
        let dir = copy.path().to_str().unwrap();
        let (ok, out) = verify(vec!["--dir", dir]);
        assert!(!ok, "exit status 1 on a difference: {out}");
        let differs: Vec<&str> = out.lines().filter(|l| l.starts_with("DIFFERS")).collect();
        assert_eq!(differs.len(), 1, "{out}");
        assert!(
            differs[0].starts_with("DIFFERS 2026-03-02T00:00:00+00:00")
                && differs[0].contains("Outflow delivered 2")
                && differs[0].contains("the receiver holds 1"),
            "{out}"
        );

        // An object altered in the bucket (same ids, another cost): the counts and digests
        // still match, the manifest's SHA-256 does not.
        let day1 = files_with(&bucket, "dt=2026-03-01")
            .into_iter()
            .find(|p| p.to_string_lossy().ends_with(".ndjson.gz"))
            .unwrap();
        let text = gunzip(&std::fs::read(&day1).unwrap()).replace("2.5", "250");
        std::fs::write(&day1, gzip(&text)).unwrap();
        let (ok, out) = verify(vec!["--s3"]);
        assert!(!ok, "{out}");
        assert!(!out.contains("DIFFERS"), "{out}");
        let problems: Vec<&str> = out.lines().filter(|l| l.starts_with("PROBLEM")).collect();
        assert_eq!(problems.len(), 1, "{out}");
        assert!(
            problems[0].contains("batch seq 1 (live)") && problems[0].contains("was altered"),
            "{out}"
        );
        // The same from a local copy of the bucket, manifests included.
        let synced = tempfile::tempdir().unwrap();
        copy_dir(&bucket, synced.path());
        let (ok, out) = verify(vec!["--dir", synced.path().to_str().unwrap()]);
        assert!(!ok && out.contains("was altered"), "{out}");
        // A bad bucket size is refused by name.
        let (ok, out) = outflow_cli(
            &ctx,
            &[
                "verify",
                "--org",
                "acme",
                "--drain",
                &id,
                "--s3",
                "--start",
                "2026-03-01",
                "--end",
                "2026-03-02",
                "--bucket",
                "1w",
            ],
        );
        assert!(!ok && out.contains("1h, 1d"), "{out}");
    }
);

fn held_back(c: &mut outflow::config::Config) {
    settings(c);
    c.drains.run = false;
}

both_backends!(
    the_drain_page_shows_source_vs_delivered_and_flags_a_short_old_day,
    |backend| async move {
        let b = crate::admin_pages::Browser::signed_in_with(backend, held_back).await;
        let rx = Receiver::start().await;
        let (_, key) = b.app.org_key("acme", "drains").await;
        let s = post_json(
            &b.app,
            "/v1/secrets",
            &key,
            json!({"name": "rx", "kind": "http", "url": rx.url}),
        )
        .await;
        let secret = s.json::<Value>().await.unwrap()["id"].clone();
        let r = post_json(
            &b.app,
            "/v1/drains",
            &key,
            json!({"name": "runs", "data_type": "workflows", "fields": ["run_id"],
                "destination": {"type": "http"}, "secret_id": secret}),
        )
        .await;
        assert_eq!(r.status(), 201);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // A run of two days ago and one of now; no engine runs, so both wait.
        let old = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
        let new = chrono::Utc::now().to_rfc3339();
        b.app
            .ingest_ok(
                "workflows",
                &json!([run_at("old", &old), run_at("new", &new)]),
            )
            .await;
        read_all(&b.app.store, outflow::domain::DataType::Workflows, "acme").await;
        let path = format!("/settings/organization/data_export/drains/{id}");
        let page = b.page(&path).await;
        assert!(page.contains("Source vs delivered"), "{page}");
        // Only the day that is over is short; today is still being delivered.
        assert!(page.contains("1 past day(s) still miss records"), "{page}");
        assert_eq!(page.matches(">short</span>").count(), 1, "{page}");

        // Delivered: nothing is short any more.
        assert_eq!(b.app.drains.engine.run_due().await.unwrap(), Ran::Worked);
        let page = b.page(&path).await;
        assert!(!page.contains("still miss records"), "{page}");
        assert_eq!(page.matches(">short</span>").count(), 0, "{page}");
        assert!(page.contains("Batches delivered"), "{page}");
    }
);

both_backends!(
    a_window_read_by_time_pages_through_equal_times_without_a_gap,
    |backend| async move {
        use outflow::domain::DataType;
        let ctx = Ctx::new(backend, settings).await;
        ingest(
            &ctx,
            vec![
                run_at("before", "2026-03-01T09:59:59Z"),
                run_at("t1-a", "2026-03-01T10:00:00Z"),
                run_at("t2-a", "2026-03-01T11:00:00Z"),
                run_at("t1-b", "2026-03-01T10:00:00Z"),
                run_at("t1-c", "2026-03-01T10:00:00Z"),
                run_at("t2-b", "2026-03-01T11:00:00Z"),
                run_at("after", "2026-03-01T12:00:00Z"),
            ],
        )
        .await;
        let spec = outflow::domain::catalog::spec(DataType::Workflows);
        let wanted: Vec<bool> = spec
            .fields
            .iter()
            .map(|f| f.id == "run_id" || f.id == spec.time_field)
            .collect();
        let at = |h| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 1, h, 0, 0).unwrap();
        let (mut resume, mut got) = (None, vec![]);
        loop {
            let rows = ctx
                .app
                .store
                .read_window_fields(
                    DataType::Workflows,
                    "acme",
                    (at(10), at(12)),
                    resume,
                    2,
                    &wanted,
                )
                .await
                .unwrap();
            let Some(last) = rows.last() else { break };
            resume = Some((
                last.get(spec, spec.time_field)
                    .unwrap()
                    .as_timestamp()
                    .unwrap(),
                last.pos,
            ));
            for r in &rows {
                got.push(
                    r.get(spec, "run_id")
                        .unwrap()
                        .as_text()
                        .unwrap()
                        .to_string(),
                );
            }
        }
        // Pages of two, cut inside the run of equal times: each record once, by (time, pos).
        assert_eq!(got, ["t1-a", "t1-b", "t1-c", "t2-a", "t2-b"]);
    }
);
