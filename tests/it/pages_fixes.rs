//! Admin-page defects a new user ran into, over HTTP as a browser without JavaScript sees
//! them: the drain wizard's skipped Scope step, the export wizard's custom fields after an
//! error, the replay panel's promise, and history rows that say their zone, agree in number
//! and tell two exports of the same type and range apart.

use crate::admin_pages::Browser;
use crate::both_backends;
use crate::helpers::*;
use crate::http_receiver::Receiver;
use chrono::Utc;
use serde_json::{Value, json};

const DE: &str = "/settings/organization/data_export";

fn config(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    // The test runs export jobs itself (`run_next`).
    c.exports.workers = 0;
}

/// The label of the wizard's current step.
fn current_step(html: &str) -> String {
    let at = html.find("aria-current=\"step\"").expect("a current step");
    let rest = &html[at..];
    let label = rest.find("</span><span>").expect("the step's label") + "</span><span>".len();
    rest[label..label + rest[label..].find('<').unwrap()].to_string()
}

/// The `value`s of the checked `<input name=NAME>` tags.
fn checked(html: &str, name: &str) -> Vec<String> {
    let attr = format!("name=\"{name}\"");
    html.split("<input")
        .skip(1)
        .map(|tag| &tag[..tag.find('>').unwrap()])
        .filter(|tag| tag.contains(&attr) && tag.contains(" checked"))
        .filter_map(|tag| {
            let v = tag.find("value=\"")? + "value=\"".len();
            Some(tag[v..v + tag[v..].find('"')?].to_string())
        })
        .collect()
}

both_backends!(
    drain_wizard_next_from_the_type_step_reaches_fields_for_organization_wide_types,
    |backend| async move {
        let a = Browser::signed_in_with(backend, config).await;
        // The type step is rendered before a type is chosen, so its Next names Scope.
        let start = a.page(&format!("{DE}/drains/new")).await;
        assert!(start.contains("name=\"step\" value=\"scope\""), "{start}");
        for dt in ["audit_logs", "tool_calls"] {
            let (status, html) = a
                .submit_text(
                    &format!("{DE}/drains/new"),
                    &[("data_type", dt), ("step", "scope")],
                )
                .await;
            assert_eq!(status, 200, "{dt}");
            assert_eq!(
                current_step(&html),
                "Fields",
                "{dt}: one Next reaches Fields"
            );
            assert!(html.contains("Custom fields"), "{dt}");
        }
        // A team-scoped type still gets its Scope step.
        let (status, html) = a
            .submit_text(
                &format!("{DE}/drains/new"),
                &[("data_type", "workflows"), ("step", "scope")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(current_step(&html), "Scope");
    }
);

both_backends!(
    export_wizard_keeps_the_custom_field_choice_through_errors,
    |backend| async move {
        let a = Browser::signed_in_with(backend, config).await;
        let r = a
            .app
            .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
            .await;
        assert_eq!(r.status(), 200);
        let base = [
            ("data_type", "workflows"),
            ("preset", "custom"),
            ("start", "2026-03-01"),
            ("end", "2026-03-31"),
            ("timezone", "Europe/Berlin"),
            ("teams", "team-eng"),
            ("field_preset", "custom"),
            ("format", "csv"),
            ("step", "create"),
        ];
        // Custom with every box cleared: the error, and Custom still empty — no preset's
        // fields come back ticked behind the admin's back.
        let (status, html) = a.submit_text(&format!("{DE}/exports/new"), &base).await;
        assert_eq!(status, 400);
        assert!(html.contains("Choose at least one field"), "{html}");
        assert_eq!(checked(&html, "field_preset"), ["custom"]);
        assert_eq!(checked(&html, "fields"), Vec::<String>::new());

        // Four fields and an error elsewhere on the step: the four stay ticked, nothing else.
        // In the page's (catalog) order, which is also the column order.
        let four = ["workbook_name", "user_email", "run_id", "credit_cost"];
        let mut form = base.to_vec();
        form.retain(|(k, _)| *k != "format");
        form.push(("format", "xlsx"));
        form.extend(four.iter().map(|f| ("fields", *f)));
        let (status, html) = a.submit_text(&format!("{DE}/exports/new"), &form).await;
        assert_eq!(status, 400, "{html}");
        assert_eq!(checked(&html, "field_preset"), ["custom"]);
        assert_eq!(checked(&html, "fields"), four);

        // Submitting what the page shows exports exactly those four columns.
        let mut form = base.to_vec();
        form.extend(four.iter().map(|f| ("fields", *f)));
        let (status, body) = a.submit_text(&format!("{DE}/exports/new"), &form).await;
        assert_eq!(status, 303, "{body}");
        let (jobs, _) = outflow::export::jobs::list(&a.app.store, "acme", 1, 10)
            .await
            .unwrap();
        assert_eq!(jobs[0].spec.fields, four);

        // A preset's first showing ticks that preset's fields under Custom.
        let (status, html) = a
            .submit_text(
                &format!("{DE}/exports/new"),
                &[
                    ("data_type", "workflows"),
                    ("preset", "last_7_days"),
                    ("all_teams", "on"),
                    ("field_preset", "minimal"),
                    ("step", "fields"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        let minimal = outflow::domain::catalog::spec(outflow::domain::DataType::Workflows)
            .preset_fields(outflow::domain::catalog::Preset::Minimal);
        assert_eq!(checked(&html, "fields"), minimal);
    }
);

both_backends!(
    the_replay_panel_promises_fresh_idempotency_keys,
    |backend| async move {
        let a = Browser::signed_in_with(backend, config).await;
        let rx = Receiver::start().await;
        let (_, key) = a.app.org_key("acme", "drains").await;
        let post = |path: &str, body: Value| {
            a.app
                .client
                .post(format!("{}{path}", a.app.url))
                .bearer_auth(&key)
                .json(&body)
                .send()
        };
        let secret: Value = post(
            "/v1/secrets",
            json!({"name": "rx", "kind": "http", "url": format!("{}/hook", rx.url)}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let r = post(
            "/v1/drains",
            json!({"name": "runs", "data_type": "workflows", "field_preset": "minimal",
                "destination": {"type": "http"}, "secret_id": secret["id"]}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        let drain: Value = r.json().await.unwrap();
        let html = a
            .page(&format!("{DE}/drains/{}", drain["id"].as_str().unwrap()))
            .await;
        assert!(html.contains("fresh idempotency keys"), "{html}");
        assert!(!html.contains("same idempotency keys"), "{html}");
        // What the page shows is when things happened, in the organization's zone, named.
        let zone = Utc::now()
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%Z")
            .to_string();
        assert!(
            html.contains(&format!(" {zone}</time>")),
            "times carry {zone}: {html}"
        );
    }
);

both_backends!(
    export_history_names_the_zone_agrees_in_number_and_tells_exports_apart,
    |backend| async move {
        let a = Browser::signed_in_with(backend, config).await;
        for (id, name) in [("team-eng", "Engineering"), ("team-mkt", "Marketing")] {
            let r = a
                .app
                .put_entity("acme", "teams", id, json!({"name": name}))
                .await;
            assert_eq!(r.status(), 200);
        }
        a.app
            .ingest_ok("workflows", &json!([run_record("acme", "march-1")]))
            .await;
        // Two exports of the same type and range: one Default for every team, one with two
        // fields for Engineering.
        let range = [
            ("data_type", "workflows"),
            ("preset", "custom"),
            ("start", "2026-03-01"),
            ("end", "2026-03-31"),
            ("timezone", "Europe/Berlin"),
            ("format", "csv"),
            ("step", "create"),
        ];
        let mut every = range.to_vec();
        every.extend([
            ("all_teams", "on"),
            ("personal", "on"),
            ("field_preset", "default"),
        ]);
        let mut two = range.to_vec();
        two.extend([
            ("teams", "team-eng"),
            ("field_preset", "custom"),
            ("fields", "run_id"),
            ("fields", "credit_cost"),
        ]);
        for form in [every, two] {
            let (status, body) = a.submit_text(&format!("{DE}/exports/new"), &form).await;
            assert_eq!(status, 303, "{body}");
            a.app.exports.run_next().await.unwrap();
        }
        let tab = a.page(&format!("{DE}?tab=exports")).await;
        let default_count = outflow::domain::catalog::spec(outflow::domain::DataType::Workflows)
            .preset_fields(outflow::domain::catalog::Preset::Default)
            .len();
        assert!(
            tab.contains(&format!(
                "Default fields ({default_count}) · all teams and personal spaces"
            )),
            "{tab}"
        );
        assert!(
            tab.contains("2 fields: run_id, credit_cost · Engineering<"),
            "{tab}"
        );
        // One row each, said in the singular, on the page and in the JSON it polls.
        assert!(tab.contains(">1 row<") && !tab.contains("1 rows"), "{tab}");
        let live: Value = a
            .get(&format!("{DE}/exports.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(live["items"][0]["rows"], "1 row");
        // Created times name the organization's zone.
        let zone = Utc::now()
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%Z")
            .to_string();
        assert!(tab.contains(&format!(" {zone}</time>")), "{tab}");
    }
);
