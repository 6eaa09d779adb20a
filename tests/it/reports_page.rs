//! The admin Reports page (`/settings/organization/reports`) as a browser without JavaScript
//! uses it: the GET form's table, the CSV download of the same query, the API's message for
//! bad input (kept in the form), and the sign-in redirect.

use crate::admin_pages::Browser;
use crate::both_backends;
use serde_json::json;

const PATH: &str = "/settings/organization/reports";
const MARCH: &str = "report=agents&start=2026-03-01&end=2026-03-31";

fn same_config(_: &mut outflow::config::Config) {}

/// Three interactions of an agent no entity names (a report lists it by its id): two in
/// March 2026 (Europe/Berlin, the org's zone), one in April.
async fn seed(b: &Browser) {
    let chat = |id: &str, at: &str| {
        json!({
            "org_id": "acme", "interaction_id": id, "user_id": "u1",
            "agent_id": "agent-zeta", "workspace_id": "team-eng",
            "model": "openai/gpt-4.1", "source": "WEB",
            "interaction_created_ts": at, "message_count": 3,
        })
    };
    let chats = json!([
        chat("i1", "2026-03-02T10:00:00+01:00"),
        chat("i2", "2026-03-20T10:00:00+01:00"),
        chat("i3", "2026-04-02T10:00:00+02:00"),
    ]);
    assert_eq!(
        b.app.ingest_ok("agent_interactions", &chats).await["accepted"],
        3
    );
}

fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

both_backends!(
    reports_page_shows_the_table_and_its_csv,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b).await;
        let form = b.page(PATH).await;
        assert!(form.contains("aria-current=\"page\">Reports</a>"), "{form}");
        assert!(
            form.contains("value=\"Europe/Berlin\""),
            "the org's zone by default"
        );
        assert!(
            !form.contains("Download CSV"),
            "nothing computed on the first visit"
        );

        let html = b.page(&format!("{PATH}?{MARCH}")).await;
        assert!(html.contains("<td>agent-zeta</td>"), "{html}");
        assert!(
            html.contains("<th scope=\"col\">assistant_id</th>"),
            "{html}"
        );
        assert!(html.contains("2026-03-01 to 2026-03-31"), "{html}");
        // The page's own "Download CSV" link, followed as a browser would.
        let marker = "href=\"/settings/organization/reports.csv?";
        let at = html.find(marker).expect("a CSV link") + "href=\"".len();
        let link = html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&");
        assert_eq!(
            link,
            "/settings/organization/reports.csv?report=agents&group_by=&preset=\
             &start=2026-03-01&end=2026-03-31&timezone="
        );
        assert!(html.contains("Download CSV"), "{html}");
        let r = b.get(&link).await;
        assert_eq!(r.status(), 200);
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert!(header("content-type").starts_with("text/csv"));
        assert_eq!(
            header("content-disposition"),
            "attachment; filename=\"agents-usage-2026-03-01-2026-03-31.csv\""
        );
        let csv = r.text().await.unwrap();
        let mut lines = csv.split("\r\n");
        let head = lines.next().unwrap();
        assert!(head.starts_with("period_start,period_end,"), "{head}");
        assert!(head.contains(",assistant_id,"), "{head}");
        let row = lines.next().unwrap();
        assert!(row.contains(",agent-zeta,"), "{row}");
        assert!(row.starts_with("2026-03-01,2026-03-31,"), "{row}");
    }
);

both_backends!(
    reports_page_shows_the_apis_message_for_bad_input,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b).await;
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        let api = b
            .app
            .client
            .post(format!("{}/v1/reports/agents", b.app.url))
            .bearer_auth(&key)
            .json(&json!({"start": "2026-13-01", "end": "2026-03-31"}))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 400);
        let message = api.json::<serde_json::Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();

        let r = b
            .get(&format!(
                "{PATH}?report=agents&start=2026-13-01&end=2026-03-31"
            ))
            .await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains(&escaped(&message)), "{message}: {html}");
        assert!(
            html.contains("value=\"2026-13-01\""),
            "the form keeps its values"
        );
        assert!(!html.contains("Download CSV"));

        // A split the report does not allow: the API's message too.
        let r = b.get(&format!("{PATH}?{MARCH}&group_by=source")).await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("group_by `source` is not supported for agents; allowed: model"),
            "{html}"
        );
        // The CSV of bad input is refused the same way.
        let r = b
            .get(&format!(
                "{PATH}.csv?report=agents&start=2026-13-01&end=2026-03-31"
            ))
            .await;
        assert_eq!(r.status(), 400);
    }
);

both_backends!(reports_page_and_csv_need_a_session, |backend| async move {
    let b = Browser::signed_in_with(backend, same_config).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [PATH.to_string(), format!("{PATH}.csv?{MARCH}")] {
        let r = anonymous
            .get(format!("{}{path}", b.app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        let to = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
        assert!(to.starts_with("/signin?next="), "{path}: {to}");
    }
});

both_backends!(
    an_empty_window_and_a_preset_with_stale_dates_are_not_errors,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b).await;
        // A window with no usage is an answer, not a missing page.
        let r = b
            .get(&format!(
                "{PATH}?report=agents&start=2025-01-01&end=2025-01-31"
            ))
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("No usage was recorded"), "{html}");
        assert!(!html.contains("Download CSV"), "{html}");
        // A preset wins over the custom dates the form still carries (they are only read with
        // the Custom range choice), as the form's labels say.
        let recent = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let chat = json!([{
            "org_id": "acme", "interaction_id": "i-recent", "user_id": "u1",
            "agent_id": "agent-zeta", "workspace_id": "team-eng", "model": "openai/gpt-4.1",
            "source": "WEB", "interaction_created_ts": recent, "message_count": 1,
        }]);
        assert_eq!(
            b.app.ingest_ok("agent_interactions", &chat).await["accepted"],
            1
        );
        let html = b
            .page(&format!(
                "{PATH}?report=agents&preset=last_7_days&start=2026-03-01&end=2026-03-31"
            ))
            .await;
        assert!(!html.contains("error-box"), "{html}");
        assert!(html.contains("Download CSV"), "{html}");
    }
);
