//! The Analytics page (`/settings/organization/analytics`) over HTTP, as a browser without
//! JavaScript uses it: the tiles, the credits-per-day table behind the chart and the top
//! tables carry the same numbers as `GET /v1/usage`; ten teams become the top 8 and "Other";
//! a team's day links to the New Export wizard prefilled with that day, zone and team; users
//! follow the privacy setting; another organization's usage never shows; every chart and
//! table downloads as CSV; bad input is refused with the usage API's message. Both backends.

use crate::admin_pages::Browser;
use crate::both_backends;
use crate::helpers::*;
use serde_json::{Value, json};

const PATH: &str = "/settings/organization/analytics";
const WEEK: &str = "preset=&start=2026-03-02&end=2026-03-08&timezone=Europe/Berlin";
const API_WEEK: &str = "start=2026-03-02&end=2026-03-08&timezone=Europe/Berlin";

fn same_config(_: &mut outflow::config::Config) {}

/// Ten teams (team-0 spends most), two members, credit logs on three days of the week (and
/// one in the week before, the previous period), runs with two workbooks (one failed), and
/// interactions of two agents and models.
async fn seed(b: &Browser, org: &str) {
    let app = &b.app;
    if org != "acme" {
        app.put_org(org).await;
    }
    for t in 0..10 {
        put_team(
            app,
            org,
            &format!("{org}-team-{t}"),
            &format!("{org} Team {t}"),
        )
        .await;
    }
    put_member(app, org, "u1", "ada@acme.example", "Ada Lovelace").await;
    put_member(app, org, "u2", "bob@acme.example", "Bob Builder").await;
    let mut logs = Vec::new();
    for (d, day) in ["2026-03-02", "2026-03-03", "2026-03-05"]
        .iter()
        .enumerate()
    {
        for t in 0..10 {
            logs.push(json!({
                "org_id": org, "log_id": format!("{org}-{d}-{t}"),
                "timestamp": format!("{day}T10:{t:02}:00+01:00"),
                "category": "agent_run",
                "amount": -((10 - t) as f64) * 1.25 - d as f64,
                "user_id": if t % 3 == 0 { "u2" } else { "u1" },
                "project_id": format!("{org}-team-{t}"),
            }));
        }
    }
    logs.push(json!({"org_id": org, "log_id": format!("{org}-prev"), "timestamp": "2026-02-25T10:00:00+01:00",
        "category": "agent_run", "amount": -4.0, "user_id": "u1", "project_id": format!("{org}-team-0")}));
    logs.push(json!({"org_id": org, "log_id": format!("{org}-grant"), "timestamp": "2026-03-04T10:00:00+01:00",
        "category": "agent_run", "amount": 100.0, "user_id": "u1", "project_id": format!("{org}-team-0")}));
    app.ingest_ok("credit_logs", &Value::Array(logs)).await;
    let runs: Vec<Value> = (0..4)
        .map(|k| {
            json!({"org_id": org, "run_id": format!("{org}-r{k}"), "workspace_id": format!("{org}-team-1"),
            "workbook_id": format!("wb-{}", k % 2), "user_id": "u1",
            "pl_run_created_ts": format!("2026-03-0{}T09:00:00+01:00", k + 2),
            "run_status": if k == 0 { "failed" } else { "success" }, "credit_cost": 1.5 * (k + 1) as f64})
        })
        .collect();
    app.ingest_ok("workflows", &Value::Array(runs)).await;
    let chats: Vec<Value> = (0..3)
        .map(|k| {
            json!({"org_id": org, "interaction_id": format!("{org}-i{k}"), "workspace_id": format!("{org}-team-2"),
            "user_id": "u2", "agent_id": format!("agent-{}", k % 2), "model": (["gpt-4.1", "claude"][k % 2]),
            "interaction_created_ts": "2026-03-04T12:00:00+01:00", "credit_cost": 0.75, "message_count": 2})
        })
        .collect();
    app.ingest_ok("agent_interactions", &Value::Array(chats))
        .await;
}

async fn api(b: &Browser, key: &str, query: &str) -> Value {
    let r = b.app.get(&format!("/v1/usage?{query}"), key).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

/// The value of attribute `name` in the tag holding the first `marker`.
fn attr_after(html: &str, marker: &str, name: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in the page"));
    let from = html[..at].rfind('<').unwrap_or(at);
    let tag = &html[from..at + html[at..].find('>').unwrap()];
    let m = format!("{name}=\"");
    let s = tag.find(&m).unwrap_or_else(|| panic!("{name} in {tag}")) + m.len();
    tag[s..s + tag[s..].find('"').unwrap()].to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn f(s: &str) -> f64 {
    s.parse().unwrap()
}

/// The day row of the daily table: team → value.
fn day_cells(html: &str, day: &str) -> Vec<(String, f64)> {
    let start = html
        .find(&format!("<tr data-day=\"{day}\">"))
        .expect("the day's row");
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    row.split("data-team=\"")
        .skip(1)
        .map(|c| {
            let team = c[..c.find('"').unwrap()].to_string();
            let v = c.split("data-value=\"").nth(1).unwrap();
            (team, f(&v[..v.find('"').unwrap()]))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
}

both_backends!(analytics_page_matches_the_usage_api, |backend| async move {
    let b = Browser::signed_in_with(backend, same_config).await;
    seed(&b, "acme").await;
    let (_, key) = b.app.org_key("acme", "usage_export").await;
    let html = b.page(&format!("{PATH}?{WEEK}")).await;
    assert!(
        html.contains("aria-current=\"page\">Analytics</a>"),
        "in the nav"
    );

    // Tiles: the API's totals over the window and over the week before.
    let now = api(
        &b,
        &key,
        &format!("{API_WEEK}&bucket=total&metrics=credits,runs,failed_runs,active_users"),
    )
    .await;
    let prev = api(&b, &key, "start=2026-02-23&end=2026-03-01&timezone=Europe/Berlin&bucket=total&metrics=credits,runs,failed_runs,active_users").await;
    let t = &now["buckets"][0]["totals"];
    let p = &prev["buckets"][0]["totals"];
    for m in ["credits", "runs", "active_users"] {
        let marker = format!("data-tile=\"{m}\"");
        assert!(
            close(
                f(&attr_after(&html, &marker, "data-value")),
                t[m].as_f64().unwrap()
            ),
            "{m}"
        );
        assert!(
            close(
                f(&attr_after(&html, &marker, "data-previous")),
                p[m].as_f64().unwrap()
            ),
            "{m}"
        );
    }
    assert_eq!(t["runs"], 4);
    let rate = f(&attr_after(
        &html,
        "data-tile=\"failure_rate\"",
        "data-value",
    ));
    assert!(close(rate, 0.25), "one of four runs failed: {rate}");
    // Day d, team t spends 1.25 × (10 − t) + d; the grant is not spending.
    assert!(
        close(t["credits"].as_f64().unwrap(), 3.0 * 68.75 + 30.0),
        "{t}"
    );
    assert!(
        html.contains("Compared with Feb 23, 2026 – Mar 1, 2026"),
        "{html}"
    );

    // The daily table: the API's per-team credits, the top 8 teams and "Other".
    let daily = api(
        &b,
        &key,
        &format!("{API_WEEK}&bucket=1d&group_by=team&metrics=credits"),
    )
    .await;
    let buckets = daily["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 7);
    for bucket in buckets {
        let day = &bucket["start"].as_str().unwrap()[..10];
        let groups = bucket["groups"].as_array().unwrap();
        if groups.is_empty() {
            assert!(
                !html.contains(&format!("<tr data-day=\"{day}\">"))
                    || day_cells(&html, day).iter().all(|c| c.1 == 0.0)
            );
            continue;
        }
        let cells = day_cells(&html, day);
        assert_eq!(cells.len(), 9, "8 teams and Other: {cells:?}");
        let mut other = 0.0;
        for g in groups {
            let team = g["key"]["team"].as_str().unwrap();
            let v = g["values"]["credits"].as_f64().unwrap();
            match cells.iter().find(|c| c.0 == team) {
                Some(c) => assert!(close(c.1, v), "{day} {team}: {} vs {v}", c.1),
                None => other += v,
            }
        }
        let o = cells.iter().find(|c| c.0 == "other").unwrap();
        assert!(close(o.1, other), "{day}: other {} vs {other}", o.1);
        // The smallest spenders (teams 8 and 9) are the ones folded into Other.
        assert!(
            !cells
                .iter()
                .any(|c| c.0 == "acme-team-8" || c.0 == "acme-team-9")
        );
    }

    // The chart: a labelled SVG whose segments have hover titles and open the wizard.
    assert!(
        html.contains("data-role=\"credits-chart\""),
        "an inline SVG chart"
    );
    assert!(
        html.contains("<title>acme Team 0 · 2026-03-02: 12.50 credits</title>"),
        "{html}"
    );
    assert!(html.contains("<li><svg"), "a legend");
    assert!(html.contains("Other</li>"), "Other in the legend");
    let link = unescape(&attr_after(
        &html,
        "<a href=\"/settings/organization/data_export/exports/new?data_type=credit_logs&amp;start=2026-03-02",
        "href",
    ));
    assert_eq!(
        link,
        "/settings/organization/data_export/exports/new?data_type=credit_logs&start=2026-03-02\
             &end=2026-03-02&timezone=Europe%2FBerlin&teams=acme-team-0"
    );
    let wizard = b.page(&link).await;
    assert!(
        wizard.contains("value=\"2026-03-02\""),
        "the day is prefilled: {wizard}"
    );
    assert!(
        wizard.contains("<option value=\"custom\" selected"),
        "{wizard}"
    );
    assert!(wizard.contains("<option value=\"Europe/Berlin\" selected"));
    assert!(
        wizard.contains("name=\"teams\" value=\"acme-team-0\""),
        "the team is carried"
    );
    assert!(wizard.contains("name=\"data_type\" value=\"credit_logs\""));

    // Top tables: the API's groups.
    for (table, dim, metric) in [
        ("users", "user", "credits"),
        ("workbooks", "workbook", "run_credits"),
        ("agents", "agent", "interaction_credits"),
        ("models", "model", "interaction_credits"),
    ] {
        let a = api(
            &b,
            &key,
            &format!("{API_WEEK}&bucket=total&group_by={dim}&metrics={metric}"),
        )
        .await;
        let groups = a["buckets"][0]["groups"].as_array().unwrap();
        assert!(!groups.is_empty(), "{table}");
        let from = html
            .find(&format!("data-role=\"top-{table}\""))
            .expect("the table");
        let section = &html[from..from + html[from..].find("</table>").unwrap()];
        for g in groups {
            let id = g["key"][dim].as_str().unwrap();
            let v = attr_after(section, &format!("data-key=\"{id}\""), "data-key");
            assert_eq!(v, id);
            let row = &section[section.find(&format!("data-key=\"{id}\"")).unwrap()..];
            let v = attr_after(row, "data-value", "data-value");
            assert!(
                close(f(&v), g["values"][metric].as_f64().unwrap()),
                "{table} {id}"
            );
        }
    }
    assert!(
        html.contains("<td>Ada Lovelace</td>"),
        "users by name when visible"
    );
});

both_backends!(
    analytics_page_users_follow_the_privacy_setting,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b, "acme").await;
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        for privacy in ["pseudonymized", "hidden"] {
            let r = b.app.client.put(format!("{}/v1/orgs/acme", b.app.url)).bearer_auth(INGEST_KEY)
                .json(&json!({"name": "Org acme", "timezone": "Europe/Berlin", "billing_anchor_day": 15, "privacy": privacy}))
                .send().await.unwrap();
            assert_eq!(r.status(), 200);
            let html = b.page(&format!("{PATH}?{WEEK}")).await;
            let csv = b
                .get(&format!("{PATH}.csv?table=users&{WEEK}"))
                .await
                .text()
                .await
                .unwrap();
            for leak in [
                "Ada Lovelace",
                "Bob Builder",
                "ada@acme.example",
                "bob@acme.example",
            ] {
                assert!(!html.contains(leak), "{privacy}: {leak} on the page");
                assert!(!csv.contains(leak), "{privacy}: {leak} in the CSV");
            }
            assert!(
                !html.contains("data-key=\"u1\"") && !html.contains("data-key=\"u2\""),
                "{privacy}: ids"
            );
            assert!(
                !csv.lines()
                    .any(|l| l.starts_with("u1,") || l.starts_with("u2,")),
                "{csv}"
            );
            let a = api(
                &b,
                &key,
                &format!("{API_WEEK}&bucket=total&group_by=user&metrics=credits"),
            )
            .await;
            for g in a["buckets"][0]["groups"].as_array().unwrap() {
                let id = g["key"]["user"].as_str().unwrap();
                assert!(
                    html.contains(&format!("data-key=\"{id}\"")),
                    "{privacy}: the API's {id}"
                );
                assert!(csv.contains(&format!("{id},{id},")), "{privacy}: {csv}");
            }
            if privacy == "hidden" {
                assert!(html.contains("data-key=\"hidden\""), "one hidden group");
            } else {
                assert!(html.contains("data-key=\"anon_"), "pseudonyms");
            }
        }
    }
);

both_backends!(
    analytics_page_shows_only_the_admins_organization,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b, "acme").await;
        seed(&b, "beta").await;
        let html = b.page(&format!("{PATH}?{WEEK}")).await;
        assert!(html.contains("acme Team 0"));
        assert!(!html.contains("beta"), "no trace of the other organization");
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        let a = api(
            &b,
            &key,
            &format!("{API_WEEK}&bucket=total&metrics=credits"),
        )
        .await;
        let credits = f(&attr_after(&html, "data-tile=\"credits\"", "data-value"));
        assert!(close(
            credits,
            a["buckets"][0]["totals"]["credits"].as_f64().unwrap()
        ));
        for table in ["tiles", "daily", "users", "workbooks", "agents", "models"] {
            let csv = b
                .get(&format!("{PATH}.csv?table={table}&{WEEK}"))
                .await
                .text()
                .await
                .unwrap();
            assert!(!csv.contains("beta"), "{table}: {csv}");
        }
        // The wizard prefilled with another organization's team refuses it when created.
        let link = "/settings/organization/data_export/exports/new?data_type=workflows&start=2026-03-02&end=2026-03-02&teams=beta-team-0";
        let wizard = b.page(link).await;
        assert!(
            !wizard.contains("beta Team 0"),
            "no name of the other organization's team"
        );
        // Signed out, the page sends the visitor to sign in.
        let anon = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = anon
            .get(format!("{}{PATH}", b.app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
);

both_backends!(
    analytics_csv_downloads_and_bad_input,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        seed(&b, "acme").await;
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        let html = b.page(&format!("{PATH}?{WEEK}")).await;
        for table in ["tiles", "daily", "users", "workbooks", "agents", "models"] {
            let link = unescape(&attr_after(&html, &format!("data-csv=\"{table}\""), "href"));
            let r = b.get(&link).await;
            assert_eq!(r.status(), 200, "{link}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/csv")
            );
            assert_eq!(
                r.headers()["content-disposition"].to_str().unwrap(),
                format!("attachment; filename=\"analytics-{table}-2026-03-02-2026-03-08.csv\"")
            );
            let body = r.text().await.unwrap();
            assert!(body.lines().count() > 1, "{table}: {body}");
        }
        // The daily CSV adds up to the API's total credits, day by day.
        let daily = b
            .get(&format!("{PATH}.csv?table=daily&{WEEK}"))
            .await
            .text()
            .await
            .unwrap();
        let mut reader = csv::Reader::from_reader(daily.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            ["date", "team_id", "team", "credits"]
        );
        let rows: Vec<(String, f64)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_string(), f(&r[3]))
            })
            .collect();
        let a = api(&b, &key, &format!("{API_WEEK}&bucket=1d&metrics=credits")).await;
        for bucket in a["buckets"].as_array().unwrap() {
            let day = &bucket["start"].as_str().unwrap()[..10];
            let sum: f64 = rows.iter().filter(|r| r.0 == day).map(|r| r.1).sum();
            assert!(
                close(sum, bucket["totals"]["credits"].as_f64().unwrap()),
                "{day}"
            );
        }
        let tiles = b
            .get(&format!("{PATH}.csv?table=tiles&{WEEK}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            tiles.starts_with("metric,value,previous\r\ncredits,"),
            "{tiles}"
        );
        assert!(tiles.contains("\r\nruns,4,0\r\n"), "{tiles}");

        // Bad input: the usage API's message, the values kept in the form.
        let r = b
            .get(&format!(
                "{PATH}?preset=&start=2026-03-02&end=2026-03-08&timezone=Mars/Olympus"
            ))
            .await;
        assert_eq!(r.status(), 400);
        let page = r.text().await.unwrap();
        assert!(page.contains("timezone"), "{page}");
        assert!(page.contains("value=\"2026-03-02\""), "kept as typed");
        let r = b.get(&format!("{PATH}.csv?table=pie&{WEEK}")).await;
        assert_eq!(r.status(), 400);
        let m = r.text().await.unwrap();
        assert!(
            m.contains("unknown table `pie`; allowed: tiles, daily"),
            "{m}"
        );
        // The first visit: this billing period in the organization's zone.
        let first = b.page(PATH).await;
        assert!(
            first.contains("<option value=\"this_billing_period\" selected"),
            "{first}"
        );
        assert!(first.contains("<option value=\"Europe/Berlin\" selected"));
    }
);

both_backends!(
    analytics_page_shows_budgets_as_progress_bars,
    |backend| async move {
        let b = Browser::signed_in_with(backend, same_config).await;
        let page = b.page("/settings/organization/analytics").await;
        assert!(page.contains("No credit budgets yet"), "{page}");
        // 30 credits spent an hour ago, against a monthly limit of 40.
        let at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let logs = json!([{"org_id": "acme", "log_id": "l-1", "timestamp": at,
            "category": "agent_run", "amount": -30.0, "user_id": "u1"}]);
        b.app.ingest_ok("credit_logs", &logs).await;
        let (_, key) = b.app.org_key("acme", "usage_export").await;
        let r = post_json(
            &b.app,
            "/v1/budgets",
            &key,
            json!({"name": "Monthly cap", "period": "month", "limit_credits": 40,
                "thresholds": [50, 100]}),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let page = b.page("/settings/organization/analytics").await;
        assert!(page.contains(&format!("data-budget=\"{id}\"")), "{page}");
        assert!(
            page.contains("max=\"40\" value=\"30\""),
            "a meter of the spend against the limit: {page}"
        );
        assert!(
            page.contains("Monthly cap: 30 of 40 credits (75 %)"),
            "{page}"
        );
        // Another organization's page does not show it.
        b.app.put_org("other").await;
        let theirs = outflow::budget::Budgets::list(&b.app.budgets, "other", chrono::Utc::now())
            .await
            .unwrap();
        assert!(theirs.is_empty());
    }
);
