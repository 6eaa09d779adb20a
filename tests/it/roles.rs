//! Admin roles (issue 16): every route of the admin pages — read from the router's own
//! registration (`outflow::web::rules()`), not a hand list — walked with every role, each
//! refused route answering 403 with a page naming the role; the navigation showing only what a
//! role may open; `outflow orgs add-admin --role`.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::role::{Capability, Role};
use outflow::web::session::Access;

/// A signed-in admin of an organization with a role, its session made straight in the store
/// (the role walk makes a fresh one per request: some routes end sessions).
pub(crate) struct RoleClient {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// Creates (once) the admin `email` of `org` with `role` and starts a session for it.
pub(crate) async fn session_for(app: &TestApp, org: &str, email: &str, role: Role) -> RoleClient {
    use outflow::store::admin as store;
    let admin = match store::admin_by_email(&app.store, email).await.unwrap() {
        Some(a) => a,
        None => {
            outflow::web::auth::add_admin_with_role(&app.store, org, email, Some(role))
                .await
                .unwrap();
            store::admin_by_email(&app.store, email)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(admin.role, role);
    let token = outflow::web::session::new_token();
    let csrf = outflow::web::session::new_token();
    let now = chrono::Utc::now();
    let row = store::SessionRow {
        token_hash: outflow::auth::keys::hash_secret(&token),
        org_id: org.to_string(),
        user_id: admin.id.clone(),
        email: admin.email.clone(),
        csrf_token: csrf.clone(),
        expires_at: now + chrono::Duration::hours(1),
        role,
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("role-walk".into()),
    };
    store::insert_session(&app.store, &row, now).await.unwrap();
    RoleClient {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        url: app.url.clone(),
        cookie: format!("outflow_session={token}"),
        csrf,
    }
}

impl RoleClient {
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// Posts `form` with the session's CSRF token.
    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(form);
        self.http
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

fn email_of(role: Role) -> String {
    format!("{}@acme.example", role.as_str())
}

both_backends!(
    every_route_is_allowed_or_refused_by_role,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        let rules = outflow::web::rules();
        // The walk reads the router: the pages of every area are in it.
        for page in [
            "/settings/organization/data_export",
            "/settings/organization/api_keys",
            "/settings/organization/privacy",
            "/settings/organization/reports",
            "/settings/organization/admins",
        ] {
            assert!(outflow::web::serves(page), "{page} is not registered");
        }
        let mut refused = 0;
        for rule in rules {
            let path = rule.path.replace("{id}", "nope").replace("{token}", "nope");
            for role in Role::ALL {
                let who = session_for(&app, "acme", &email_of(role), role).await;
                let r = match rule.method {
                    "GET" => who.get(&path).await,
                    "POST" => who.post(&path, &[]).await,
                    m => panic!("unexpected method {m}"),
                };
                let status = r.status().as_u16();
                let body = r.text().await.unwrap();
                let what = format!("{} {} as {role}", rule.method, rule.path);
                match rule.access {
                    // Public routes do not look at the role (sign-in checks its own token).
                    Access::Public => assert!(status < 500, "{what} answered {status}: {body}"),
                    Access::Signed(cap) if role.may(cap) => {
                        assert!(
                            status != 403 && status < 500,
                            "{what} answered {status}: {body}"
                        );
                    }
                    Access::Signed(cap) => {
                        refused += 1;
                        assert_eq!(status, 403, "{what} must be refused");
                        assert!(
                            body.contains(&format!("Your role, {}, may not", role.label()))
                                && body.contains(cap.describe()),
                            "{what}: the page must say why: {body}"
                        );
                    }
                }
            }
        }
        // Owners may do everything; every other role is refused something.
        assert!(refused > 20, "only {refused} refusals");
        let owner_only = rules
            .iter()
            .filter(|r| r.access == Access::Signed(Capability::ManageAdmins))
            .count();
        assert!(
            owner_only >= 5,
            "the Admins page and its forms are owners' only"
        );
    }
);

both_backends!(
    navigation_shows_what_the_role_may_open,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        for role in Role::ALL {
            let who = session_for(&app, "acme", &email_of(role), role).await;
            let r = who.get("/settings/organization/reports").await;
            assert_eq!(r.status(), 200, "{role}");
            let html = r.text().await.unwrap();
            let nav = &html[html.find("mainnav").unwrap()..html.find("</nav>").unwrap()];
            let shows = |path: &str| nav.contains(&format!("href=\"{path}\""));
            assert!(shows("/settings/organization/data_export"), "{role}: {nav}");
            assert!(shows("/settings/organization/reports"), "{role}: {nav}");
            let manages = matches!(role, Role::Owner | Role::Admin);
            assert_eq!(shows("/settings/organization/api_keys"), manages, "{role}");
            assert_eq!(shows("/settings/organization/privacy"), manages, "{role}");
            assert_eq!(
                shows("/settings/organization/admins"),
                role == Role::Owner,
                "{role}"
            );
            // Areas whose pages are not served are not linked.
            for (_, path, _) in outflow::web::layout::NAV_ITEMS {
                if !outflow::web::serves(path) {
                    assert!(!shows(path), "{path} is linked but not served");
                }
            }
            assert!(html.contains(role.label()), "the header names the role");
            // Inside the pages too, what the role may not use is not offered.
            let de = who
                .get("/settings/organization/data_export?tab=drains")
                .await
                .text()
                .await
                .unwrap();
            assert_eq!(
                de.contains("href=\"/settings/organization/data_export/drains/new\""),
                manages,
                "{role}: + Add Drain"
            );
            let ex = who
                .get("/settings/organization/data_export")
                .await
                .text()
                .await
                .unwrap();
            assert_eq!(
                ex.contains("href=\"/settings/organization/data_export/exports/new\""),
                role != Role::Viewer,
                "{role}: + New Export"
            );
        }
    }
);

both_backends!(
    a_role_change_applies_at_the_next_request,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        let owner = session_for(&app, "acme", "owner@acme.example", Role::Owner).await;
        let ana = session_for(&app, "acme", "ana@acme.example", Role::Analyst).await;
        assert_eq!(
            ana.get("/settings/organization/api_keys").await.status(),
            403
        );
        let id = outflow::store::admin::admin_by_email(&app.store, "ana@acme.example")
            .await
            .unwrap()
            .unwrap()
            .id;
        let r = owner
            .post(
                &format!("/settings/organization/admins/{id}/role"),
                &[("role", "admin")],
            )
            .await;
        assert_eq!(r.status(), 303);
        // The same session, not a new sign-in.
        assert_eq!(
            ana.get("/settings/organization/api_keys").await.status(),
            200
        );
        let r = owner
            .post(
                &format!("/settings/organization/admins/{id}/role"),
                &[("role", "root")],
            )
            .await;
        assert_eq!(r.status(), 400);
        let body = r.text().await.unwrap();
        assert!(body.contains("owner, admin, analyst, viewer"), "{body}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_add_admin_takes_a_role() {
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
    let (ok, _, err) = run(&["orgs", "put", "--id", "acme", "--name", "Acme"]);
    assert!(ok, "{err}");
    let add = |email: &'static str, role: Option<&'static str>| {
        let mut args = vec!["orgs", "add-admin", "--org", "acme", "--email", email];
        if let Some(r) = role {
            args.extend(["--role", r]);
        }
        run(&args)
    };
    let (ok, out, err) = add("ada@acme.example", None);
    assert!(ok && out.contains("admin_role: admin"), "{out}{err}");
    assert!(out.contains("admin_password: "), "{out}");
    let (ok, out, err) = add("vi@acme.example", Some("Viewer"));
    assert!(ok && out.contains("admin_role: viewer"), "{out}{err}");
    // An existing admin keeps the role unless one is given.
    let (ok, out, _) = add("vi@acme.example", None);
    assert!(ok && out.contains("admin_role: viewer"), "{out}");
    let (ok, out, _) = add("vi@acme.example", Some("owner"));
    assert!(ok && out.contains("admin_role: owner"), "{out}");
    let (ok, _, err) = add("x@acme.example", Some("root"));
    assert!(!ok, "an unknown role is refused");
    assert!(
        err.contains("`root` is not a role") && err.contains("owner, admin, analyst, viewer"),
        "{err}"
    );
}

both_backends!(
    admins_from_before_roles_become_owners,
    |backend| async move {
        // A database as it was before migration 0010, with an admin in it.
        let db = TestDb::new(backend).await;
        let store = outflow::store::Store::connect(&db.url, 2).await.unwrap();
        let dir = match backend {
            Backend::Sqlite => "migrations/sqlite",
            Backend::Postgres => "migrations/postgres",
        };
        let mut before = sqlx::migrate::Migrator::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
        )
        .await
        .unwrap();
        let earlier: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 10)
            .cloned()
            .collect();
        before.migrations = earlier.into();
        match backend {
            Backend::Sqlite => before
                .run(&sqlx::SqlitePool::connect(&db.url).await.unwrap())
                .await
                .unwrap(),
            Backend::Postgres => before
                .run(&sqlx::PgPool::connect(&db.url).await.unwrap())
                .await
                .unwrap(),
        }
        acme_org(&store).await;
        let now = chrono::Utc::now();
        store
        .execute(
            "INSERT INTO admin_users (id, org_id, email, password_hash, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &[
                "adm_old".into(),
                "acme".into(),
                "old@acme.example".into(),
                "x".into(),
                now.into(),
                now.into(),
            ],
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let old = outflow::store::admin::admin_by_email(&store, "old@acme.example")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            old.role,
            Role::Owner,
            "an admin from before roles keeps everything"
        );
        outflow::web::auth::add_admin(&store, "acme", "new@acme.example")
            .await
            .unwrap();
        let new = outflow::store::admin::admin_by_email(&store, "new@acme.example")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(new.role, Role::Admin, "new admins are `admin` by default");
        store.close().await;
    }
);
