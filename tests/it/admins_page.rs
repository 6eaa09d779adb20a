//! The Admins page (issue 16): an owner invites by email — a one-time sign-in link delivered by
//! a real SMTP server (aiosmtpd) — changes roles, removes admins and ends sessions; the last
//! owner stays; another organization's admins and sessions answer 404; every change is an
//! audit record.

use crate::both_backends;
use crate::helpers::*;
use crate::mail::SmtpServer;
use crate::roles::session_for;
use outflow::domain::DataType;
use outflow::domain::catalog;
use outflow::domain::role::Role;
use outflow::store::admin as admin_store;

const ADMINS: &str = "/settings/organization/admins";

async fn audit_events(app: &TestApp, org: &str) -> Vec<String> {
    let table = catalog::spec(DataType::AuditLogs).table;
    app.store
        .query(
            &format!("SELECT event_type FROM {table} WHERE org_id = ?"),
            &[org.into()],
            &[outflow::domain::FieldType::Text],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_text().unwrap().to_string())
        .collect()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn admin_id(app: &TestApp, email: &str) -> String {
    admin_store::admin_by_email(&app.store, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

both_backends!(an_invitation_by_email_signs_in_once, |backend| async move {
    let Some(smtp) = SmtpServer::start(None) else {
        return;
    };
    let smtp_config = smtp.config();
    let app = spawn_app_with(backend, move |c| c.smtp = smtp_config).await;
    app.put_org("acme").await;
    let owner = session_for(&app, "acme", "owner@acme.example", Role::Owner).await;

    let r = owner
        .post(
            &format!("{ADMINS}/invite"),
            &[("email", "not-an-email"), ("role", "analyst")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("is not an email address"));
    let r = owner
        .post(
            &format!("{ADMINS}/invite"),
            &[("email", "ana@acme.example"), ("role", "superuser")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("owner, admin, analyst, viewer")
    );

    let r = owner
        .post(
            &format!("{ADMINS}/invite"),
            &[("email", "Ana@Acme.example"), ("role", "analyst")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{ADMINS}?notice=invited"));
    let mail = smtp.wait_for_messages(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"][0], "ana@acme.example");
    assert!(mail["subject"].as_str().unwrap().contains("Org acme"));
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("as Analyst"), "{body}");
    let link = body
        .lines()
        .find(|l| l.starts_with(&app.url) && l.contains("/invite/"))
        .unwrap_or_else(|| panic!("no link in {body}"))
        .trim()
        .to_string();
    // The page lists the pending invitation.
    let page = owner.get(ADMINS).await.text().await.unwrap();
    assert!(page.contains("data-invite=\"ana@acme.example\""), "{page}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Opening the link spends nothing; its form carries a double-submit token.
    let mut form_token = (String::new(), String::new());
    for _ in 0..2 {
        let r = http.get(&link).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("outflow_invite_csrf="))
            .expect("an invitation CSRF cookie");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Join Org acme") && html.contains("Analyst"),
            "{html}"
        );
        let csrf = crate::admin_pages::hidden_inputs(&html)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .unwrap()
            .1;
        form_token = (cookie.split(';').next().unwrap().to_string(), csrf);
    }
    let (invite_cookie, csrf) = form_token;
    let accept = |password: &'static str| {
        http.post(&link)
            .header(reqwest::header::COOKIE, &invite_cookie)
            .form(&[("csrf", csrf.as_str()), ("password", password)])
            .send()
    };
    // Another site's form, without the cookie, is refused and spends nothing.
    let r = http
        .post(&link)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "a long enough passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = accept("short").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("at least 12 characters"));
    let r = accept("a long enough passphrase").await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("outflow_session="))
        .expect("a session cookie");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let get = |path: &'static str| {
        http.get(format!("{}{path}", app.url))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
    };
    // Signed in, as an analyst.
    assert_eq!(
        get("/settings/organization/data_export")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get("/settings/organization/api_keys")
            .await
            .unwrap()
            .status(),
        403
    );
    let ana = admin_store::admin_by_email(&app.store, "ana@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ana.role, Role::Analyst);
    // The chosen password signs in; the link does not work twice.
    let signed = outflow::web::auth::sign_in(
        &app.store,
        "ana@acme.example",
        "a long enough passphrase",
        "ip",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(matches!(signed, outflow::web::auth::SignIn::Ok(_)));
    let again = accept("another long passphrase").await.unwrap();
    assert_eq!(again.status(), 404);
    assert!(again.text().await.unwrap().contains("does not work"));
    assert_eq!(http.get(&link).send().await.unwrap().status(), 404);

    let events = audit_events(&app, "acme").await;
    for e in ["admin_invited", "admin_invite_accepted"] {
        assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
    }
    // Inviting an existing admin of the organization is refused, naming them.
    let r = owner
        .post(
            &format!("{ADMINS}/invite"),
            &[("email", "ana@acme.example"), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("already an admin"));
});

both_backends!(
    a_withdrawn_invitation_link_does_not_work,
    |backend| async move {
        let app = spawn_app(backend).await; // no SMTP host: the mailer writes to the outbox
        app.put_org("acme").await;
        let owner = session_for(&app, "acme", "owner@acme.example", Role::Owner).await;
        let r = owner
            .post(
                &format!("{ADMINS}/invite"),
                &[("email", "vi@acme.example"), ("role", "viewer")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let invites = admin_store::list_invites(&app.store, "acme", chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(invites.len(), 1);
        assert_eq!(invites[0].role, Role::Viewer);
        let id = invites[0].id.clone();
        let other = {
            app.put_org("other").await;
            session_for(&app, "other", "owner@other.example", Role::Owner).await
        };
        let r = other
            .post(&format!("{ADMINS}/invites/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status(), 404, "another organization's invitation");
        let r = owner
            .post(&format!("{ADMINS}/invites/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status(), 303);
        assert!(
            admin_store::list_invites(&app.store, "acme", chrono::Utc::now())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            audit_events(&app, "acme")
                .await
                .contains(&"admin_invite_revoked".to_string())
        );
    }
);

both_backends!(
    owners_change_roles_remove_admins_and_end_sessions,
    |backend| async move {
        let app = spawn_app(backend).await;
        app.put_org("acme").await;
        app.put_org("other").await;
        let owner = session_for(&app, "acme", "owner@acme.example", Role::Owner).await;
        let bob = session_for(&app, "acme", "bob@acme.example", Role::Admin).await;
        let outsider = session_for(&app, "other", "eve@other.example", Role::Owner).await;
        let owner_id = admin_id(&app, "owner@acme.example").await;
        let bob_id = admin_id(&app, "bob@acme.example").await;

        let page = owner.get(ADMINS).await.text().await.unwrap();
        assert!(page.contains("data-admin=\"bob@acme.example\""));
        assert!(
            !page.contains("eve@other.example"),
            "only this organization"
        );
        assert!(page.contains("data-session=\"bob@acme.example\""));
        assert!(page.contains("role-walk"), "the session's browser is shown");

        // The last owner stays.
        for (path, form) in [
            (
                format!("{ADMINS}/{owner_id}/role"),
                vec![("role", "viewer")],
            ),
            (
                format!("{ADMINS}/{owner_id}/remove"),
                vec![("confirm", "yes")],
            ),
        ] {
            let r = owner.post(&path, &form).await;
            assert_eq!(r.status(), 400, "{path}");
            assert!(r.text().await.unwrap().contains("last owner"));
        }
        // Another organization's admin is not found.
        let r = outsider
            .post(&format!("{ADMINS}/{bob_id}/role"), &[("role", "viewer")])
            .await;
        assert_eq!(r.status(), 404);
        let r = outsider
            .post(&format!("{ADMINS}/{bob_id}/remove"), &[("confirm", "yes")])
            .await;
        assert_eq!(r.status(), 404);

        let r = owner
            .post(&format!("{ADMINS}/{bob_id}/role"), &[("role", "viewer")])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            bob.get("/settings/organization/privacy").await.status(),
            403
        );

        // Ending Bob's session signs him out; another organization cannot.
        let bob_session = admin_store::list_sessions(&app.store, "acme", chrono::Utc::now())
            .await
            .unwrap()
            .into_iter()
            .find(|(s, _)| s.email == "bob@acme.example")
            .unwrap()
            .0
            .token_hash;
        let revoke = format!("{ADMINS}/sessions/{bob_session}/revoke");
        assert_eq!(outsider.post(&revoke, &[]).await.status(), 404);
        assert_eq!(
            bob.get("/settings/organization/reports").await.status(),
            200
        );
        assert_eq!(owner.post(&revoke, &[]).await.status(), 303);
        let r = bob.get("/settings/organization/reports").await;
        assert_eq!(r.status(), 303, "signed out");
        assert!(location(&r).starts_with("/signin"));

        // Removing Bob removes his other sessions too.
        let bob2 = session_for(&app, "acme", "bob@acme.example", Role::Viewer).await;
        assert_eq!(
            bob2.get("/settings/organization/reports").await.status(),
            200
        );
        // Without the script's confirmation the server asks first, and removes nothing.
        let r = owner.post(&format!("{ADMINS}/{bob_id}/remove"), &[]).await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("Remove bob@acme.example?"));
        assert_eq!(
            bob2.get("/settings/organization/reports").await.status(),
            200
        );
        let r = owner
            .post(&format!("{ADMINS}/{bob_id}/remove"), &[("confirm", "yes")])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            bob2.get("/settings/organization/reports").await.status(),
            303
        );
        assert!(
            admin_store::admin_by_email(&app.store, "bob@acme.example")
                .await
                .unwrap()
                .is_none()
        );

        let events = audit_events(&app, "acme").await;
        for e in [
            "admin_role_changed",
            "admin_session_revoked",
            "admin_removed",
        ] {
            assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
        }
        assert!(
            !audit_events(&app, "other")
                .await
                .iter()
                .any(|e| e.starts_with("admin_")),
            "refused attempts change nothing"
        );
    }
);
