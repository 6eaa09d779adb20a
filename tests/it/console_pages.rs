//! The console pages that show what the API shows, over HTTP as a browser without JavaScript
//! uses them: an export's detail page (cancel, clone, tenancy), the export history's search
//! and filters, and a drain's destination host and status history.

use crate::admin_pages::{Browser, hidden_inputs};
use crate::both_backends;
use crate::helpers::*;
use serde_json::json;

const DE: &str = "/settings/organization/data_export";

fn config(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 1;
    // No export workers: jobs stay REQUESTED until a test moves them.
    c.exports.workers = 0;
}

/// Requests a workflows export through the wizard's last step; its id, read from the link
/// the history row now carries.
async fn wizard_export(b: &Browser, timezone: &str, format: &str) -> String {
    let before = export_ids(&b.page(&format!("{DE}?tab=exports")).await);
    let (status, html) = b
        .submit_text(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "workflows"),
                ("preset", "custom"),
                ("start", "2026-03-01"),
                ("end", "2026-03-31"),
                ("timezone", timezone),
                ("teams", "team-eng"),
                ("field_preset", "minimal"),
                ("format", format),
                ("gzip", "on"),
                ("step", "create"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{html}");
    let after = export_ids(&b.page(&format!("{DE}?tab=exports")).await);
    let new: Vec<_> = after.into_iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 1, "one new export linked from the history");
    new[0].clone()
}

/// The export ids the history links to, in page order.
fn export_ids(html: &str) -> Vec<String> {
    let marker = format!("href=\"{DE}/exports/exp_");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let id = &html[at + marker.len() - 4..];
            id[..id.find('"').unwrap()].to_string()
        })
        .collect()
}

both_backends!(
    the_export_page_shows_the_job_cancels_it_and_clones_it,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        let r = b
            .app
            .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
            .await;
        assert_eq!(r.status(), 200);
        let id = wizard_export(&b, "America/New_York", "ndjson").await;

        let page = b.page(&format!("{DE}/exports/{id}")).await;
        // The range in the organization's zone (Europe/Berlin), the request's zone named.
        assert!(page.contains("2026-03-01 06:00 CET"), "{page}");
        assert!(page.contains("2026-04-01 06:00 CEST"), "{page}");
        assert!(page.contains("requested in America/New_York"), "{page}");
        for expected in [
            "Workflow Runs",
            "Engineering",
            "ndjson · gzip",
            "admin@acme.example",
            "REQUESTED",
            "Filters",
            "Duration",
        ] {
            assert!(page.contains(expected), "{expected}: {page}");
        }
        let fields = catalog_minimal_fields();
        assert!(page.contains(&fields.join(", ")), "{page}");
        assert!(page.contains(&format!("action=\"{DE}/exports/{id}/cancel\"")));

        // Clone: the wizard with the job's settings carried as its choices.
        let clone = b.page(&format!("{DE}/exports/new?clone={id}")).await;
        for input in [
            "name=\"start\" value=\"2026-03-01\"",
            "name=\"end\" value=\"2026-03-31\"",
            "name=\"timezone\" value=\"America/New_York\"",
            "name=\"teams\" value=\"team-eng\"",
            "name=\"field_preset\" value=\"minimal\"",
            "name=\"format\" value=\"ndjson\"",
            "name=\"gzip\" value=\"on\"",
        ] {
            assert!(clone.contains(input), "{input}: {clone}");
        }
        assert!(clone.contains("name=\"data_type\" value=\"workflows\" required checked"));
        // Creating it as carried asks for the same export again.
        let mut form = hidden_inputs(&clone);
        form.retain(|(k, _)| k != "csrf");
        form.push(("data_type".into(), "workflows".into()));
        form.push(("step".into(), "create".into()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, html) = b.submit_text(&format!("{DE}/exports/new"), &form).await;
        assert_eq!(status, 303, "{html}");
        let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
        assert_eq!(jobs.len(), 2);
        let (copy, original) = (&jobs[0].spec, &jobs[1].spec);
        assert_eq!(jobs[1].id, id);
        assert_eq!(
            (
                copy.start,
                copy.end,
                &copy.timezone,
                &copy.teams,
                &copy.fields
            ),
            (
                original.start,
                original.end,
                &original.timezone,
                &original.teams,
                &original.fields
            )
        );
        assert_eq!((&copy.format, copy.gzip), (&original.format, original.gzip));

        // Cancel, through the form: the page now says CANCELLED and offers no cancel.
        let (status, _) = b
            .submit_text(&format!("{DE}/exports/{id}/cancel"), &[])
            .await;
        assert_eq!(status, 303);
        let page = b
            .page(&format!("{DE}/exports/{id}?notice=export_cancelled"))
            .await;
        assert!(page.contains("Export cancelled."), "{page}");
        assert!(page.contains("CANCELLED"), "{page}");
        assert!(
            !page.contains("/cancel\""),
            "no cancel for a final job: {page}"
        );
        assert_eq!(
            b.app.exports.get("acme", &id).await.unwrap().unwrap().state,
            outflow::export::JobState::Cancelled
        );
    }
);

fn catalog_minimal_fields() -> Vec<String> {
    outflow::domain::catalog::spec(outflow::domain::DataType::Workflows)
        .preset_fields(outflow::domain::catalog::Preset::Minimal)
        .into_iter()
        .map(str::to_string)
        .collect()
}

both_backends!(
    another_organizations_export_is_not_found,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        b.app.put_org("other").await;
        let (_, key) = b.app.org_key("other", "usage_export").await;
        let body = json!({"data_type": "audit_logs", "start": "2026-03-01", "end": "2026-03-31",
            "field_preset": "minimal"});
        let r = post_json(&b.app, "/v1/exports", &key, body).await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        let id = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        for path in [
            format!("{DE}/exports/{id}"),
            format!("{DE}/exports/new?clone={id}"),
        ] {
            let r = b.get(&path).await;
            assert_eq!(r.status(), 404, "{path}");
            assert!(r.text().await.unwrap().contains("Not found"));
        }
        let (status, _) = b
            .submit_text(&format!("{DE}/exports/{id}/cancel"), &[])
            .await;
        assert_eq!(status, 404);
        assert_eq!(
            b.app
                .exports
                .get("other", &id)
                .await
                .unwrap()
                .unwrap()
                .state,
            outflow::export::JobState::Requested,
            "another organization's job is left alone"
        );
    }
);

/// Queues an audit-log export of `acme` through the API; its id.
async fn api_export(b: &Browser, key: &str) -> String {
    let body = json!({"data_type": "audit_logs", "start": "2026-03-01", "end": "2026-03-31",
        "field_preset": "minimal"});
    let r = post_json(&b.app, "/v1/exports", key, body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends!(
    the_export_history_filters_by_type_state_and_text_across_pages,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        let r = b
            .app
            .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
            .await;
        assert_eq!(r.status(), 200);
        let kept = wizard_export(&b, "Europe/Berlin", "csv").await;
        let cancelled = wizard_export(&b, "Europe/Berlin", "csv").await;
        b.app.exports.cancel("acme", &cancelled).await.unwrap();
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        let mut audits = Vec::new();
        for _ in 0..26 {
            audits.push(api_export(&b, &key).await);
        }
        let ids = |html: &str| export_ids(html);

        // By data type: 26 audit-log jobs over two pages, no workflow job on either, and the
        // pager keeps the filter.
        let page1 = b
            .page(&format!("{DE}?tab=exports&data_type=audit_logs"))
            .await;
        let shown = ids(&page1);
        assert_eq!(shown.len(), 25, "{page1}");
        assert!(shown.iter().all(|i| audits.contains(i)));
        assert!(page1.contains("Page 1 of 2"), "{page1}");
        assert!(
            page1.contains("?tab=exports&amp;page=2&amp;data_type=audit_logs"),
            "{page1}"
        );
        assert!(page1.contains("<option value=\"audit_logs\" selected>"));
        let page2 = b
            .page(&format!("{DE}?tab=exports&page=2&data_type=audit_logs"))
            .await;
        let shown2 = ids(&page2);
        assert_eq!(shown2.len(), 1, "{page2}");
        assert!(audits.contains(&shown2[0]));
        assert!(page2.contains("?tab=exports&amp;page=1&amp;data_type=audit_logs"));
        // Each view's live poll follows its filter and page: it answers the rows shown.
        for (view, shown) in [(&page1, &shown), (&page2, &shown2)] {
            let url = poll_url(view);
            let body: serde_json::Value = b.get(&url).await.json().await.unwrap();
            let polled: Vec<String> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(&polled, shown, "{url}");
        }

        // By state.
        let page = b.page(&format!("{DE}?tab=exports&state=CANCELLED")).await;
        assert_eq!(ids(&page), vec![cancelled.clone()], "{page}");
        let page = b
            .page(&format!(
                "{DE}?tab=exports&data_type=workflows&state=REQUESTED"
            ))
            .await;
        assert_eq!(ids(&page), vec![kept.clone()], "{page}");

        // By text: part of an id (any case), or the requester's email.
        let part = kept[kept.len() - 12..].to_uppercase();
        let page = b.page(&format!("{DE}?tab=exports&q={part}")).await;
        assert_eq!(ids(&page), vec![kept.clone()], "{page}");
        assert!(
            page.contains(&format!("value=\"{part}\"")),
            "search kept: {page}"
        );
        let page = b
            .page(&format!("{DE}?tab=exports&q=ADMIN%40acme.example"))
            .await;
        let mut found = ids(&page);
        found.sort();
        let mut wizard = vec![kept.clone(), cancelled.clone()];
        wizard.sort();
        assert_eq!(found, wizard, "{page}");
        // `%` is looked for literally, not as a wildcard.
        let page = b.page(&format!("{DE}?tab=exports&q=%25")).await;
        assert!(ids(&page).is_empty(), "{page}");
        assert!(page.contains("No exports match this search."));
    }
);

/// The export table's live-status URL (`data-poll-url`), unescaped.
fn poll_url(html: &str) -> String {
    let marker = "data-poll-url=\"";
    let at = html.find(marker).expect("a polled table") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&")
}

/// The cells of each status-history row of a drain page, in page order.
fn history_rows(html: &str) -> Vec<String> {
    html.split("<tr data-role=\"status-event\">")
        .skip(1)
        .map(|row| row[..row.find("</tr>").unwrap()].to_string())
        .collect()
}

fn failing_fast(c: &mut outflow::config::Config) {
    config(c);
    c.drains.max_failed_cycles = 1;
}

both_backends!(
    the_drain_page_shows_the_host_and_the_status_history,
    |backend| async move {
        let b = Browser::signed_in_with(backend, failing_fast).await;
        let rx = crate::http_receiver::Receiver::start().await;
        let (_, key) = b.app.org_key("acme", "drains").await;
        let url = format!(
            "{}/services/T000/B000/xoxb-very-secret-path?token=sekrit123",
            rx.url
        );
        let s = post_json(
            &b.app,
            "/v1/secrets",
            &key,
            json!({"name": "rx", "kind": "http", "url": url}),
        )
        .await;
        assert_eq!(s.status(), 201, "{}", s.text().await.unwrap());
        let secret = s.json::<serde_json::Value>().await.unwrap()["id"].clone();
        let r = post_json(
            &b.app,
            "/v1/drains",
            &key,
            json!({"name": "runs", "data_type": "workflows",
            "field_preset": "minimal", "destination": {"type": "http"}, "secret_id": secret}),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let id = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();

        // Paused and resumed on the page, then stopped by a receiver that refuses.
        for action in ["pause", "resume"] {
            let (status, _) = b
                .submit_text(&format!("{DE}/drains/{id}/{action}"), &[("back", "detail")])
                .await;
            assert_eq!(status, 303, "{action}");
        }
        rx.set_default(
            crate::http_receiver::Reply::status(403)
                .body("invalid_token: this webhook was revoked"),
        );
        b.app
            .ingest_ok("workflows", &json!([run_record("acme", "r-1")]))
            .await;
        // On PostgreSQL the record becomes readable once no older transaction anywhere in
        // the cluster is still open: a condition with a deadline, not a fixed budget.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            b.app.drains.engine.run_once(&id).await.unwrap();
            if b.app.drains.get("acme", &id).await.unwrap().status.as_str() == "error" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the drain stops after its failed cycle"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        let page = b.page(&format!("{DE}/drains/{id}")).await;
        assert!(
            page.contains(&format!("<code data-role=\"host\">{}</code>", rx.url)),
            "{page}"
        );
        for secret_part in ["/services/T000", "very-secret-path", "sekrit123", "token="] {
            assert!(!page.contains(secret_part), "{secret_part} leaked: {page}");
        }
        let rows = history_rows(&page);
        let labels: Vec<&str> = ["Stopped by errors", "Resumed", "Paused", "Created"].to_vec();
        assert_eq!(rows.len(), labels.len(), "{rows:#?}");
        for (row, label) in rows.iter().zip(&labels) {
            assert!(row.contains(&format!("<td>{label}</td>")), "{label}: {row}");
        }
        assert!(rows[0].contains("HTTP 403"), "{}", rows[0]);
        assert!(
            rows[0].contains("invalid_token: this webhook was revoked"),
            "{}",
            rows[0]
        );
        assert!(rows[1].contains("was paused"), "{}", rows[1]);
        assert!(rows[1].contains("admin:admin@acme.example"), "{}", rows[1]);
        assert!(rows[2].contains("was active"), "{}", rows[2]);
        // Times in the organization's zone (Europe/Berlin), its abbreviation shown.
        let zone = chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%Z")
            .to_string();
        assert!(
            rows.iter().all(|r| r.contains(&format!(" {zone}</time>"))),
            "{rows:#?}"
        );
    }
);
