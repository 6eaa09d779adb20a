//! Single sign-on against a real OpenID provider: `tests/oidc/provider.mjs` runs npm's
//! `oidc-provider` (a certified implementation) as a node process on a free port with one
//! static client. The login is driven over HTTP through the provider's own login form, cookies
//! kept by hand. Cases: success (a just-in-time admin with the mapped role, a session, the
//! audit record), a wrong `state`, a replayed code, an expired ID token (the provider's clock
//! two hours behind), a disallowed email domain, and `require_sso` refusing the password form
//! except for the break-glass owner. SSO settings are stored on both backends.
//!
//! Needs `node` and `tests/oidc/node_modules` (`npm ci` there; `.ci/run` does it). Without
//! them the tests fail under `CI=true` and are skipped otherwise.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::role::Role;
use outflow::domain::{DataType, FieldType, catalog};
use outflow::sso::{Sso, SsoInput};
use outflow::store::admin as admin_store;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CLIENT_ID: &str = "outflow-test";
const CLIENT_SECRET: &str = "oidc-client-secret-do-not-show";

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// The provider process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider for the app at `app_url`, its clock `skew_seconds` behind.
    fn start(app_url: &str, skew_seconds: u64) -> Option<Provider> {
        if !oidc_dir().join("node_modules/oidc-provider").exists() {
            let message = "the SSO tests need tests/oidc/node_modules (cd tests/oidc && npm ci)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            eprintln!("SKIPPING SSO test: {message}");
            return None;
        }
        let accounts = json!({
            "ada": {"email": "ada@acme.example", "groups": ["staff", "outflow-admins"]},
            "vic": {"email": "vic@acme.example", "groups": ["staff"]},
            "eve": {"email": "eve@evil.example", "groups": ["outflow-admins"]},
        });
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(oidc_dir())
            .env("OIDC_REDIRECT_URI", format!("{app_url}/sso/callback"))
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .env("OIDC_SKEW_SECONDS", skew_seconds.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(port) = v["port"].as_u64()
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the provider prints its port");
        Some(Provider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        })
    }
}

/// Cookies of one site, by name (paths ignored: the test is the only client).
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() {
                    self.0.remove(k);
                } else {
                    self.0.insert(k.to_string(), val.to_string());
                }
            }
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response, base: &str) -> String {
    let l = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
    url::Url::parse(base).unwrap().join(l).unwrap().to_string()
}

/// A browser's sign-in: the app's start, then the provider's login form as `login`; returns
/// the callback URL the provider sends the browser to (not yet visited) and the app's cookies.
async fn through_provider(app: &TestApp, provider: &Provider, login: &str) -> (String, Jar) {
    let client = http();
    let mut app_jar = Jar::default();
    let r = client
        .get(format!("{}/sso/acme/start", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "start redirects to the provider");
    app_jar.keep(&r);
    let mut next = location(&r, &app.url);
    assert!(next.starts_with(&provider.issuer), "{next}");
    assert!(next.contains("code_challenge_method=S256"), "{next}");
    assert!(next.contains("nonce="), "{next}");
    let mut jar = Jar::default();
    let mut form = None;
    for _ in 0..20 {
        let r = match form.take() {
            Some(action) => client
                .post(&action)
                .header(reqwest::header::COOKIE, jar.header())
                .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                .send()
                .await
                .unwrap(),
            None => client
                .get(&next)
                .header(reqwest::header::COOKIE, jar.header())
                .send()
                .await
                .unwrap(),
        };
        jar.keep(&r);
        if r.status().is_redirection() {
            next = location(&r, &provider.issuer);
            if next.starts_with(&app.url) {
                return (next, app_jar);
            }
            continue;
        }
        let body = r.text().await.unwrap();
        assert!(body.contains("value=\"login\""), "a login form: {body}");
        let marker = "action=\"";
        let at = body.find(marker).unwrap() + marker.len();
        let action = &body[at..at + body[at..].find('"').unwrap()];
        form = Some(
            url::Url::parse(&provider.issuer)
                .unwrap()
                .join(action)
                .unwrap()
                .to_string(),
        );
    }
    panic!("the provider did not send the browser back");
}

async fn visit(url: &str, jar: &Jar) -> reqwest::Response {
    http()
        .get(url)
        .header(reqwest::header::COOKIE, jar.header())
        .send()
        .await
        .unwrap()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")) && !v.starts_with(&format!("{name}=;")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn with_query(url: &str, key: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == key {
                value.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

fn sso(app: &TestApp) -> Sso {
    Sso::new(app.store.clone(), app.drains.secrets.clone(), true)
}

async fn configure(app: &TestApp, provider: &Provider, require_sso: bool) {
    let input = SsoInput {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        allowed_domains: vec!["acme.example".into()],
        role_claim: Some("groups".into()),
        role_map: BTreeMap::from([("outflow-admins".to_string(), Role::Admin)]),
        default_role: Role::Viewer,
        require_sso,
        break_glass_email: Some("owner@acme.example".into()),
    };
    sso(app)
        .set("acme", input, &outflow::audit::Actor::cli())
        .await
        .unwrap();
}

/// Signs `login` in through the provider and returns their admin row as stored after it.
async fn sign_in_again(app: &TestApp, provider: &Provider, login: &str) -> admin_store::AdminUser {
    let (callback, jar) = through_provider(app, provider, login).await;
    assert_eq!(visit(&callback, &jar).await.status(), 200);
    admin_store::admin_by_email(&app.store, &format!("{login}@acme.example"))
        .await
        .unwrap()
        .unwrap()
}

async fn setup(backend: Backend, skew: u64) -> Option<(TestApp, Provider)> {
    let app = spawn_app_with(backend, |c| c.drains.allow_private_destinations = true).await;
    app.put_org("acme").await;
    let provider = Provider::start(&app.url, skew)?;
    configure(&app, &provider, false).await;
    Some((app, provider))
}

async fn audit_details(app: &TestApp, event: &str) -> Vec<Value> {
    let table = catalog::spec(DataType::AuditLogs).table;
    app.store
        .query(
            &format!("SELECT details FROM {table} WHERE org_id = 'acme' AND event_type = ?"),
            &[event.into()],
            &[FieldType::Json],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| match &r[0] {
            outflow::store::Value::Json(v) => v.clone(),
            outflow::store::Value::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect()
}

both_backends!(
    sign_in_creates_the_admin_with_the_mapped_role,
    |backend| async move {
        let Some((app, provider)) = setup(backend, 0).await else {
            return;
        };
        let stored = sso(&app).get("acme").await.unwrap().unwrap();
        assert_eq!(stored.issuer, provider.issuer);
        let sealed: Vec<_> = app
            .store
            .query(
                "SELECT client_secret_sealed FROM sso_configs WHERE org_id = 'acme'",
                &[],
                &[FieldType::Text],
            )
            .await
            .unwrap();
        assert!(!sealed[0][0].as_text().unwrap().contains(CLIENT_SECRET));

        let (callback, jar) = through_provider(&app, &provider, "ada").await;
        let r = visit(&callback, &jar).await;
        assert_eq!(r.status(), 200);
        let session = set_cookie(&r, "outflow_session").expect("a session cookie");
        let ada = admin_store::admin_by_email(&app.store, "ada@acme.example")
            .await
            .unwrap()
            .expect("the admin was created just in time");
        assert_eq!((ada.org_id.as_str(), ada.role), ("acme", Role::Admin));
        let page = http()
            .get(format!("{}/settings/organization/data_export", app.url))
            .header(reqwest::header::COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "the session signs in");
        let signed_in = audit_details(&app, "admin_signed_in").await;
        assert!(
            signed_in
                .iter()
                .any(|d| d["email"] == "ada@acme.example" && d["method"] == "sso"),
            "{signed_in:?}"
        );

        // No mapped group: the default role.
        let vic = sign_in_again(&app, &provider, "vic").await;
        assert_eq!(vic.role, Role::Viewer);

        // At the next sign-in the provider's claim decides the role again (audited) …
        let now = chrono::Utc::now();
        let none = outflow::store::RecordBatch::new(outflow::domain::DataType::AuditLogs);
        admin_store::set_role(&app.store, "acme", &ada.id, Role::Analyst, now, &none)
            .await
            .unwrap();
        let ada = sign_in_again(&app, &provider, "ada").await;
        assert_eq!(ada.role, Role::Admin, "the claim's role is restored");
        let changed = audit_details(&app, "admin_role_changed").await;
        assert!(
            changed.iter().any(|d| d["email"] == "ada@acme.example"
                && d["from"] == "analyst"
                && d["to"] == "admin"),
            "{changed:?}"
        );
        // … except for an owner, whom no mapping demotes.
        admin_store::set_role(&app.store, "acme", &vic.id, Role::Owner, now, &none)
            .await
            .unwrap();
        let vic = sign_in_again(&app, &provider, "vic").await;
        assert_eq!(vic.role, Role::Owner);
        // Nor does a mapping hand out ownership to an existing admin.
        let mut input = SsoInput {
            issuer: provider.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: None,
            allowed_domains: vec!["acme.example".into()],
            role_claim: Some("groups".into()),
            role_map: BTreeMap::from([("outflow-admins".to_string(), Role::Owner)]),
            default_role: Role::Viewer,
            ..SsoInput::default()
        };
        input.break_glass_email = Some("owner@acme.example".into());
        sso(&app)
            .set("acme", input, &outflow::audit::Actor::cli())
            .await
            .unwrap();
        let ada = sign_in_again(&app, &provider, "ada").await;
        assert_eq!(ada.role, Role::Admin);
    }
);

both_backends!(
    a_wrong_state_and_a_replayed_code_are_refused,
    |backend| async move {
        let Some((app, provider)) = setup(backend, 0).await else {
            return;
        };
        let (callback, jar) = through_provider(&app, &provider, "ada").await;
        let forged = with_query(&callback, "state", "forged-state");
        let r = visit(&forged, &jar).await;
        assert_eq!(r.status(), 403);
        assert!(set_cookie(&r, "outflow_session").is_none());
        assert!(r.text().await.unwrap().contains("state does not match"));
        // Without the browser's state cookie (another browser), the real state is refused too.
        let r = visit(&callback, &Jar::default()).await;
        assert_eq!(r.status(), 403);

        let r = visit(&callback, &jar).await;
        assert_eq!(r.status(), 200, "the genuine callback still works once");

        // The same callback again: its state was used.
        let r = visit(&callback, &jar).await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("unknown, used or expired"));
        // The used code under a fresh sign-in's state: the provider refuses it.
        let (fresh, fresh_jar) = through_provider(&app, &provider, "ada").await;
        let code = url::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        let replay = with_query(&fresh, "code", &code);
        let r = visit(&replay, &fresh_jar).await;
        assert_eq!(r.status(), 403);
        let body = r.text().await.unwrap();
        assert!(body.contains("refused the code"), "{body}");
        assert!(!body.contains(CLIENT_SECRET));
    }
);

both_backends!(an_expired_id_token_is_refused, |backend| async move {
    // The provider's clock runs two hours behind: its one-hour ID tokens arrive expired.
    let Some((app, provider)) = setup(backend, 7200).await else {
        return;
    };
    let (callback, jar) = through_provider(&app, &provider, "ada").await;
    let r = visit(&callback, &jar).await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(body.contains("ID token is not valid"), "{body}");
    assert!(
        admin_store::admin_by_email(&app.store, "ada@acme.example")
            .await
            .unwrap()
            .is_none()
    );
});

both_backends!(a_disallowed_email_domain_is_refused, |backend| async move {
    let Some((app, provider)) = setup(backend, 0).await else {
        return;
    };
    let (callback, jar) = through_provider(&app, &provider, "eve").await;
    let r = visit(&callback, &jar).await;
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "outflow_session").is_none());
    let body = r.text().await.unwrap();
    assert!(body.contains("not in a domain allowed"), "{body}");
    assert!(
        body.contains("acme.example"),
        "names the allowed domains: {body}"
    );
    assert!(
        admin_store::admin_by_email(&app.store, "eve@evil.example")
            .await
            .unwrap()
            .is_none()
    );
});

/// Posts the password form; the response.
async fn password_sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let client = http();
    let form = client
        .get(format!("{}/signin", app.url))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&form, "outflow_signin_csrf").unwrap();
    let html = form.text().await.unwrap();
    assert!(html.contains("Sign in with SSO"));
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let token = &html[at..at + html[at..].find('"').unwrap()];
    client
        .post(format!("{}/signin", app.url))
        .header(reqwest::header::COOKIE, pre)
        .form(&[("csrf", token), ("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

both_backends!(
    require_sso_refuses_passwords_except_break_glass,
    |backend| async move {
        let Some((app, provider)) = setup(backend, 0).await else {
            return;
        };
        let add = |email: &'static str, role| {
            let store = app.store.clone();
            async move {
                outflow::web::auth::add_admin_with_role(&store, "acme", email, Some(role))
                    .await
                    .unwrap()
            }
        };
        let ana = add("ana@acme.example", Role::Admin).await;
        let owner = add("owner@acme.example", Role::Owner).await;
        assert_eq!(
            password_sign_in(&app, "ana@acme.example", &ana)
                .await
                .status(),
            303
        );

        configure(&app, &provider, true).await;
        let r = password_sign_in(&app, "ana@acme.example", &ana).await;
        assert_eq!(r.status(), 403);
        assert!(set_cookie(&r, "outflow_session").is_none());
        assert!(r.text().await.unwrap().contains("requires single sign-on"));
        let failed = audit_details(&app, "admin_sign_in_failed").await;
        assert!(
            failed.iter().any(|d| d["reason"] == "sso_required"),
            "{failed:?}"
        );

        let r = password_sign_in(&app, "owner@acme.example", &owner).await;
        assert_eq!(r.status(), 303, "the break-glass owner still signs in");
        assert!(set_cookie(&r, "outflow_session").is_some());
        let glass = audit_details(&app, "admin_break_glass_sign_in").await;
        assert_eq!(glass.len(), 1, "{glass:?}");
        assert_eq!(glass[0]["email"], "owner@acme.example");

        // SSO itself still signs ana in.
        let (callback, jar) = through_provider(&app, &provider, "ada").await;
        assert_eq!(visit(&callback, &jar).await.status(), 200);
    }
);

both_backends!(
    settings_are_validated_and_the_secret_kept,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        // Private destinations not allowed here: http and loopback issuers are refused.
        let service = Sso::new(app.store.clone(), app.drains.secrets.clone(), false);
        let base = SsoInput {
            issuer: "http://login.acme.example".into(),
            client_id: "c".into(),
            client_secret: Some("s".into()),
            allowed_domains: vec!["acme.example".into()],
            default_role: Role::Viewer,
            ..SsoInput::default()
        };
        let actor = outflow::audit::Actor::cli();
        let e = service.set("acme", base.clone(), &actor).await.unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        let loopback = SsoInput {
            issuer: "https://127.0.0.1:9443".into(),
            ..base.clone()
        };
        let e = service.set("acme", loopback, &actor).await.unwrap_err();
        assert!(e.to_string().contains("private"), "{e}");
        let no_domain = SsoInput {
            issuer: "https://login.acme.example".into(),
            allowed_domains: vec![],
            ..base.clone()
        };
        let e = service.set("acme", no_domain, &actor).await.unwrap_err();
        assert!(e.to_string().contains("allowed email domain"), "{e}");
        let ok = SsoInput {
            issuer: "https://login.acme.example/".into(),
            ..base.clone()
        };
        let c = service.set("acme", ok.clone(), &actor).await.unwrap();
        assert_eq!(c.issuer, "https://login.acme.example");
        // Another organization cannot claim acme's domain (in any case), nor is it named.
        app.put_org("globex").await;
        let claim = SsoInput {
            issuer: "https://login.globex.example".into(),
            allowed_domains: vec!["globex.example".into(), "@ACME.example".into()],
            ..base.clone()
        };
        let e = service.set("globex", claim, &actor).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("`acme.example` is already claimed by another organization"),
            "{e}"
        );
        assert!(!e.to_string().contains("acme`"), "{e}");
        assert!(service.get("globex").await.unwrap().is_none());
        // Its own domains are fine, and acme may set its own again.
        let own = SsoInput {
            issuer: "https://login.globex.example".into(),
            allowed_domains: vec!["globex.example".into()],
            ..base.clone()
        };
        service.set("globex", own, &actor).await.unwrap();
        service.set("acme", ok.clone(), &actor).await.unwrap();
        // Without a secret the stored one is kept; off removes the settings.
        let keep = SsoInput {
            client_secret: None,
            require_sso: true,
            ..ok
        };
        assert!(service.set("acme", keep, &actor).await.unwrap().require_sso);
        assert!(service.off("acme", &actor).await.unwrap());
        assert!(service.get("acme").await.unwrap().is_none());
    }
);

both_backends!(
    owners_configure_sso_on_the_settings_page,
    |backend| async move {
        let app = spawn_app_with(backend, |c| c.drains.allow_private_destinations = true).await;
        app.put_org("acme").await;
        let owner =
            crate::roles::session_for(&app, "acme", "owner@acme.example", Role::Owner).await;
        const PAGE: &str = "/settings/organization/admins/sso";
        let admins = owner
            .get("/settings/organization/admins")
            .await
            .text()
            .await
            .unwrap();
        assert!(admins.contains(PAGE), "the Admins page links the settings");
        let form = [
            ("issuer", "https://login.acme.example"),
            ("client_id", "outflow"),
            ("client_secret", CLIENT_SECRET),
            ("allowed_domains", "acme.example, Acme.co.uk"),
            ("role_claim", "groups"),
            ("role_map", "outflow-admins=admin\noutflow-owners=owner"),
            ("default_role", "analyst"),
            ("require_sso", "on"),
            ("break_glass_email", "owner@acme.example"),
        ];
        let mut bad = form;
        bad[5] = ("role_map", "outflow-admins=god");
        let r = owner.post(PAGE, &bad).await;
        assert_eq!(r.status(), 400);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("owner, admin, analyst, viewer")
        );
        assert!(sso(&app).get("acme").await.unwrap().is_none());

        let r = owner.post(PAGE, &form).await;
        assert_eq!(r.status(), 303);
        let c = sso(&app).get("acme").await.unwrap().unwrap();
        assert_eq!(c.allowed_domains, vec!["acme.example", "acme.co.uk"]);
        assert_eq!(c.role_map.get("outflow-owners"), Some(&Role::Owner));
        assert_eq!(c.default_role, Role::Analyst);
        assert!(c.require_sso);
        let page = owner.get(PAGE).await.text().await.unwrap();
        assert!(page.contains("https://login.acme.example"));
        assert!(!page.contains(CLIENT_SECRET), "the secret is never shown");

        // A blank secret keeps the stored one; turning off removes the settings.
        let mut keep = form;
        keep[2] = ("client_secret", "");
        assert_eq!(owner.post(PAGE, &keep).await.status(), 303);
        let r = owner.post(&format!("{PAGE}/off"), &[]).await;
        assert_eq!(r.status(), 303);
        assert!(sso(&app).get("acme").await.unwrap().is_none());
        let analyst =
            crate::roles::session_for(&app, "acme", "ana@acme.example", Role::Analyst).await;
        assert_eq!(analyst.get(PAGE).await.status(), 403);
    }
);

both_backends!(
    the_chooser_finds_the_organization_by_email_domain,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        let input = SsoInput {
            issuer: "https://login.acme.example".into(),
            client_id: "c".into(),
            client_secret: Some("s".into()),
            allowed_domains: vec!["acme.example".into()],
            ..SsoInput::default()
        };
        let service = Sso::new(app.store.clone(), app.drains.secrets.clone(), false);
        service
            .set("acme", input, &outflow::audit::Actor::cli())
            .await
            .unwrap();
        let r = http()
            .get(format!("{}/sso?email=Ada@ACME.example", app.url))
            .send()
            .await
            .unwrap();
        // A page that refreshes to the start, not a redirect: the browser checks a form's
        // redirects against `form-action 'self'`, and the start leads to the provider.
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["refresh"], "0; url=/sso/acme/start");
        assert!(r.text().await.unwrap().contains("href=\"/sso/acme/start\""));
        let r = http()
            .get(format!("{}/sso?email=eve@evil.example", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("No organization signs in"));
        let r = http()
            .get(format!("{}/sso/nobody/start", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
);

/// SSO sign-in in headless Chromium (`tests/browser/sso.spec.mjs`): "Sign in with SSO" on the
/// sign-in page, the work email, the provider's own login page, and back in the app signed
/// in — then the app's side: the just-in-time admin with the mapped role and the audit
/// record of an SSO sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_sign_in_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium() else {
        return;
    };
    let Some((app, provider)) = setup(Backend::Sqlite, 0).await else {
        return;
    };
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("sso.spec.mjs")
        .current_dir(crate::browser::browser_dir())
        .env("OUTFLOW_URL", &app.url)
        .env("OUTFLOW_ISSUER", &provider.issuer)
        .env("OUTFLOW_SSO_EMAIL", "ada@acme.example")
        .env("OUTFLOW_SSO_LOGIN", "ada")
        .env("OUTFLOW_CHROMIUM", &chromium)
        .env("OUTFLOW_ARTIFACTS", &artifacts)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the browser script finishes within 2 minutes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("PASSED"),
        "the SSO browser scenario failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let ada = admin_store::admin_by_email(&app.store, "ada@acme.example")
        .await
        .unwrap()
        .expect("the admin was created just in time");
    assert_eq!((ada.org_id.as_str(), ada.role), ("acme", Role::Admin));
    let signed_in = audit_details(&app, "admin_signed_in").await;
    assert!(
        signed_in
            .iter()
            .any(|d| d["email"] == "ada@acme.example" && d["method"] == "sso"),
        "{signed_in:?}"
    );
}
