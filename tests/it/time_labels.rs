//! Time zones at the edges of a window, on both backends: a bound with `Z` or `±HH:MM` is
//! that exact instant on every route that takes one (/v1/exports, /export_data,
//! /export/{type}, /v1/reports, drains' `start_ts`), and usage-report labels (`period_start`,
//! `period_end`, `dateRange`, the CSV file name) are dates in the request's zone, end
//! inclusive, even where the zone's month starts or ends on another UTC date.
//!
//! The organization's zone is Europe/Berlin (CET, UTC+1, all of November 2026).

use crate::both_backends;
use crate::helpers::*;
use crate::http_receiver::Receiver;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// November 2026 as UTC instants, with `Z`: in Berlin wall-clock time this would start at
/// 23:00Z on Oct 31 and end at 22:59:59.999Z on Nov 30.
const NOV_FROM_Z: &str = "2026-11-01T00:00:00.000Z";
const NOV_TO_Z: &str = "2026-11-30T23:59:59.999Z";

/// The runs of wb-1 that fall in [NOV_FROM_Z, NOV_TO_Z]; the others sit in the hour a
/// wall-clock reading of the `Z` bounds would shift the window by, or outside it.
const IN_UTC_NOVEMBER: [&str; 3] = ["r-first", "r-last", "r-last-2"];

async fn seeded(b: Backend) -> TestApp {
    let app = spawn_app(b).await;
    app.put_org("acme").await;
    let r = app
        .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .put_entity(
            "acme",
            "members",
            "u1",
            json!({"email": "ada@acme.example", "name": "Ada", "joined_at": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let runs: Vec<Value> = [
        // Oct 31 in UTC, Nov 1 00:30 in Berlin.
        ("r-before", "2026-10-31T23:30:00Z"),
        ("r-first", "2026-11-01T00:30:00Z"),
        // Nov 30 in UTC, Dec 1 in Berlin.
        ("r-last", "2026-11-30T23:30:00Z"),
        ("r-last-2", "2026-11-30T23:45:00Z"),
        ("r-after", "2026-12-01T00:30:00Z"),
    ]
    .into_iter()
    .map(|(id, at)| {
        let mut r = run_record("acme", id);
        r["pl_run_created_ts"] = json!(at);
        r.as_object_mut().unwrap().remove("pl_run_finished_ts");
        r
    })
    .collect();
    let body = app.ingest_ok("workflows", &Value::Array(runs)).await;
    assert_eq!(body["accepted"], 5, "{body}");
    app
}

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.url))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn ok_json(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Waits (with a deadline) until the job is finished, then returns the run ids of its CSV.
async fn exported_ids(app: &TestApp, key: &str, id: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job: Value = app
            .get(&format!("/v1/exports/{id}"), key)
            .await
            .json()
            .await
            .unwrap();
        match job["state"].as_str().unwrap() {
            "REQUESTED" | "IN_PROGRESS" => {}
            "COMPLETED" => break,
            other => panic!("export {id} ended {other}: {job}"),
        }
        assert!(Instant::now() < deadline, "export {id} did not finish");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let r = app.get(&format!("/v1/exports/{id}/download"), key).await;
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    let mut ids: Vec<String> = csv::Reader::from_reader(body.as_ref())
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

both_backends!(
    z_bounds_are_instants_on_every_export_route,
    |b| async move {
        let app = seeded(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        let want = sorted(&IN_UTC_NOVEMBER);

        // Native: the zone names the labels only.
        let job = ok_json(
            post(
                &app,
                "/v1/exports",
                &key,
                &json!({"data_type": "workflows", "start": NOV_FROM_Z, "end": NOV_TO_Z,
                        "timezone": "Europe/Berlin", "include_all_workspaces": true,
                        "fields": ["run_id"]}),
            )
            .await,
            202,
        )
        .await;
        let id = job["id"].as_str().unwrap();
        assert_eq!(exported_ids(&app, &key, id).await, want, "/v1/exports");

        // The same instants spelled with a numeric offset select the same records.
        let job = ok_json(
            post(
                &app,
                "/v1/exports",
                &key,
                &json!({"data_type": "workflows", "start": "2026-10-31T19:00:00-05:00",
                        "end": "2026-12-01T05:44:59.999+05:45", "timezone": "Europe/Berlin",
                        "include_all_workspaces": true, "fields": ["run_id"]}),
            )
            .await,
            202,
        )
        .await;
        let id = job["id"].as_str().unwrap();
        assert_eq!(exported_ids(&app, &key, id).await, want, "offsets");

        // Reference one-time export with an explicit zone.
        let started = ok_json(
            post(
                &app,
                "/export_data",
                &key,
                &json!({"user_id": "u1", "data_type": "workflows", "export_fields": ["run_id"],
                        "start_date": NOV_FROM_Z, "end_date": NOV_TO_Z,
                        "timezone": "Europe/Berlin", "include_all_workspaces": true}),
            )
            .await,
            200,
        )
        .await;
        let id = started["data_export_id"].as_str().unwrap();
        assert_eq!(exported_ids(&app, &key, id).await, want, "/export_data");

        // Reference usage export: each bound with its own zone, both given as `Z` instants.
        let body = ok_json(
            post(
                &app,
                "/export/workflows/json",
                &key,
                &json!({"from": {"date": NOV_FROM_Z, "timezone": "Europe/Berlin"},
                        "to": {"date": NOV_TO_Z, "timezone": "Europe/Berlin"}}),
            )
            .await,
            200,
        )
        .await;
        let rows = body["data"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{body}");
        assert_eq!(rows[0]["runs"], 3, "{body}");

        // Native report, same window.
        let body = ok_json(
            post(
                &app,
                "/v1/reports/workflows",
                &key,
                &json!({"start": NOV_FROM_Z, "end": NOV_TO_Z, "timezone": "Europe/Berlin"}),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(body["rows"][0]["runs"], 3, "{body}");
        assert_eq!(
            body["date_range"]["from"], "2026-11-01T01:00:00.000+01:00",
            "{body}"
        );
    }
);

/// Checks one zone's November report on all three report routes.
async fn november_labels(app: &TestApp, key: &str, tz: &str, from: &str, to: &str) {
    let window = json!({"from": {"date": "2026-11-01", "timezone": tz},
                        "to": {"date": "2026-11-30", "timezone": tz}});

    // CSV: file name, dateRange and the rows' labels.
    let body = ok_json(post(app, "/export/workflows", key, &window).await, 200).await;
    let data = &body["data"];
    let file_path = data["filePath"].as_str().unwrap();
    assert!(
        file_path.contains("/workflows-usage-2026-11-01-2026-11-30-"),
        "{tz}: {file_path}"
    );
    assert_eq!(data["dateRange"]["from"], from, "{tz}: {body}");
    assert_eq!(data["dateRange"]["to"], to, "{tz}: {body}");
    let csv_text = app
        .client
        .get(data["downloadUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "period_start");
    assert_eq!(&headers[1], "period_end");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(!rows.is_empty(), "{tz}: {csv_text}");
    for row in &rows {
        assert_eq!((&row[0], &row[1]), ("2026-11-01", "2026-11-30"), "{tz}");
    }

    // JSON rows.
    let body = ok_json(post(app, "/export/workflows/json", key, &window).await, 200).await;
    for row in body["data"].as_array().unwrap() {
        assert_eq!(row["period_start"], "2026-11-01", "{tz}: {row}");
        assert_eq!(row["period_end"], "2026-11-30", "{tz}: {row}");
    }

    // Native report.
    let body = ok_json(
        post(
            app,
            "/v1/reports/workflows",
            key,
            &json!({"start": "2026-11-01", "end": "2026-11-30", "timezone": tz}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["date_range"]["period_start"], "2026-11-01", "{tz}");
    assert_eq!(body["date_range"]["period_end"], "2026-11-30", "{tz}");
    assert_eq!(body["date_range"]["from"], from, "{tz}");
    for row in body["rows"].as_array().unwrap() {
        assert_eq!(row["period_start"], "2026-11-01", "{tz}: {row}");
        assert_eq!(row["period_end"], "2026-11-30", "{tz}: {row}");
    }
}

both_backends!(
    report_labels_are_dates_in_the_request_zone,
    |b| async move {
        let app = seeded(b).await;
        let (_, key) = app.org_key("acme", "usage_export").await;
        // New York's November ends at 05:00Z on Dec 1; Berlin's starts at 23:00Z on Oct 31.
        november_labels(
            &app,
            &key,
            "America/New_York",
            "2026-11-01T00:00:00.000-04:00",
            "2026-11-30T23:59:59.999-05:00",
        )
        .await;
        november_labels(
            &app,
            &key,
            "Europe/Berlin",
            "2026-11-01T00:00:00.000+01:00",
            "2026-11-30T23:59:59.999+01:00",
        )
        .await;
    }
);

both_backends!(
    drain_start_ts_honours_offsets_and_reads_the_rest_in_the_org_zone,
    |b| async move {
        let app = spawn_app_with(b, |c| c.drains.allow_private_destinations = true).await;
        app.put_org("acme").await;
        let (_, key) = app.org_key("acme", "drains").await;
        let rx = Receiver::start().await;
        let secret = ok_json(
            post(
                &app,
                "/v1/secrets",
                &key,
                &json!({"name": "receiver", "kind": "http", "url": rx.url}),
            )
            .await,
            201,
        )
        .await;
        for (given, expected) in [
            ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"),
            // Minute precision with an offset: an instant, like any other bound.
            ("2026-11-01T00:00+05:45", "2026-10-31T18:15:00Z"),
            // No offset: the organization's zone (Berlin), as export ranges read it.
            ("2026-11-01T00:00:00", "2026-10-31T23:00:00Z"),
            ("2026-11-01", "2026-10-31T23:00:00Z"),
        ] {
            let d = ok_json(
                post(
                    &app,
                    "/v1/drains",
                    &key,
                    &json!({"name": format!("from {given}"), "data_type": "workflows",
                            "fields": ["run_id"], "include_all_workspaces": true,
                            "destination": {"type": "http", "format": "json"},
                            "secret_id": secret["id"], "start_ts": given}),
                )
                .await,
                201,
            )
            .await;
            let start: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(d["start_ts"].clone()).unwrap();
            assert_eq!(
                start.to_rfc3339(),
                expected.replace('Z', "+00:00"),
                "{given}"
            );
        }
        let msg = error_message(
            post(
                &app,
                "/v1/drains",
                &key,
                &json!({"name": "bad", "data_type": "workflows", "fields": ["run_id"],
                        "include_all_workspaces": true, "destination": {"type": "http", "format": "json"},
                        "secret_id": secret["id"], "start_ts": "2026-11-01T00:00+25:00"}),
            )
            .await,
            400,
        )
        .await;
        assert!(msg.contains("start_ts") && msg.contains("±HH:MM"), "{msg}");
    }
);
