//! The export wizard's row filters over HTTP, as a browser without JavaScript uses them: a
//! credit-log category and an audit-log event type reach the job's spec, an unknown category
//! is refused on the Filters step with the form kept, and Clone carries the filters.

use crate::admin_pages::{Browser, hidden_inputs};
use crate::both_backends;

const NEW: &str = "/settings/organization/data_export/exports/new";

fn config(c: &mut outflow::config::Config) {
    // No export workers: jobs stay REQUESTED and the test only reads their specs.
    c.exports.workers = 0;
}

/// The wizard's last step for `data_type` (no team chosen), plus `extra`.
fn form<'a>(data_type: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("data_type", data_type),
        ("preset", "custom"),
        ("start", "2026-03-01"),
        ("end", "2026-03-31"),
        ("timezone", "Europe/Berlin"),
        ("field_preset", "minimal"),
        ("format", "csv"),
        ("step", "create"),
    ];
    form.extend_from_slice(extra);
    form
}

both_backends!(
    the_wizard_filters_reach_the_job_spec,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        let (status, html) = b
            .submit_text(NEW, &form("credit_logs", &[("category", "agent_run")]))
            .await;
        assert_eq!(status, 303, "{html}");
        let (status, html) = b
            .submit_text(
                NEW,
                &form(
                    "audit_logs",
                    &[
                        ("event_types", "user_sign_in"),
                        ("event_types", "drain_created"),
                    ],
                ),
            )
            .await;
        assert_eq!(status, 303, "{html}");
        let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
        assert_eq!(jobs.len(), 2);
        let (audit, credit) = (&jobs[0].spec, &jobs[1].spec);
        assert_eq!(credit.category.as_deref(), Some("agent_run"));
        assert_eq!(audit.event_types, ["user_sign_in", "drain_created"]);

        // A team-scoped type: entity ids alone are a scope (the API's rule), comma-separated.
        let (status, html) = b
            .submit_text(NEW, &form("workflows", &[("entity_ids", "wb-1, wb-2,,")]))
            .await;
        assert_eq!(status, 303, "{html}");
        let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
        assert_eq!(jobs[0].spec.entity_ids, ["wb-1", "wb-2"]);
        let clone = b.page(&format!("{NEW}?clone={}", jobs[0].id)).await;
        assert!(
            clone.contains("name=\"entity_ids\" value=\"wb-1, wb-2\""),
            "{clone}"
        );
    }
);

both_backends!(
    the_filters_step_offers_the_filters_and_refuses_an_unknown_category,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        // The Filters step: labelled categories, the custom role, the organization-wide note.
        let (status, html) = b
            .submit_text(
                NEW,
                &[
                    ("data_type", "credit_logs"),
                    ("preset", "last_7_days"),
                    ("step", "filters"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("value=\"agent_run\">Agent Chats<"), "{html}");
        assert!(html.contains("name=\"custom_role\""), "{html}");
        assert!(html.contains("organization-wide"), "{html}");
        let (status, html) = b
            .submit_text(
                NEW,
                &[
                    ("data_type", "audit_logs"),
                    ("preset", "last_7_days"),
                    ("step", "filters"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{html}");
        for e in ["user_sign_in", "export_created"] {
            assert!(html.contains(&format!("value=\"{e}\"")), "{e}: {html}");
        }

        // Unknown category: refused on the Filters step, naming the field, the value kept.
        let (status, html) = b
            .submit_text(NEW, &form("credit_logs", &[("category", "nope")]))
            .await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("category_filter"), "{html}");
        assert!(html.contains("unknown category"), "{html}");
        assert!(html.contains("<option value=\"nope\" selected"), "{html}");
        let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
        assert!(jobs.is_empty());
    }
);

both_backends!(clone_prefills_the_filters, |backend| async move {
    let b = Browser::signed_in_with(backend, config).await;
    let (status, html) = b
        .submit_text(NEW, &form("credit_logs", &[("category", "pipeline_run")]))
        .await;
    assert_eq!(status, 303, "{html}");
    let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
    let id = jobs[0].id.clone();
    let clone = b.page(&format!("{NEW}?clone={id}")).await;
    assert!(
        clone.contains("name=\"category\" value=\"pipeline_run\""),
        "{clone}"
    );
    // Creating it as carried asks for the same filter again.
    let mut carried = hidden_inputs(&clone);
    carried.retain(|(k, _)| k != "csrf");
    carried.push(("data_type".into(), "credit_logs".into()));
    carried.push(("step".into(), "create".into()));
    let carried: Vec<(&str, &str)> = carried
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, html) = b.submit_text(NEW, &carried).await;
    assert_eq!(status, 303, "{html}");
    let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
    assert_eq!(jobs[0].spec.category.as_deref(), Some("pipeline_run"));
    assert_ne!(jobs[0].id, id);

    // Audit logs: the event types come back ticked-as-carried too.
    let (status, html) = b
        .submit_text(NEW, &form("audit_logs", &[("event_types", "file_upload")]))
        .await;
    assert_eq!(status, 303, "{html}");
    let (jobs, _) = b.app.exports.list("acme", 1, 10).await.unwrap();
    let clone = b.page(&format!("{NEW}?clone={}", jobs[0].id)).await;
    assert!(
        clone.contains("name=\"event_types\" value=\"file_upload\""),
        "{clone}"
    );
});
