//! The admin pages over HTTP, as a browser without JavaScript uses them: sign-in (audit,
//! cookie attributes, throttle), the data-export tabs, the export and drain wizards' form
//! posts, drain actions, CSRF refusals, sign-out, keys, privacy and tenancy. The cookie jar is
//! kept by hand (reqwest's `cookies` feature is off) and redirects are not followed, so every
//! `Set-Cookie` and `Location` is visible.

use crate::both_backends;
use crate::helpers::*;
use crate::http_receiver::{Receiver, Reply};
use outflow::domain::DataType;
use outflow::domain::catalog;
use serde_json::{Value, json};

const EMAIL: &str = "admin@acme.example";
const DE: &str = "/settings/organization/data_export";

fn private_ok(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 1;
    // Tests run export jobs themselves (`run_next`), so states are observed step by step.
    c.exports.workers = 0;
}

/// A browser: the app, a client that does not follow redirects, and the session cookie.
/// `pages_fixes.rs` drives the pages with it too.
pub(crate) struct Browser {
    pub(crate) app: TestApp,
    http: reqwest::Client,
    cookie: String,
    password: String,
}

/// The `(name, value)` of every hidden input of a page, in page order.
pub(crate) fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let marker = format!("{name}=\"");
        let at = tag.find(&marker)? + marker.len();
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    };
    html.split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            Some((attr(tag, "name")?, attr(tag, "value")?))
        })
        .collect()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("a page with a CSRF field") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

impl Browser {
    /// The app with organization `acme` and its admin, not yet signed in.
    async fn new(backend: Backend) -> Browser {
        Browser::new_with(backend, private_ok).await
    }

    /// As [`Browser::new`], with the app configured by `tweak` instead.
    async fn new_with(backend: Backend, tweak: fn(&mut outflow::config::Config)) -> Browser {
        let app = spawn_app_with(backend, tweak).await;
        app.put_org("acme").await;
        let password = outflow::web::auth::add_admin(&app.store, "acme", EMAIL)
            .await
            .unwrap();
        Browser {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
            password,
        }
    }

    async fn signed_in(backend: Backend) -> Browser {
        Browser::signed_in_with(backend, private_ok).await
    }

    /// A signed-in admin of `acme`, the app configured by `tweak`.
    pub(crate) async fn signed_in_with(
        backend: Backend,
        tweak: fn(&mut outflow::config::Config),
    ) -> Browser {
        let mut b = Browser::new_with(backend, tweak).await;
        let pw = b.password.clone();
        let r = b.sign_in(EMAIL, &pw).await;
        assert_eq!(r.status(), 303);
        b
    }

    /// Gets the sign-in form and posts it; keeps the session cookie when one is set.
    async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let form = self.get("/signin").await;
        assert_eq!(form.status(), 200);
        let pre = set_cookie(&form, "outflow_signin_csrf").expect("a sign-in CSRF cookie");
        let pre = pre.split(';').next().unwrap().to_string();
        let token = csrf_of(&form.text().await.unwrap());
        let r = self
            .http
            .post(format!("{}/signin", self.app.url))
            .header(reqwest::header::COOKIE, pre)
            .form(&[
                ("csrf", token.as_str()),
                ("email", email),
                ("password", password),
                ("next", DE),
            ])
            .send()
            .await
            .unwrap();
        if let Some(c) = set_cookie(&r, "outflow_session") {
            self.cookie = c.split(';').next().unwrap().to_string();
        }
        r
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.app.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    /// The CSRF token of the session (read from any page).
    async fn csrf(&self) -> String {
        csrf_of(&self.page(DE).await)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.app.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts with the session's CSRF token added.
    async fn submit(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(form);
        self.post(path, &all).await
    }

    /// As [`Browser::submit`]; the status and the body.
    pub(crate) async fn submit_text(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self.submit(path, form).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn audit_events(&self) -> Vec<String> {
        let table = catalog::spec(DataType::AuditLogs).table;
        self.app
            .store
            .query(
                &format!("SELECT event_type FROM {table} WHERE org_id = ?"),
                &["acme".into()],
                &[outflow::domain::FieldType::Text],
            )
            .await
            .unwrap()
            .into_iter()
            .map(|r| r[0].as_text().unwrap().to_string())
            .collect()
    }

    /// A drain to `receiver` created through the API, as an integration would.
    async fn api_drain(&self, org: &str, receiver: &Receiver) -> String {
        let (_, key) = self.app.org_key(org, "drains").await;
        let call = |path: &str, body: Value| {
            self.app
                .client
                .post(format!("{}{path}", self.app.url))
                .bearer_auth(&key)
                .json(&body)
                .send()
        };
        let s: Value = call(
            "/v1/secrets",
            json!({"name": "rx", "kind": "http", "url": format!("{}/hook", receiver.url)}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let r = call(
            "/v1/drains",
            json!({"name": "runs", "data_type": "workflows", "field_preset": "minimal",
                "destination": {"type": "http"}, "secret_id": s["id"]}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
        let d: Value = r.json().await.unwrap();
        d["id"].as_str().unwrap().to_string()
    }

    async fn drain_status(&self, id: &str) -> Option<String> {
        outflow::drain::repo::get(&self.app.store, "acme", id)
            .await
            .unwrap()
            .map(|d| d.status.as_str().to_string())
    }
}

both_backends!(
    sign_in_refuses_a_wrong_password_and_sets_a_strict_http_only_cookie,
    |backend| async move {
        let mut b = Browser::new(backend).await;
        let r = b.sign_in(EMAIL, "not-the-password").await;
        assert_eq!(r.status(), 401);
        assert!(set_cookie(&r, "outflow_session").is_none());
        assert!(r.text().await.unwrap().contains("not correct"));
        assert_eq!(b.audit_events().await, ["admin_sign_in_failed"]);

        let pw = b.password.clone();
        let r = b.sign_in("  Admin@ACME.example ", &pw).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), DE);
        let cookie = set_cookie(&r, "outflow_session").expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
        let events = b.audit_events().await;
        assert!(
            events.contains(&"admin_signed_in".to_string()),
            "{events:?}"
        );

        let page = b.page(DE).await;
        assert!(page.contains(EMAIL));
        assert!(!page.contains(&b.password), "the password never comes back");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session_and_sign_in_needs_its_token() {
    let b = Browser::new(Backend::Sqlite).await;
    let r = b.get(DE).await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/signin?next="),
        "{}",
        location(&r)
    );
    // A sign-in post without the form's token is refused before the password is checked.
    let r = b
        .post("/signin", &[("email", EMAIL), ("password", &b.password)])
        .await;
    assert_eq!(r.status(), 403);
    assert!(b.audit_events().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_refused_with_429() {
    let mut b = Browser::new(Backend::Sqlite).await;
    let now = chrono::Utc::now();
    for _ in 0..outflow::web::auth::MAX_FAILURES {
        b.app
            .store
            .execute(
                "INSERT INTO admin_sign_in_failures (email, source_ip, failed_at) VALUES (?, ?, ?)",
                &[EMAIL.into(), "127.0.0.1".into(), now.into()],
            )
            .await
            .unwrap();
    }
    let pw = b.password.clone();
    let r = b.sign_in(EMAIL, &pw).await;
    assert_eq!(r.status(), 429, "even the right password waits");
    assert!(r.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert!(b.cookie.is_empty());
}

both_backends!(data_export_page_shows_both_tabs, |backend| async move {
    let b = Browser::signed_in(backend).await;
    let exports = b.page(&format!("{DE}?tab=exports")).await;
    assert!(exports.contains("Exports") && exports.contains("Drains"));
    assert!(exports.contains("+ New Export"));
    assert!(exports.contains("aria-current=\"page\">Exports"));
    let drains = b.page(&format!("{DE}?tab=drains")).await;
    assert!(drains.contains("+ Add Drain"));
    assert!(drains.contains("aria-current=\"page\">Drains"));
    let r = b.get("/assets/outflow.css").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(".badge"));
});

both_backends!(the_export_wizard_creates_a_job, |backend| async move {
    let b = Browser::signed_in(backend).await;
    b.app
        .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
        .await;
    // Each step renders; the team step lists the organization's teams.
    let start = b.page(&format!("{DE}/exports/new")).await;
    assert!(start.contains("Workflow Runs"));
    let teams = b
        .submit(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "workflows"),
                ("preset", "last_30_days"),
                ("step", "teams"),
            ],
        )
        .await;
    assert_eq!(teams.status(), 200);
    let html = teams.text().await.unwrap();
    assert!(html.contains("Engineering") && html.contains("Select all teams"));

    // An end before the start is refused on the range step, with a visible message.
    let bad = b
        .submit(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "workflows"),
                ("preset", "custom"),
                ("start", "2026-03-10"),
                ("end", "2026-03-01"),
                ("timezone", "Europe/Berlin"),
                ("step", "teams"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("before start"), "{html}");
    assert!(html.contains("aria-current=\"step\""));

    let created = b
        .submit(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "workflows"),
                ("preset", "custom"),
                ("start", "2026-03-01"),
                ("end", "2026-03-31"),
                ("timezone", "Europe/Berlin"),
                ("teams", "team-eng"),
                ("personal", "on"),
                ("field_preset", "custom"),
                ("fields", "run_id"),
                ("fields", "credit_cost"),
                ("format", "csv"),
                ("step", "create"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303, "{}", created.text().await.unwrap());
    assert!(location(&created).contains("notice=export_created"));
    let (jobs, total) = outflow::export::jobs::list(&b.app.store, "acme", 1, 10)
        .await
        .unwrap();
    assert_eq!(total, 1);
    let job = &jobs[0];
    assert_eq!(job.requested_by, format!("admin:{EMAIL}"));
    assert_eq!(job.requester_email.as_deref(), Some(EMAIL));
    assert_eq!(job.spec.fields, ["run_id", "credit_cost"]);
    assert_eq!(job.spec.teams.ids, ["team-eng"]);
    assert!(job.spec.teams.personal);
    assert_eq!(job.spec.timezone, "Europe/Berlin");

    // The history lists it with its status, and the JSON the tab polls has it too.
    let tab = b.page(&format!("{DE}?tab=exports")).await;
    assert!(tab.contains(&job.id) && tab.contains("REQUESTED"));
    let live: Value = b
        .get(&format!("{DE}/exports.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["items"][0]["id"], job.id.as_str());
    assert_eq!(live["items"][0]["state"], "REQUESTED");

    b.app.exports.run_next().await.unwrap();
    let live: Value = b
        .get(&format!("{DE}/exports.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["items"][0]["state"], "COMPLETED");
    assert!(live["items"][0]["download_url"].is_string());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_wide_types_skip_the_team_step() {
    let b = Browser::signed_in(Backend::Sqlite).await;
    let r = b
        .submit(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "audit_logs"),
                ("preset", "last_7_days"),
                ("step", "fields"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(!html.contains(">Teams<"), "no team step for audit logs");
    assert!(html.contains("Custom fields"));
    // A team-scoped type must name some teams.
    let r = b
        .submit(
            &format!("{DE}/exports/new"),
            &[
                ("data_type", "workflows"),
                ("preset", "last_7_days"),
                ("step", "fields"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("at least one team"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_posts_without_the_csrf_token_are_refused() {
    let b = Browser::signed_in(Backend::Sqlite).await;
    let rx = Receiver::start().await;
    let drain = b.api_drain("acme", &rx).await;
    let posts = [
        format!("{DE}/exports/new"),
        format!("{DE}/drains/new"),
        format!("{DE}/drains/{drain}/pause"),
        format!("{DE}/drains/{drain}/delete"),
        "/settings/organization/api_keys".to_string(),
        "/settings/organization/privacy".to_string(),
        "/signout".to_string(),
    ];
    for path in &posts {
        let r = b
            .post(
                path,
                &[
                    ("step", "create"),
                    ("confirm", "yes"),
                    ("privacy", "hidden"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403, "{path} without a token");
        let r = b
            .post(path, &[("csrf", "forged"), ("confirm", "yes")])
            .await;
        assert_eq!(r.status(), 403, "{path} with a wrong token");
    }
    assert_eq!(b.drain_status(&drain).await.as_deref(), Some("active"));
    assert_eq!(
        outflow::export::jobs::list(&b.app.store, "acme", 1, 10)
            .await
            .unwrap()
            .1,
        0
    );
}

both_backends!(
    drains_pause_resume_and_delete_through_the_forms,
    |backend| async move {
        let b = Browser::signed_in(backend).await;
        let rx = Receiver::start().await;
        let id = b.api_drain("acme", &rx).await;
        let tab = b.page(&format!("{DE}?tab=drains")).await;
        assert!(tab.contains(&id) && tab.contains("Active"));

        let r = b.submit(&format!("{DE}/drains/{id}/pause"), &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(b.drain_status(&id).await.as_deref(), Some("paused"));
        let live: Value = b
            .get(&format!("{DE}/drains.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(live["items"][0]["label"], "Paused");

        let r = b
            .submit(&format!("{DE}/drains/{id}/resume"), &[("back", "detail")])
            .await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with(&format!("{DE}/drains/{id}")));
        assert_eq!(b.drain_status(&id).await.as_deref(), Some("active"));

        let detail = b.page(&format!("{DE}/drains/{id}")).await;
        assert!(detail.contains("Recent delivery attempts") && detail.contains("Replay"));
        let r = b.submit(&format!("{DE}/drains/{id}/test"), &[]).await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).ends_with("notice=test_ok"), "{}", location(&r));

        // Without confirmation the server asks first.
        let r = b.submit(&format!("{DE}/drains/{id}/delete"), &[]).await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("Delete drain?"));
        assert!(b.drain_status(&id).await.is_some());
        let r = b
            .submit(&format!("{DE}/drains/{id}/delete"), &[("confirm", "yes")])
            .await;
        assert_eq!(r.status(), 303);
        assert!(b.drain_status(&id).await.is_none());
        assert_eq!(b.get(&format!("{DE}/drains/{id}")).await.status(), 404);
        let events = b.audit_events().await;
        for e in ["drain_paused", "drain_resumed", "drain_deleted"] {
            assert!(events.contains(&e.to_string()), "{e}: {events:?}");
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_wizard_creates_a_drain_after_preflight_and_stores_nothing_when_it_fails() {
    let b = Browser::signed_in(Backend::Sqlite).await;
    let rx = Receiver::start().await;
    let url = format!("{}/hook", rx.url);
    let form = |url: &str| {
        vec![
            ("step", "create".to_string()),
            ("data_type", "workflows".to_string()),
            ("field_preset", "minimal".to_string()),
            ("name", "Runs to the receiver".to_string()),
            ("dest_type", "http".to_string()),
            ("http_format", "ndjson".to_string()),
            ("url", url.to_string()),
            ("authorization", "Bearer wizard-token".to_string()),
            ("signing_secret", "whsec_c2VjcmV0".to_string()),
        ]
    };

    // The receiver refuses the preflight probe: nothing is stored, the step says why.
    rx.reply_next(vec![Reply::status(403)]);
    let pairs = form(&url);
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.submit(&format!("{DE}/drains/new"), &refs).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("preflight check failed"), "{html}");
    assert!(
        !html.contains("wizard-token"),
        "credentials are not rendered back"
    );
    assert!(
        outflow::drain::repo::list(&b.app.store, "acme")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        outflow::drain::secrets::list(&b.app.store, "acme")
            .await
            .unwrap()
            .is_empty(),
        "the refused drain's secret is gone"
    );

    let r = b.submit(&format!("{DE}/drains/new"), &refs).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let drains = outflow::drain::repo::list(&b.app.store, "acme")
        .await
        .unwrap();
    assert_eq!(drains.len(), 1);
    assert!(location(&r).contains(&drains[0].id));
    assert_eq!(drains[0].name, "Runs to the receiver");
    let probe = rx.requests().pop().unwrap();
    assert_eq!(probe.header("authorization"), "Bearer wizard-token");
    let detail = b.page(&location(&r)).await;
    assert!(!detail.contains("wizard-token") && !detail.contains("whsec_"));
}

both_backends!(sign_out_ends_the_session, |backend| async move {
    let b = Browser::signed_in(backend).await;
    let r = b.submit("/signout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/signin");
    let cleared = set_cookie(&r, "outflow_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The old cookie no longer opens anything.
    let r = b.get(DE).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/signin"));
    assert!(
        b.audit_events()
            .await
            .contains(&"admin_signed_out".to_string())
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_drain_is_not_found() {
    let b = Browser::signed_in(Backend::Sqlite).await;
    b.app.put_org("other").await;
    let rx = Receiver::start().await;
    let theirs = b.api_drain("other", &rx).await;
    assert_eq!(b.get(&format!("{DE}/drains/{theirs}")).await.status(), 404);
    let r = b.submit(&format!("{DE}/drains/{theirs}/pause"), &[]).await;
    assert_eq!(r.status(), 404);
    let r = b
        .submit(
            &format!("{DE}/drains/{theirs}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), 404);
    let still = outflow::drain::repo::get(&b.app.store, "other", &theirs)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status.as_str(), "active");
    let tab = b.page(&format!("{DE}?tab=drains")).await;
    assert!(!tab.contains(&theirs));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_shown_once_and_privacy_is_saved() {
    let b = Browser::signed_in(Backend::Sqlite).await;
    let r = b
        .submit(
            "/settings/organization/api_keys",
            &[
                ("name", "warehouse"),
                ("scopes", "usage_export"),
                ("scopes", "drains"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let at = html.find("ofk_").expect("the secret, once");
    let secret: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), 68);
    let listed = b.page("/settings/organization/api_keys").await;
    assert!(listed.contains("warehouse") && !listed.contains(&secret));
    let key = b.app.store.list_org_keys("acme").await.unwrap().remove(0);
    assert_eq!(key.scopes.len(), 2);
    let r = b
        .submit(
            &format!("/settings/organization/api_keys/{}/revoke", key.id),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        b.app.store.list_org_keys("acme").await.unwrap()[0]
            .revoked_at
            .is_some()
    );

    b.app
        .put_entity("acme", "teams", "team-eng", json!({"name": "Engineering"}))
        .await;
    let r = b
        .submit(
            "/settings/organization/privacy",
            &[("privacy", "pseudonymized")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = b
        .submit(
            "/settings/organization/privacy/teams/team-eng",
            &[("privacy", "hidden")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let policy = outflow::privacy::PrivacyPolicy::load(&b.app.store, "acme")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(policy.org_setting().as_str(), "pseudonymized");
    assert_eq!(policy.for_team(Some("team-eng")).as_str(), "hidden");
    let r = b
        .submit(
            "/settings/organization/privacy/teams/nope",
            &[("privacy", "hidden")],
        )
        .await;
    assert_eq!(r.status(), 404);
    let events = b.audit_events().await;
    assert!(events.iter().filter(|e| *e == "privacy_changed").count() == 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_add_admin_prints_a_password_that_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_outflow"))
            .args(args)
            .env("OUTFLOW_DATA_DIR", dir.path())
            .env_remove("OUTFLOW_DATABASE_URL")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for org in ["acme", "other"] {
        let (ok, _, err) = run(&["orgs", "put", "--id", org, "--name", org]);
        assert!(ok, "{err}");
    }
    let (ok, out, err) = run(&[
        "orgs",
        "add-admin",
        "--org",
        "acme",
        "--email",
        "Ada@Acme.example",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("admin_email: ada@acme.example"), "{out}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("admin_password: "))
        .unwrap()
        .to_string();
    let db = std::fs::read(dir.path().join("outflow.db")).unwrap();
    assert!(
        !db.windows(password.len()).any(|w| w == password.as_bytes()),
        "only the hash is stored"
    );
    let (ok, _, err) = run(&[
        "orgs",
        "add-admin",
        "--org",
        "other",
        "--email",
        "ada@acme.example",
    ]);
    assert!(!ok && err.contains("already the admin"), "{err}");

    let store = outflow::store::Store::connect(
        &format!("sqlite://{}", dir.path().join("outflow.db").display()),
        2,
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let signed = outflow::web::auth::sign_in(&store, "ada@acme.example", &password, "ip", now)
        .await
        .unwrap();
    assert!(matches!(signed, outflow::web::auth::SignIn::Ok(_)));
    // What `outflow demo` does on every run: keep a working password, replace a stale one.
    let kept = outflow::web::auth::ensure_admin_password(
        &store,
        "acme",
        "ada@acme.example",
        Some(&password),
    )
    .await
    .unwrap();
    assert_eq!(kept, password);
    let fresh = outflow::web::auth::ensure_admin_password(
        &store,
        "acme",
        "ada@acme.example",
        Some("stale"),
    )
    .await
    .unwrap();
    assert_ne!(fresh, password);
}
