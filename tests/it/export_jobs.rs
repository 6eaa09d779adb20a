//! Export job lifecycle edges (issue 12, items 10, 11, 13): `download=true` never answers 200
//! without the file, cancel's contract (the job ends CANCELLED with no file or piece left, or
//! the answer says it was too late), and a taken-over or abandoned job removes the dead
//! attempt's multipart pieces. The tests drive the queue themselves (no background workers).

use crate::both_backends;
use crate::helpers::*;
use outflow::export::jobs::{self, JobState};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BODY_RANGE: (&str, &str) = ("2026-03-01", "2026-03-31");

/// An app with no background workers, a one-second lease (heartbeats every 333 ms) and
/// organization `acme` with team `team-eng` and member `u1`.
async fn app(b: Backend) -> TestApp {
    let app = spawn_app_with(b, |c| {
        c.exports.workers = 0;
        c.exports.lease_seconds = 1;
    })
    .await;
    acme_with_team_and_member(&app).await;
    app
}

/// Inserts `n` workflow runs of `acme` in March 2026 straight into the database, each with a
/// 500-character workbook name, so an export of them is long and goes multipart.
async fn seed_runs(app: &TestApp, n: i64) {
    let sql = match app.store.kind() {
        outflow::store::BackendKind::Postgres => {
            "INSERT INTO workflow_runs (org_id, pos, workspace_id, workspace_name, workbook_id, \
             workbook_name, user_id, user_email, run_id, credit_cost, pl_run_created_ts) \
             SELECT 'acme', 1000000 + g, 'team-eng', 'Engineering', 'wb-' || (g % 50), \
             repeat('w', 500), 'u1', 'ada@acme.example', 'seed-' || g, (g % 100) / 10.0, \
             TIMESTAMPTZ '2026-03-02 00:00:00+00' + g * INTERVAL '10 second' \
             FROM generate_series(0, ?::bigint - 1) AS g"
        }
        outflow::store::BackendKind::Sqlite => {
            "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?) \
             INSERT INTO workflow_runs (org_id, pos, workspace_id, workspace_name, workbook_id, \
             workbook_name, user_id, user_email, run_id, credit_cost, pl_run_created_ts) \
             SELECT 'acme', 1000000 + n, 'team-eng', 'Engineering', 'wb-' || (n % 50), \
             replace(hex(zeroblob(250)), '0', 'w'), 'u1', 'ada@acme.example', 'seed-' || n, \
             (n % 100) / 10.0, 1772409600000000 + n * 10000000 FROM g"
        }
    };
    app.store
        .execute(sql, &[outflow::store::Value::Integer(n)])
        .await
        .unwrap();
}

fn export_body(preset: &str) -> Value {
    json!({"data_type": "workflows", "start": BODY_RANGE.0, "end": BODY_RANGE.1,
           "workspace_ids": ["team-eng"], "field_preset": preset, "user_id": "u1"})
}

async fn create(app: &TestApp, key: &str, body: Value) -> String {
    let r = post_json(app, "/v1/exports", key, body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job: Value = r.json().await.unwrap();
    job["id"].as_str().unwrap().to_string()
}

async fn cancel(app: &TestApp, key: &str, id: &str) -> reqwest::Response {
    post_json(app, &format!("/v1/exports/{id}/cancel"), key, json!({})).await
}

/// The directory an export's file (and any multipart piece of it) lives in.
fn job_dir(app: &TestApp, id: &str) -> PathBuf {
    app._db
        .dir
        .path()
        .join("files")
        .join("exports")
        .join("acme")
        .join(id)
}

/// The names in `dir` (none when it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The file name the worker gives a `workflows` March 2026 CSV export of job `id`.
fn file_name_of(id: &str) -> String {
    format!(
        "workflows-{}-{}-{}.csv",
        BODY_RANGE.0,
        BODY_RANGE.1,
        &id[id.len() - 8..]
    )
}

async fn state_of(app: &TestApp, id: &str) -> JobState {
    jobs::get(&app.store, "acme", id)
        .await
        .unwrap()
        .unwrap()
        .state
}

// `/export_status?download=true` answers the file only when there is one: a queued, running,
// failed or cancelled job answers 409 with a JSON body naming its state, so `curl … > x.csv`
// can tell a file from a not-yet.
both_backends!(download_true_is_409_until_completed, |b| async move {
    let app = app(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let r = app
        .ingest("workflows", &json!([run_record("acme", "r-1")]))
        .await;
    assert_eq!(r.status(), 200);
    let status_url =
        |id: &str| format!("/export_status?user_id=u1&data_export_id={id}&download=true");
    let assert_409_json = |r: reqwest::Response, state: &'static str| async move {
        assert_eq!(r.status(), 409);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "conflict", "{body}");
        assert_eq!(body["state"], state, "{body}");
        let msg = body["message"].as_str().unwrap();
        assert!(msg.contains(state), "{msg}");
    };

    // Queued.
    let id = create(&app, &key, export_body("minimal")).await;
    assert_409_json(app.get(&status_url(&id), &key).await, "REQUESTED").await;
    // Running (claimed by a worker that has not finished).
    let now = chrono::Utc::now();
    let later = now + chrono::Duration::seconds(60);
    let claimed = jobs::claim(&app.store, "node-a", now, later, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);
    assert_409_json(app.get(&status_url(&id), &key).await, "IN_PROGRESS").await;
    // Failed: no file will ever come.
    jobs::finish_unsuccessfully(
        &app.store,
        &id,
        "node-a",
        JobState::Failed,
        Some("boom"),
        0,
        now,
    )
    .await
    .unwrap();
    assert_409_json(app.get(&status_url(&id), &key).await, "FAILED").await;
    // Cancelled while queued.
    let id = create(&app, &key, export_body("minimal")).await;
    assert_eq!(cancel(&app, &key, &id).await.status(), 200);
    assert_409_json(app.get(&status_url(&id), &key).await, "CANCELLED").await;
    // Without download=true the state is an ordinary 200 JSON answer.
    let r = app
        .get(
            &format!("/export_status?user_id=u1&data_export_id={id}"),
            &key,
        )
        .await;
    assert_eq!(r.status(), 200);
    // Completed: the file itself.
    let id = create(&app, &key, export_body("minimal")).await;
    assert_eq!(
        app.exports.run_next().await.unwrap(),
        Some(JobState::Completed)
    );
    let r = app.get(&status_url(&id), &key).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
});

// Cancelling a long-running export mid-upload: the answer is the final CANCELLED state, and
// neither the file nor any multipart piece of it is left behind.
both_backends!(
    cancel_of_a_long_export_ends_cancelled_and_clean,
    |b| async move {
        let app = app(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        seed_runs(&app, 120_000).await;
        let id = create(&app, &key, export_body("full")).await;
        let worker = {
            let exports = app.exports.clone();
            tokio::spawn(async move { exports.run_next().await.unwrap() })
        };
        // Wait until the upload has gone multipart: a piece `<file>#1` exists next to the file.
        let dir = job_dir(&app, &id);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let names = names_in(&dir);
            if names.iter().any(|n| n.contains('#')) {
                break;
            }
            assert!(
                !worker.is_finished(),
                "the export finished before it went multipart: seed more rows ({names:?})"
            );
            assert!(Instant::now() < deadline, "the export never went multipart");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let r = cancel(&app, &key, &id).await;
        assert_eq!(r.status(), 200);
        let view: Value = r.json().await.unwrap();
        assert_eq!(view["state"], "CANCELLED", "{view}");
        assert_eq!(worker.await.unwrap(), Some(JobState::Cancelled));
        assert_eq!(state_of(&app, &id).await, JobState::Cancelled);
        assert_eq!(names_in(&dir), Vec::<String>::new(), "partial file left");
        // A second cancel says it is over, naming the state.
        let msg = error_message(cancel(&app, &key, &id).await, 409).await;
        assert!(msg.contains("CANCELLED"), "{msg}");
    }
);

// The window the 55 ms job fell into: the cancel lands after the worker's last check but
// before it records completion. The completion is then refused and the job ends CANCELLED
// with its finished file deleted; a cancel after completion answers 409 naming COMPLETED.

both_backends!(cancel_races_completion_exactly, |b| async move {
    let app = app(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let r = app
        .ingest("workflows", &json!([run_record("acme", "r-1")]))
        .await;
    assert_eq!(r.status(), 200);

    // A worker elsewhere (node-a) is running the job and has not heartbeat since the cancel.
    let id = create(&app, &key, export_body("minimal")).await;
    let now = chrono::Utc::now();
    let later = now + chrono::Duration::seconds(60);
    jobs::claim(&app.store, "node-a", now, later, 3)
        .await
        .unwrap()
        .unwrap();
    let r = cancel(&app, &key, &id).await;
    assert_eq!(r.status(), 202, "the cancel is accepted, not yet done");
    let view: Value = r.json().await.unwrap();
    assert_eq!(
        (view["state"].as_str(), view["cancel_requested"].as_bool()),
        (Some("IN_PROGRESS"), Some(true)),
        "{view}"
    );
    // node-a finished writing before its next heartbeat: its completion is refused...
    let name = file_name_of(&id);
    let finished = jobs::Finished {
        rows: 1,
        bytes: 10,
        file_key: &format!("exports/acme/{id}/{name}"),
        file_name: &name,
        expires_at: later,
    };
    assert!(
        !jobs::complete(&app.store, &id, "node-a", &finished, now)
            .await
            .unwrap(),
        "a cancelled job must not complete"
    );
    // ...and whatever it reports next ends the job CANCELLED.
    assert_eq!(
        jobs::finish_unsuccessfully(
            &app.store,
            &id,
            "node-a",
            JobState::Failed,
            Some("late"),
            1,
            now
        )
        .await
        .unwrap(),
        Some(JobState::Cancelled)
    );
    let msg = error_message(cancel(&app, &key, &id).await, 409).await;
    assert!(msg.contains("CANCELLED"), "{msg}");

    // Too late: the job completed first; the answer names its final state.
    let id = create(&app, &key, export_body("minimal")).await;
    assert_eq!(
        app.exports.run_next().await.unwrap(),
        Some(JobState::Completed)
    );
    let msg = error_message(cancel(&app, &key, &id).await, 409).await;
    assert!(msg.contains("COMPLETED"), "{msg}");

    // Racing a real worker on a short job: every outcome is one of the two contracts.
    for _ in 0..5 {
        let id = create(&app, &key, export_body("minimal")).await;
        let worker = {
            let exports = app.exports.clone();
            tokio::spawn(async move { exports.run_next().await.unwrap() })
        };
        let r = cancel(&app, &key, &id).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        let ran = worker.await.unwrap();
        let state = state_of(&app, &id).await;
        match status {
            200 => {
                assert_eq!(body["state"], "CANCELLED", "{body}");
                assert_eq!(state, JobState::Cancelled);
                assert_eq!(names_in(&job_dir(&app, &id)), Vec::<String>::new());
            }
            409 => {
                assert!(
                    body["message"].as_str().unwrap().contains("COMPLETED"),
                    "{body}"
                );
                assert_eq!(state, JobState::Completed);
                assert_eq!(ran, Some(JobState::Completed));
            }
            other => panic!("cancel answered {other}: {body}"),
        }
    }
});

/// `claims` workers in turn claim job `id` and die at once (a lease of 1 ms), each leaving
/// what kill -9 mid-upload leaves: the local store's staged upload `<file>#n`, 8 MiB written.
async fn dead_attempts(app: &TestApp, id: &str, claims: u32) -> PathBuf {
    let dir = job_dir(app, id);
    for n in 1..=claims {
        let deadline = Instant::now() + Duration::from_secs(10);
        let dead = loop {
            let now = chrono::Utc::now();
            let lease = now + chrono::Duration::milliseconds(1);
            if let Some(job) = jobs::claim(&app.store, "dead-node", now, lease, claims)
                .await
                .unwrap()
            {
                break job;
            }
            assert!(Instant::now() < deadline, "claim {n} never happened");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!((dead.id.as_str(), dead.attempts), (id, i64::from(n)));
        std::fs::create_dir_all(&dir).unwrap();
        let piece = dir.join(format!("{}#{n}", file_name_of(id)));
        std::fs::write(&piece, vec![b'x'; 8 * 1024 * 1024]).unwrap();
    }
    dir
}

// A worker killed mid-upload leaves `<file>#1` behind (the local store's multipart piece).
// The worker that takes the job over removes it; so does the sweep that gives up on a job
// whose workers keep dying, and the takeover of a job cancelled while its worker was dead.
both_backends!(takeover_removes_the_dead_attempts_pieces, |b| async move {
    let app = app(b).await;
    let (_, key) = app.org_key("acme", "usage_export").await;
    let r = app
        .ingest("workflows", &json!([run_record("acme", "r-1")]))
        .await;
    assert_eq!(r.status(), 200);
    // Taken over: the new attempt completes and the dead one's piece is gone.
    let id = create(&app, &key, export_body("minimal")).await;
    let dir = dead_attempts(&app, &id, 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let state = loop {
        if let Some(s) = app.exports.run_next().await.unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "orphan never reclaimed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(state, JobState::Completed);
    assert_eq!(names_in(&dir), vec![file_name_of(&id)]);

    // Abandoned after its last attempt: the sweep fails it and removes the piece.
    let id = create(&app, &key, export_body("minimal")).await;
    let dir = dead_attempts(&app, &id, 3).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while state_of(&app, &id).await == JobState::InProgress {
        app.exports.sweep(chrono::Utc::now()).await.unwrap();
        assert!(Instant::now() < deadline, "abandoned job never failed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(state_of(&app, &id).await, JobState::Failed);
    assert_eq!(names_in(&dir), Vec::<String>::new());

    // Cancelled while its worker was dead: the takeover ends it CANCELLED, piece removed.
    let id = create(&app, &key, export_body("minimal")).await;
    let dir = dead_attempts(&app, &id, 1).await;
    assert_eq!(cancel(&app, &key, &id).await.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    let state = loop {
        if let Some(s) = app.exports.run_next().await.unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "orphan never reclaimed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(state, JobState::Cancelled);
    assert_eq!(state_of(&app, &id).await, JobState::Cancelled);
    assert_eq!(names_in(&dir), Vec::<String>::new());
});
