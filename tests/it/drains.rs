//! Drains end to end: the real app, a real local HTTP receiver, both backends. Delivery,
//! signatures (checked by the receiver's own implementation), backfill, failure policy,
//! Retry-After, pause/resume, preflight, SSRF guard, secrets, tenancy, metrics, replay and
//! the reference `/data-drains` routes.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::http_receiver::{Receiver, Reply, verify_outflow_signature, verify_webhook};
use outflow::drain::engine::Ran;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const SIGNING: &str = "whsec_c2VjcmV0LWZvci1kcmFpbnMtdGVzdHM=";
const WAIT: Duration = Duration::from_secs(20);

/// Drain settings for tests: private destinations allowed (the receiver is on 127.0.0.1),
/// fast retries, long polls (so only commit notifications can explain fast delivery).
fn fast(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 2;
    c.drains.poll_min_seconds = 600;
    c.drains.poll_max_seconds = 600;
    c.drains.lease_seconds = 3;
}

impl Ctx {
    async fn http_secret(&self, url: &str) -> String {
        let s = self
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "receiver", "kind": "http", "url": url,
                    "authorization": "Bearer receiver-token", "signing_secrets": [SIGNING]})),
                201,
            )
            .await;
        s["id"].as_str().unwrap().to_string()
    }

    async fn drain(&self, secret: &str, extra: Value) -> Value {
        let mut body = json!({
            "name": "runs to receiver", "data_type": "workflows",
            "fields": ["run_id", "user_email", "credit_cost"],
            "destination": {"type": "http", "format": "json"}, "secret_id": secret,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.ok(reqwest::Method::POST, "/v1/drains", Some(body), 201)
            .await
    }
}

fn runs(prefix: &str, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| run_record("acme", &format!("{prefix}-{i}")))
            .collect(),
    )
}

/// Batches carrying records (not the preflight probe).
fn batches(reqs: &[crate::http_receiver::Received]) -> Vec<&crate::http_receiver::Received> {
    reqs.iter()
        .filter(|r| !r.headers.contains_key("x-outflow-preflight"))
        .collect()
}

fn delivered_ids(reqs: &[crate::http_receiver::Received]) -> Vec<String> {
    batches(reqs)
        .iter()
        .flat_map(|r| {
            r.json()["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["run_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

both_backends!(
    delivers_new_records_signed_within_a_notification,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        ctx.app.ingest_ok("workflows", &runs("before", 2)).await;
        // Wait until they are readable (PostgreSQL: older transactions elsewhere in the cluster
        // have ended), so "stored before the drain" is unambiguous.
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        let secret = ctx.http_secret(&format!("{}/hook", rx.url)).await;
        let d = ctx.drain(&secret, json!({})).await;
        let id = d["id"].as_str().unwrap().to_string();
        assert_eq!(d["status"], "active");
        // The preflight probe arrived, signed and recognisable.
        let probe = &rx.requests()[0];
        assert_eq!(probe.header("x-outflow-preflight"), "1");
        assert!(verify_webhook(SIGNING, probe));

        ctx.app.ingest_ok("workflows", &runs("new", 3)).await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 3).await;
        let b = batches(&reqs);
        let first = b[0];
        assert_eq!(first.path, "/hook");
        assert_eq!(first.header("x-outflow-drain-id"), id);
        assert_eq!(first.header("x-outflow-data-type"), "workflows");
        assert_eq!(first.header("authorization"), "Bearer receiver-token");
        assert!(
            verify_webhook(SIGNING, first),
            "Standard Webhooks signature"
        );
        assert!(
            verify_outflow_signature(SIGNING, first),
            "X-Outflow-Signature"
        );
        let body = first.json();
        assert_eq!(body["source"], "outflow");
        assert_eq!(body["drain_id"], id.as_str());
        assert_eq!(body["drain_name"], "runs to receiver");
        assert_eq!(body["data_type"], "workflows");
        let rec = &body["records"][0];
        let keys: Vec<&str> = rec
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys.iter().copied().collect::<BTreeSet<_>>(),
            BTreeSet::from(["run_id", "user_email", "credit_cost", "pl_run_created_ts"]),
            "selected fields plus the time field"
        );
        // Records stored before the drain existed are not delivered (default start: now).
        let mut ids = delivered_ids(&reqs);
        ids.sort();
        assert_eq!(ids, ["new-0", "new-1", "new-2"]);

        let d = ctx
            .wait_drain(&id, |d| {
                d["records_delivered"] == 3 && d["last_synced_at"].is_string()
            })
            .await;
        assert_eq!(d["lag_seconds"], 0.0);
        let attempts = ctx
            .ok(
                reqwest::Method::GET,
                &format!("/v1/drains/{id}/deliveries"),
                None,
                200,
            )
            .await;
        let a = &attempts["items"][0];
        assert_eq!(a["ok"], true);
        assert_eq!(a["status_code"], 200);
        assert_eq!(a["batch_key"], first.header("webhook-id"));
    }
);

both_backends!(
    start_ts_in_the_past_backfills_from_that_time,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let mut old = run_record("acme", "old");
        old["pl_run_created_ts"] = json!("2025-01-01T00:00:00Z");
        ctx.app
            .ingest_ok("workflows", &json!([old, run_record("acme", "recent")]))
            .await;
        let secret = ctx.http_secret(&rx.url).await;
        ctx.drain(&secret, json!({"start_ts": "2026-01-01T00:00:00Z"}))
            .await;
        let reqs = rx.wait_for(WAIT, |r| !delivered_ids(r).is_empty()).await;
        assert_eq!(delivered_ids(&reqs), ["recent"]);
    }
);

both_backends!(
    failing_receiver_errors_after_three_cycles_and_resume_delivers_everything,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let r = ctx
        .app
        .put_entity("acme", "members", "adm", json!({"email": "admin@acme.example", "name": "Ada Admin", "role": "admin", "joined_at": "2025-01-01T00:00:00Z"}))
        .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let d = ctx.drain(&secret, json!({})).await;
        let id = d["id"].as_str().unwrap().to_string();
        let before = rx.count();
        rx.set_default(Reply::status(500).body("receiver down"));
        ctx.app.ingest_ok("workflows", &runs("r", 5)).await;
        let d = ctx.wait_drain(&id, |d| d["status"] == "error").await;
        // Exactly 3 cycles of `attempts_per_cycle` (2) attempts each.
        assert_eq!(rx.count() - before, 6);
        assert_eq!(d["failed_cycles"], 3);
        assert!(d["status_reason"].as_str().unwrap().contains("500"), "{d}");
        // The admins were emailed (outbox: no SMTP configured); the email follows the status
        // change.
        let mail = ctx.email_naming(&id).await;
        assert!(mail.contains("admin@acme.example"));
        // Nothing more is attempted while in error: a cycle run now finds nothing to do.
        assert_eq!(ctx.run_once(&id).await, Ran::Idle);
        assert_eq!(rx.count() - before, 6);

        rx.set_default(Reply::status(200));
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/resume"),
            None,
            200,
        )
        .await;
        let reqs = rx
            .wait_for(WAIT, |r| {
                batches(r)
                    .iter()
                    .any(|x| x.json()["records"].as_array().is_some_and(|a| a.len() == 5))
            })
            .await;
        // The failed batch was retried under its own idempotency key.
        let keys: BTreeSet<&str> = batches(&reqs)
            .iter()
            .map(|r| r.header("webhook-id"))
            .collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        let d = ctx.wait_drain(&id, |d| d["records_delivered"] == 5).await;
        assert_eq!(d["status"], "active");
        assert_eq!(d["failed_cycles"], 0);
        let audit = read_all(&ctx.app.store, outflow::domain::DataType::AuditLogs, "acme").await;
        let spec = outflow::domain::catalog::spec(outflow::domain::DataType::AuditLogs);
        let events: Vec<String> = audit
            .iter()
            .filter_map(|r| {
                r.get(spec, "event_type")
                    .and_then(|v| v.as_text())
                    .map(str::to_string)
            })
            .collect();
        for e in [
            "secret_created",
            "drain_created",
            "drain_failed",
            "drain_resumed",
        ] {
            assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
        }
    }
);

/// An app that runs no drains, a receiver, and a drain to it held by nothing but a stepper
/// engine (another node that runs only when the test says): nothing but the test moves it.
async fn stepper_setup(backend: Backend) -> (Ctx, Receiver, outflow::drain::Drains, String) {
    let ctx = Ctx::new(backend, |c| {
        fast(c);
        c.drains.run = false;
    })
    .await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    let (stepper, id) = stepped_drain(&ctx, &secret).await;
    (ctx, rx, stepper, id)
}

/// An engine of node `stepper` on the app's database; it runs only when spawned or driven.
fn stepper_engine(ctx: &Ctx) -> outflow::drain::engine::Engine {
    let config = outflow::config::DrainsConfig {
        allow_private_destinations: true,
        attempts_per_cycle: 2,
        retry_base_ms: 20,
        cycle_backoff_seconds: 0,
        lease_seconds: 600,
        ..Default::default()
    };
    outflow::drain::engine::Engine::new(
        ctx.app.store.clone(),
        ctx.app.drains.secrets.clone(),
        ctx.app.exports.mailer.clone(),
        config,
        "stepper".into(),
    )
}

/// A drain service whose engine never runs on its own (node `stepper`), with its own drain;
/// with an app that runs no drains (`stepper_setup`) only the test's cycles deliver it.
async fn stepped_drain(ctx: &Ctx, secret: &str) -> (outflow::drain::Drains, String) {
    use outflow::drain::request::{self, DrainRequest};
    let store = ctx.app.store.clone();
    let secrets = ctx.app.drains.secrets.clone();
    let engine = stepper_engine(ctx);
    let stepper = outflow::drain::Drains {
        store: store.clone(),
        secrets,
        engine,
    };
    let org = store.get_org("acme").await.unwrap().unwrap();
    let req = DrainRequest {
        name: Some("stepped".into()),
        data_type: Some("workflows".into()),
        fields: Some(vec!["run_id".into()]),
        destination: Some(
            serde_json::from_value(json!({"type": "http", "format": "json"})).unwrap(),
        ),
        secret_id: Some(secret.to_string()),
        ..Default::default()
    };
    let valid = request::validate(&store, &org, &req, request::NATIVE, chrono::Utc::now())
        .await
        .unwrap();
    let drain = stepper
        .create("acme", valid, &outflow::audit::Actor::system())
        .await
        .unwrap();
    (stepper, drain.id)
}

both_backends!(
    run_once_drives_a_drain_cycle_by_cycle,
    |backend| async move {
        let (ctx, rx, stepper, id) = stepper_setup(backend).await;
        let engine = &stepper.engine;
        // Not held by the stepper yet: nothing to do.
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Idle);
        // run_due claims it; nothing after its cursor.
        assert_eq!(engine.run_due().await.unwrap(), Ran::Idle);
        assert_eq!(ctx.get_drain(&id).await["node"], "stepper");

        rx.set_default(Reply::status(500).body("receiver down"));
        ctx.app.ingest_ok("workflows", &runs("r", 2)).await;
        // Readable (PostgreSQL: older transactions elsewhere in the cluster have ended).
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        let before = batches(&rx.requests()).len();
        // A failed cycle: attempts_per_cycle tries, counted, the batch left pending.
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        assert_eq!(batches(&rx.requests()).len(), before + 2);
        let d = ctx.get_drain(&id).await;
        assert_eq!(d["failed_cycles"], 1);
        assert_eq!(d["records_delivered"], 0);

        rx.set_default(Reply::status(200));
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        // Delivered and committed when run_once returns: no waiting.
        let reqs = rx.requests();
        let b = batches(&reqs);
        assert_eq!(b.len(), before + 3);
        assert_eq!(delivered_ids(&reqs[reqs.len() - 1..]), ["r-0", "r-1"]);
        assert_eq!(
            b[before].header("webhook-id"),
            b[before + 2].header("webhook-id"),
            "the pending batch is re-sent under its key"
        );
        let d = ctx.get_drain(&id).await;
        assert_eq!(d["records_delivered"], 2);
        assert_eq!(d["failed_cycles"], 0);
        assert_eq!(d["status"], "active");
        // Caught up.
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Idle);
        assert_eq!(engine.run_due().await.unwrap(), Ran::Idle);
        assert_eq!(batches(&rx.requests()).len(), before + 3);
    }
);

both_backends!(
    a_drain_paused_elsewhere_sends_none_of_the_batches_it_read_ahead,
    |backend| async move {
        let (ctx, rx, stepper, id) = stepper_setup(backend).await;
        let engine = &stepper.engine;
        assert_eq!(engine.run_due().await.unwrap(), Ran::Idle);
        ctx.app.ingest_ok("workflows", &runs("r", 2500)).await;
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        // One batch delivered; the next was read ahead and is carried over.
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        assert_eq!(delivered_ids(&rx.requests()).len(), 1000);
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/pause"),
            None,
            200,
        )
        .await;
        // The carried batch is not sent: the cycle sees the pause first.
        engine.run_once(&id).await.unwrap();
        assert_eq!(
            delivered_ids(&rx.requests()).len(),
            1000,
            "sent after the pause"
        );
        assert_eq!(ctx.get_drain(&id).await["records_delivered"], 1000);
    }
);

both_backends!(
    batches_read_ahead_keep_order_positions_and_chain_across_boundaries,
    |backend| async move {
        // The live path reads each next batch (and writes its records) while the previous one
        // is on the wire. Step a 2,500-record backlog cycle by cycle, with the receiver
        // failing the second batch once: every batch is the next contiguous run of records in
        // stored order, keyed by its positions, numbered and chained, and the failed batch —
        // read ahead, then re-read from the store after the failure — goes again under its
        // key with the same records.
        let (ctx, rx, stepper, id) = stepper_setup(backend).await;
        let engine = &stepper.engine;
        assert_eq!(engine.run_due().await.unwrap(), Ran::Idle);
        ctx.app.ingest_ok("workflows", &runs("r", 2500)).await;
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        let ids = |r: &crate::http_receiver::Received| -> Vec<String> {
            delivered_ids(std::slice::from_ref(r))
        };
        let expect = |from: usize, to: usize| -> Vec<String> {
            (from..to).map(|i| format!("r-{i}")).collect()
        };
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        rx.set_default(Reply::status(503).body("busy"));
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        assert_eq!(ctx.get_drain(&id).await["failed_cycles"], 1);
        rx.set_default(Reply::status(200));
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        let reqs = rx.requests();
        let b = batches(&reqs);
        // Batch 1, batch 2 failed twice (attempts_per_cycle), batch 2 again, batch 3.
        assert_eq!(
            b.len(),
            5,
            "{:?}",
            b.iter().map(|r| r.header("webhook-id")).collect::<Vec<_>>()
        );
        assert_eq!(ids(b[0]), expect(0, 1000));
        for r in &b[1..4] {
            assert_eq!(ids(r), expect(1000, 2000), "batch 2, every try");
            assert_eq!(r.header("webhook-id"), b[1].header("webhook-id"));
            assert_eq!(r.header("x-outflow-batch-seq"), "2");
        }
        assert_eq!(ids(b[4]), expect(2000, 2500));
        let delivered = [b[0], b[3], b[4]];
        let mut last_end = 0i64;
        for (n, r) in delivered.iter().enumerate() {
            let key = r.header("webhook-id");
            let (first, last) = key
                .strip_prefix(&format!("{id}-"))
                .and_then(|p| p.split_once('-'))
                .map(|(f, l)| (f.parse::<i64>().unwrap(), l.parse::<i64>().unwrap()))
                .unwrap_or_else(|| panic!("key {key}"));
            assert!(
                first > last_end && last >= first,
                "positions move on: {key}"
            );
            last_end = last;
            assert_eq!(r.header("x-outflow-batch-seq"), (n + 1).to_string());
            if n > 0 {
                assert_eq!(
                    r.header("x-outflow-batch-prev"),
                    delivered[n - 1].header("webhook-id")
                );
            }
        }
        let d = ctx.get_drain(&id).await;
        assert_eq!(d["records_delivered"], 2500);
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Idle);
        assert_eq!(batches(&rx.requests()).len(), 5);
    }
);

both_backends!(
    retry_after_is_honoured_within_a_cycle,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let d = ctx.drain(&secret, json!({})).await;
        let id = d["id"].as_str().unwrap().to_string();
        rx.reply_next(vec![Reply::status(429).header("Retry-After", "1")]);
        ctx.app.ingest_ok("workflows", &runs("r", 1)).await;
        let reqs = rx.wait_for(WAIT, |r| batches(r).len() >= 2).await;
        let b = batches(&reqs);
        let gap = b[1].at.duration_since(b[0].at);
        assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
        assert_eq!(b[0].header("webhook-id"), b[1].header("webhook-id"));
        let d = ctx.wait_drain(&id, |d| d["records_delivered"] == 1).await;
        assert_eq!(d["status"], "active");
        assert_eq!(d["failed_cycles"], 0);
    }
);

both_backends!(
    pause_stops_delivery_and_resume_continues_from_the_cursor,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        ctx.app.ingest_ok("workflows", &runs("a", 2)).await;
        rx.wait_for(WAIT, |r| delivered_ids(r).len() == 2).await;
        let d = ctx
            .ok(
                reqwest::Method::POST,
                &format!("/v1/drains/{id}/pause"),
                None,
                200,
            )
            .await;
        assert_eq!(d["status"], "paused");
        ctx.app.ingest_ok("workflows", &runs("b", 2)).await;
        // A cycle run now (after any the drain's task had under way) finds nothing to do.
        assert_eq!(ctx.run_once(&id).await, Ran::Idle);
        assert_eq!(
            delivered_ids(&rx.requests()).len(),
            2,
            "nothing while paused"
        );
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/resume"),
            None,
            200,
        )
        .await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 4).await;
        let mut ids = delivered_ids(&reqs);
        ids.sort();
        assert_eq!(ids, ["a-0", "a-1", "b-0", "b-1"]);
    }
);

both_backends!(
    a_batch_in_flight_when_the_drain_is_paused_is_recorded_not_sent_again,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // The first batch (after the creation's preflight) is answered only after the pause
        // below has landed.
        rx.reply_next(vec![Reply::status(200).delay(Duration::from_millis(1500))]);
        ctx.app.ingest_ok("workflows", &runs("a", 2)).await;
        // Received; the receiver holds its answer.
        rx.wait_for(WAIT, |r| delivered_ids(r).len() == 2).await;
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/pause"),
            None,
            200,
        )
        .await;
        // The receiver took the batch: it counts as delivered although the drain is paused
        // now, so the cursor is past it.
        let d = ctx.wait_drain(&id, |d| d["records_delivered"] == 2).await;
        assert_eq!(d["status"], "paused");
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/resume"),
            None,
            200,
        )
        .await;
        ctx.app.ingest_ok("workflows", &runs("b", 2)).await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 4).await;
        let mut ids = delivered_ids(&reqs);
        ids.sort();
        assert_eq!(ids, ["a-0", "a-1", "b-0", "b-1"], "nothing sent twice");
    }
);

both_backends!(
    a_pause_during_a_backlog_stops_after_the_batch_in_flight,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Three batches of 1,000, each answered slowly, so the pause lands during the first.
        rx.set_default(Reply::status(200).delay(Duration::from_millis(300)));
        ctx.app.ingest_ok("workflows", &runs("a", 3000)).await;
        rx.wait_for(WAIT, |r| !delivered_ids(r).is_empty()).await;
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/pause"),
            None,
            200,
        )
        .await;
        // The drain's task has ended (it lets go of the drain when it stops) …
        let d = ctx.wait_drain(&id, |d| d["node"].is_null()).await;
        // … after the batch in flight, recorded, and nothing after it: the batches it had
        // read ahead stay for the resume.
        assert_eq!(d["records_delivered"], 1000, "{d}");
        assert_eq!(delivered_ids(&rx.requests()).len(), 1000);
    }
);

both_backends!(concurrent_ingest_is_never_skipped, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    ctx.drain(&secret, json!({})).await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = ctx.app.client.clone();
        let url = ctx.app.url.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..10 {
                let body = runs(&format!("t{t}-b{b}"), 5);
                let r = client
                    .post(format!("{url}/v1/ingest/workflows"))
                    .bearer_auth(INGEST_KEY)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 400).await;
    let ids = delivered_ids(&reqs);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 400, "every record delivered");
    assert_eq!(ids.len(), 400, "none twice");
});

both_backends!(
    preflight_failure_stores_nothing_and_names_the_failure,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        rx.set_default(Reply::status(403).body("who are you"));
        let secret = ctx.http_secret(&rx.url).await;
        let r = ctx
            .send(
                reqwest::Method::POST,
                "/v1/drains",
                Some(
                    json!({"name": "x", "data_type": "credit_logs", "field_preset": "default",
                "destination": {"type": "http"}, "secret_id": secret}),
                ),
            )
            .await;
        let msg = error_message(r, 422).await;
        assert!(msg.contains("preflight") && msg.contains("403"), "{msg}");
        let list = ctx.ok(reqwest::Method::GET, "/v1/drains", None, 200).await;
        assert_eq!(list["items"], json!([]));
    }
);

both_backends!(
    private_destinations_are_refused_by_default,
    |backend| async move {
        // Refused when the secret is stored (drain creation refuses them too: see
        // drain_http_dest::private_destinations_are_refused_unless_allowed).
        let ctx = Ctx::new(backend, |_| {}).await;
        let rx = Receiver::start().await;
        let r = ctx
            .send(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "receiver", "kind": "http", "url": rx.url})),
            )
            .await;
        let msg = error_message(r, 422).await;
        assert!(msg.contains("allow_private_destinations"), "{msg}");
        assert_eq!(rx.count(), 0, "nothing was sent to the private address");
    }
);

both_backends!(bad_input_names_the_parameter, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    let post = |body: Value| ctx.send(reqwest::Method::POST, "/v1/drains", Some(body));
    let base = json!({"name": "x", "data_type": "workflows", "fields": ["run_id"], "destination": {"type": "http"}, "secret_id": secret});
    let mut b = base.clone();
    b["fields"] = json!(["run_id", "nope"]);
    let msg = error_message(post(b).await, 400).await;
    assert!(msg.contains("nope") && msg.contains("run_id"), "{msg}");
    let mut b = base.clone();
    b["data_type"] = json!("sales");
    let msg = error_message(post(b).await, 400).await;
    assert!(
        msg.contains("data_type") && msg.contains("credit_logs"),
        "{msg}"
    );
    let mut b = base.clone();
    b["secret_id"] = json!("sec_missing");
    error_message(post(b).await, 404).await;
    let mut b = base.clone();
    b["start_ts"] = json!("yesterday");
    let msg = error_message(post(b).await, 400).await;
    assert!(msg.contains("start_ts"), "{msg}");
    let mut b = base.clone();
    b["destination"] = json!({"type": "datadog", "site": "datadoghq.com"});
    let msg = error_message(post(b).await, 400).await;
    assert!(msg.contains("kind `datadog`"), "{msg}");
    assert_eq!(rx.count(), 0);
});

both_backends!(
    secrets_are_never_shown_and_other_orgs_get_404,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for path in [
            "/v1/secrets".to_string(),
            format!("/v1/secrets/{secret}"),
            format!("/v1/drains/{id}"),
            "/v1/drains".into(),
        ] {
            let text = ctx
                .send(reqwest::Method::GET, &path, None)
                .await
                .text()
                .await
                .unwrap();
            assert!(
                !text.contains("receiver-token")
                    && !text.contains(SIGNING)
                    && !text.contains(&rx.url),
                "{path}: {text}"
            );
        }
        // The sealed value at rest does not contain the credentials either.
        let rows = ctx
            .app
            .store
            .query(
                "SELECT sealed FROM secrets",
                &[],
                &[outflow::domain::FieldType::Text],
            )
            .await
            .unwrap();
        let sealed = rows[0][0].as_text().unwrap();
        assert!(!sealed.contains("receiver-token"));

        ctx.app.put_org("globex").await;
        let (_, other) = ctx.app.org_key("globex", "drains").await;
        let c = &ctx.app.client;
        let url = &ctx.app.url;
        let key = &other;
        let checks: Vec<(reqwest::Method, String)> = vec![
            (reqwest::Method::GET, format!("/v1/drains/{id}")),
            (reqwest::Method::PATCH, format!("/v1/drains/{id}")),
            (reqwest::Method::DELETE, format!("/v1/drains/{id}")),
            (reqwest::Method::POST, format!("/v1/drains/{id}/pause")),
            (reqwest::Method::POST, format!("/v1/drains/{id}/resume")),
            (reqwest::Method::POST, format!("/v1/drains/{id}/test")),
            (reqwest::Method::POST, format!("/v1/drains/{id}/replay")),
            (reqwest::Method::GET, format!("/v1/drains/{id}/deliveries")),
            (reqwest::Method::GET, format!("/v1/secrets/{secret}")),
            (reqwest::Method::PUT, format!("/v1/secrets/{secret}")),
            (reqwest::Method::DELETE, format!("/v1/secrets/{secret}")),
            (
                reqwest::Method::GET,
                "/data-drains?organization_id=acme".into(),
            ),
            (
                reqwest::Method::DELETE,
                format!("/data-drains/{id}?organization_id=acme"),
            ),
            (
                reqwest::Method::DELETE,
                format!("/data-drains/{id}?organization_id=globex"),
            ),
        ];
        for (m, path) in checks {
            let mut r = c
                .request(m.clone(), format!("{url}{path}"))
                .bearer_auth(key);
            if m == reqwest::Method::PATCH {
                r = r.json(&json!({"name": "stolen"}));
            }
            if m == reqwest::Method::PUT {
                r = r.json(
                    &json!({"name": "stolen", "kind": "http", "url": "http://attacker.example/"}),
                );
            }
            if path.ends_with("/replay") {
                r = r.json(&json!({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}));
            }
            let resp = r.send().await.unwrap();
            assert_eq!(resp.status(), 404, "{m} {path}");
        }
        let r = c
        .post(format!("{url}/data-drains"))
        .bearer_auth(key)
        .json(&json!({"organization_id": "acme", "name": "x", "drain_type": "custom_endpoint",
            "data_type": "workflows", "destination_config": {"format": "json"}, "export_fields": ["run_id"], "secret_id": secret}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
        // globex cannot use acme's secret for its own drain either.
        let r = c
        .post(format!("{url}/v1/drains"))
        .bearer_auth(key)
        .json(&json!({"name": "x", "data_type": "workflows", "fields": ["run_id"], "destination": {"type": "http"}, "secret_id": secret}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
        // The drain is untouched.
        assert_eq!(ctx.get_drain(&id).await["name"], "runs to receiver");
        // A secret in use cannot be deleted.
        let r = ctx
            .send(
                reqwest::Method::DELETE,
                &format!("/v1/secrets/{secret}"),
                None,
            )
            .await;
        assert_eq!(r.status(), 409);
    }
);

both_backends!(reference_data_drains_routes, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    let created = ctx
        .ok(
            reqwest::Method::POST,
            "/data-drains",
            Some(json!({"organization_id": "acme", "name": "gumloop style", "drain_type": "custom_endpoint",
                "data_type": "workflows", "destination_config": {"format": "ndjson"},
                "export_fields": ["run_id", "credit_cost"], "secret_id": secret,
                "include_personal_workspaces": true, "project_ids": [], "hide_child_runs": true})),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["drain_type"], "custom_endpoint");
    assert_eq!(created["status"], "Active");
    assert_eq!(created["destination_config"]["format"], "ndjson");
    let list = ctx
        .ok(
            reqwest::Method::GET,
            "/data-drains?organization_id=acme",
            None,
            200,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["export_fields"], json!(["run_id", "credit_cost"]));
    let r = ctx.send(reqwest::Method::GET, "/data-drains", None).await;
    assert!(error_message(r, 400).await.contains("organization_id"));
    let r = ctx
        .send(
            reqwest::Method::POST,
            "/data-drains",
            Some(json!({"organization_id": "acme", "name": "x", "drain_type": "ftp", "data_type": "workflows", "export_fields": ["run_id"], "secret_id": secret})),
        )
        .await;
    let msg = error_message(r, 400).await;
    assert!(msg.contains("custom_endpoint, s3, datadog"), "{msg}");
    ctx.ok(
        reqwest::Method::DELETE,
        &format!("/data-drains/{id}?organization_id=acme"),
        None,
        200,
    )
    .await;
    let list = ctx
        .ok(
            reqwest::Method::GET,
            "/data-drains?organization_id=acme",
            None,
            200,
        )
        .await;
    assert_eq!(list, json!([]));
});

both_backends!(test_replay_metrics_and_update, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    let id = ctx.drain(&secret, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ctx.app.ingest_ok("workflows", &runs("r", 3)).await;
    rx.wait_for(WAIT, |r| delivered_ids(r).len() == 3).await;
    let cursor = ctx.wait_drain(&id, |d| d["records_delivered"] == 3).await["cursor"].clone();

    let t = ctx
        .ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/test"),
            None,
            200,
        )
        .await;
    assert_eq!(t["ok"], true);
    let test_key = t["batch_key"].as_str().unwrap().to_string();
    assert!(test_key.starts_with("test-"));

    let r = ctx
        .ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/replay"),
            Some(json!({"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"})),
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
        .find(|x| {
            x.header("webhook-id")
                .starts_with(&format!("replay-{replay}"))
        })
        .unwrap();
    assert_eq!(replayed.json()["records"].as_array().unwrap().len(), 3);
    let d = ctx.get_drain(&id).await;
    assert_eq!(
        d["cursor"], cursor,
        "a replay does not move the live cursor"
    );
    assert_eq!(d["records_delivered"], 3);

    let d = ctx
        .ok(
            reqwest::Method::PATCH,
            &format!("/v1/drains/{id}"),
            Some(json!({"name": "renamed", "fields": ["run_id"]})),
            200,
        )
        .await;
    assert_eq!(d["name"], "renamed");
    assert_eq!(d["scope"]["fields"], json!(["run_id"]));

    let m = ctx
        .app
        .client
        .get(format!("{}/metrics", ctx.app.url))
        .bearer_auth(INGEST_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), 200);
    let text = m.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("outflow_drain_records_delivered_total") && l.contains(&id))
        .unwrap_or_else(|| panic!("no delivered counter in {text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(text.contains("outflow_drain_lag_seconds"));
    // The live attempt totals (read by column name): the drain's successful live batches,
    // one to three for three records; the test send and the replay are not live.
    let ok_attempts = text
        .lines()
        .find(|l| {
            l.starts_with("outflow_drain_delivery_attempts_total")
                && l.contains(&id)
                && l.contains("result=\"ok\"")
        })
        .unwrap_or_else(|| panic!("no live attempts counter in {text}"));
    let n: u64 = ok_attempts.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((1..=3).contains(&n), "{ok_attempts}");
    let anon = ctx
        .app
        .client
        .get(format!("{}/metrics", ctx.app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
});

both_backends!(
    s3_and_datadog_drains_deliver_through_the_engine,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        // S3: a real S3 server that checks signatures.
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
        let s3_drain = ctx
            .drain(
                &aws,
                json!({"name": "to s3", "destination": {"type": "s3", "bucket": crate::s3::BUCKET,
                "prefix": "drains", "endpoint": s3.endpoint}}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Datadog: the local intake that enforces the Logs API limits.
        let dd = crate::datadog_receiver::start("dd-test-key").await;
        let dd_secret = ctx
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "dd", "kind": "datadog", "api_key": "dd-test-key"})),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let dd_drain = ctx
        .drain(
            &dd_secret,
            json!({"name": "to datadog", "destination": {"type": "datadog", "site": "datadoghq.eu",
                "intake_url": dd.intake_url()}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

        ctx.app.ingest_ok("workflows", &runs("x", 4)).await;
        ctx.wait_drain(&s3_drain, |d| d["records_delivered"] == 4)
            .await;
        ctx.wait_drain(&dd_drain, |d| d["records_delivered"] == 4)
            .await;

        // The S3 object holds the four records; the manifest lists it with its SHA-256.
        let day_dir = s3
            .root
            .path()
            .join(crate::s3::BUCKET)
            .join("drains/workflows/dt=2026-03-29");
        let mut objects: Vec<_> = std::fs::read_dir(&day_dir)
            .unwrap_or_else(|e| panic!("{}: {e}", day_dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        objects.sort();
        let data = objects
            .iter()
            .find(|p| p.to_string_lossy().ends_with(".ndjson.gz"))
            .expect("a data object");
        assert!(
            data.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&s3_drain)
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(data).unwrap()),
            &mut text,
        )
        .unwrap();
        assert_eq!(text.lines().count(), 4);
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(s3.root.path().join(crate::s3::BUCKET).join(format!(
                "drains/workflows/_manifests/{s3_drain}/live/0000000001.json"
            )))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["seq"], 1);
        assert_eq!(manifest["records"], 4);

        let entries = dd.entries();
        assert_eq!(entries.len(), 4);
        assert!(
            entries[0]["ddtags"]
                .as_str()
                .unwrap()
                .contains(&format!("drain_id:{dd_drain}"))
        );
        let msg: Value = serde_json::from_str(entries[0]["message"].as_str().unwrap()).unwrap();
        assert!(msg["run_id"].as_str().unwrap().starts_with("x-"));
    }
);

both_backends!(signing_secrets_rotate_without_a_gap, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;
    let rx = Receiver::start().await;
    let secret = ctx.http_secret(&rx.url).await;
    let id = ctx.drain(&secret, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // One delivery first, so the drain is idle (waiting for a notification) when the secret
    // changes: a cycle already under way may still use the credentials it started with.
    ctx.app.ingest_ok("workflows", &runs("before", 1)).await;
    rx.wait_for(WAIT, |r| !delivered_ids(r).is_empty()).await;
    const NEW: &str = "brand-new-signing-secret";
    let put = ctx
        .ok(
            reqwest::Method::PUT,
            &format!("/v1/secrets/{secret}"),
            Some(json!({"name": "rotating", "kind": "http", "url": rx.url,
                "signing_secrets": [NEW, SIGNING]})),
            200,
        )
        .await;
    assert_eq!(put["name"], "rotating");
    assert!(!put.to_string().contains(NEW));
    ctx.app.ingest_ok("workflows", &runs("rot", 1)).await;
    let reqs = rx
        .wait_for(WAIT, |r| delivered_ids(r).iter().any(|id| id == "rot-0"))
        .await;
    let b = batches(&reqs);
    let after = b
        .iter()
        .find(|x| x.json()["records"][0]["run_id"] == "rot-0")
        .unwrap();
    // Both the new and the old secret verify: receivers can switch at their own pace.
    assert!(verify_webhook(NEW, after) && verify_webhook(SIGNING, after));
    assert_eq!(after.header("webhook-signature").split(' ').count(), 2);
    // The authorization header was dropped in the new contents.
    assert!(!after.headers.contains_key("authorization"));
    // Another kind is refused; nothing changes.
    let r = ctx
        .send(
            reqwest::Method::PUT,
            &format!("/v1/secrets/{secret}"),
            Some(json!({"name": "x", "kind": "datadog", "api_key": "k"})),
        )
        .await;
    assert_eq!(r.status(), 409);
    ctx.wait_drain(&id, |d| d["records_delivered"] == 2).await;
});

both_backends!(
    without_notifications_the_poller_finds_new_records,
    |backend| async move {
        // Commit notifications off (as behind a pooler that drops LISTEN), and the record
        // written through a second Store on the same database: on neither backend does
        // anything announce it to this app's engine, so only the fallback poll can find it.
        let ctx = Ctx::new(backend, |c| {
            fast(c);
            c.drains.commit_notifications = false;
            c.drains.poll_min_seconds = 1;
            c.drains.poll_max_seconds = 2;
        })
        .await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        // The drain's task has caught up and waits: a record it finds now, it finds by polling.
        let engine = ctx.app.drains.engine.clone();
        let deadline = std::time::Instant::now() + WAIT;
        while !engine.is_caught_up(&id) {
            assert!(
                std::time::Instant::now() < deadline,
                "the drain never caught up"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let other = ctx.app._db.store().await;
        let batch = outflow::ingest::validate(
            outflow::domain::DataType::Workflows,
            vec![run_record("acme", "silent-1")],
        )
        .0;
        other.insert_records(&batch).await.unwrap();
        let reqs = rx.wait_for(WAIT, |r| !delivered_ids(r).is_empty()).await;
        assert_eq!(delivered_ids(&reqs), ["silent-1"]);
    }
);

both_backends!(
    idle_cycles_reuse_the_drains_settings_until_something_changes,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.http_secret(&rx.url).await;
        let id = ctx.drain(&secret, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let engine = ctx.app.drains.engine.clone();
        let deadline = std::time::Instant::now() + WAIT;
        while !engine.is_caught_up(&id) {
            assert!(
                std::time::Instant::now() < deadline,
                "the drain never caught up"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // An idle cycle (run after the task's own, on its memory) reads no settings.
        let loads = engine.settings_loads();
        assert_eq!(
            engine.run_once(&id).await.unwrap(),
            outflow::drain::engine::Ran::Idle
        );
        assert_eq!(
            engine.settings_loads(),
            loads,
            "an idle cycle read settings"
        );
        // Neither does a cycle woken by new records: it reads only the records.
        ctx.app.ingest_ok("workflows", &runs("a", 2)).await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 2).await;
        assert_eq!(
            batches(&reqs)[0].json()["records"][0]["user_email"],
            "ada@acme.example"
        );
        engine.run_once(&id).await.unwrap();
        assert_eq!(
            engine.settings_loads(),
            loads,
            "a woken cycle read settings"
        );

        // A change of the organization's privacy is seen by the next cycle.
        let r = ctx
            .app
            .client
            .put(format!("{}/v1/orgs/acme", ctx.app.url))
            .bearer_auth(INGEST_KEY)
            .json(&json!({"name": "Org acme", "privacy": "pseudonymized"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        ctx.app.ingest_ok("workflows", &runs("b", 1)).await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 3).await;
        let last = batches(&reqs).last().unwrap().json();
        assert_eq!(last["records"][0]["run_id"], "b-0");
        let email = last["records"][0]["user_email"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(email, "ada@acme.example", "privacy change not seen");
        assert!(engine.settings_loads() > loads);

        // So is a change of the drain's fields.
        let loads = engine.settings_loads();
        ctx.ok(
            reqwest::Method::PATCH,
            &format!("/v1/drains/{id}"),
            Some(json!({"fields": ["run_id"]})),
            200,
        )
        .await;
        ctx.app.ingest_ok("workflows", &runs("c", 1)).await;
        let reqs = rx.wait_for(WAIT, |r| delivered_ids(r).len() >= 4).await;
        let rec = batches(&reqs).last().unwrap().json()["records"][0].clone();
        assert_eq!(rec["run_id"], "c-0");
        assert!(
            rec.get("user_email").is_none(),
            "field change not seen: {rec}"
        );
        assert!(engine.settings_loads() > loads);
    }
);

both_backends!(
    a_replay_interrupted_by_a_restart_resumes_where_it_stopped,
    |backend| async move {
        let (ctx, rx, stepper, id) = stepper_setup(backend).await;
        // Paused: the live drain stays out of the way; a replay runs regardless.
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/pause"),
            None,
            200,
        )
        .await;
        // 2,500 runs at 2026-03-29T00:30Z: three batches of at most 1,000.
        for chunk in 0..3 {
            ctx.app
                .ingest_ok(
                    "workflows",
                    &runs(&format!("w{chunk}"), if chunk < 2 { 1000 } else { 500 }),
                )
                .await;
        }
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        let replayed = |reqs: &[crate::http_receiver::Received]| -> Vec<String> {
            batches(reqs)
                .into_iter()
                .filter(|r| r.header("webhook-id").starts_with("replay-"))
                .flat_map(|r| {
                    r.json()["records"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x["run_id"].as_str().unwrap().to_string())
                        .collect::<Vec<_>>()
                })
                .collect()
        };

        // The first batch is taken; the second meets a 503 whose Retry-After outlasts the
        // engine, which stops while the replay waits.
        rx.reply_next(vec![
            Reply::status(200),
            Reply::status(503).header("retry-after", "600"),
        ]);
        let stop = tokio_util::sync::CancellationToken::new();
        let running = stepper.engine.spawn(stop.clone());
        let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        stepper
            .replay(
                "acme",
                &id,
                at("2026-03-28T00:00:00Z"),
                at("2026-03-30T00:00:00Z"),
            )
            .await
            .unwrap();
        let reqs = rx.wait_for(WAIT, |r| batches(r).len() >= 2).await;
        let keys = |reqs: &[crate::http_receiver::Received]| -> Vec<String> {
            batches(reqs)
                .iter()
                .map(|r| r.header("webhook-id").to_string())
                .collect()
        };
        let first = keys(&reqs);
        assert!(first.iter().all(|k| k.starts_with("replay-")), "{first:?}");
        stop.cancel();
        running.await.unwrap();
        assert_eq!(
            batches(&rx.requests()).len(),
            2,
            "nothing sent after the stop"
        );

        // The node starts again: the replay goes on with its second batch, under the same key,
        // and the first is not sent again.
        let again = stepper_engine(&ctx);
        let stop = tokio_util::sync::CancellationToken::new();
        let running = again.spawn(stop.clone());
        let distinct = |reqs: &[crate::http_receiver::Received]| {
            let mut ids = replayed(reqs);
            ids.sort();
            ids.dedup();
            ids.len()
        };
        let reqs = rx.wait_for(WAIT, |r| distinct(r) >= 2500).await;
        let all = keys(&reqs);
        assert_eq!(all.len(), 4, "{all:?}");
        assert_eq!(all[..2], first[..]);
        assert_eq!(all[2], first[1], "the refused batch again, same key");
        assert!(!first.contains(&all[3]));
        assert_eq!(distinct(&reqs), 2500);
        assert_eq!(
            replayed(&reqs).len(),
            3500,
            "1,000 + 1,000 refused + 1,000 + 500"
        );
        // Recorded as done, with every record counted once.
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let rows = ctx
                .app
                .store
                .query(
                    "SELECT status, records FROM drain_replays",
                    &[],
                    &[
                        outflow::domain::FieldType::Text,
                        outflow::domain::FieldType::Integer,
                    ],
                )
                .await
                .unwrap();
            if rows[0][0].as_text() == Some("done") {
                assert_eq!(rows[0][1].as_i64(), Some(2500));
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the replay never finished"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.cancel();
        running.await.unwrap();
    }
);

both_backends!(
    a_backfill_shows_its_ingest_time_lag_beside_the_event_time_lag,
    |backend| async move {
        let (ctx, rx, stepper, id) = stepper_setup(backend).await;
        let engine = &stepper.engine;
        assert_eq!(engine.run_due().await.unwrap(), Ran::Idle);
        let d = ctx.get_drain(&id).await;
        assert_eq!(d["lag_seconds"], 0.0);
        assert_eq!(d["ingest_lag_seconds"], 0.0);

        // A backfill: runs of 2026-03-29, stored now; the receiver is down.
        rx.set_default(Reply::status(500).body("receiver down"));
        ctx.app.ingest_ok("workflows", &runs("old", 2)).await;
        read_all(&ctx.app.store, outflow::domain::DataType::Workflows, "acme").await;
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        let d = ctx.get_drain(&id).await;
        let event = d["lag_seconds"].as_f64().unwrap();
        let ingest = d["ingest_lag_seconds"].as_f64().unwrap();
        // Stored moments ago (a failed cycle with a retry since), the events months old.
        assert!(event > 30.0 * 86_400.0, "event-time lag {event}");
        assert!(ingest > 0.0 && ingest < 600.0, "ingest-time lag {ingest}");

        rx.set_default(Reply::status(200));
        assert_eq!(engine.run_once(&id).await.unwrap(), Ran::Worked);
        let d = ctx.get_drain(&id).await;
        assert_eq!(d["records_delivered"], 2);
        assert_eq!(d["lag_seconds"], 0.0);
        assert_eq!(d["ingest_lag_seconds"], 0.0, "caught up: no ingest lag");
    }
);
