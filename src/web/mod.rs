//! The admin pages: server-rendered HTML (maud) for organization admins — sign-in, the data
//! export settings page with its Exports and Drains tabs, the export and drain wizards, a
//! drain's detail, API keys and privacy. No front-end framework and no build step: one
//! stylesheet and one small progressive-enhancement script, served from `/assets/`.
//!
//! # Layout
//!
//! ```text
//! mod.rs           the routes
//! auth.rs          argon2id passwords, creating admins, the sign-in check and its throttle
//! session.rs       session cookie, the Admin extractor, CSRF (the Checked form extractor)
//! error.rs         WebError → an HTML error page
//! layout.rs        page shell, badges, times, icons, security headers; assets/ (CSS, JS)
//! signin.rs        /signin, /signout
//! data_export.rs   /settings/organization/data_export (tabs) and its live-status JSON
//! export_wizard.rs the New Export wizard (also prefilled from a job: Clone)
//! export_detail.rs an export's detail page, cancel
//! drain_edit.rs    a drain's Edit page (settings and credentials, preflighted)
//! drain_wizard.rs  the Add Drain wizard
//! drains.rs        drain detail, pause / resume / delete / test / replay
//! pickers.rs       data-type, team and field pickers the wizards share
//! keys.rs          /settings/organization/api_keys
//! privacy.rs       /settings/organization/privacy
//! reports.rs       /settings/organization/reports: usage reports as a table and CSV
//! audit_log.rs     /settings/organization/audit_log: search the audit log, export it as CSV
//! analytics.rs     /settings/organization/analytics: tiles, credits per day by team (svg.rs),
//!                  top tables, CSVs; answered by the usage service
//! notifications.rs /settings/organization/notifications: the HTTP destination of failure
//!                  events (secret, body format, event types) and the latest events
//! admins.rs        /settings/organization/admins: invite, change role, remove; sessions
//! schedules.rs     the Schedules tab, a schedule's runs, pause / resume / run now / delete
//! invite.rs        /invite/{token}: an invited admin chooses a password and joins
//! sso.rs           /sso (chooser), /sso/{org}/start, /sso/callback: OpenID Connect sign-in
//! sso_settings.rs  /settings/organization/admins/sso: an owner configures single sign-on
//! ```
//!
//! **Roles.** Every route is registered below with its [`session::Access`]: public, or the
//! [`Capability`] a role needs ([`Role::may`](crate::domain::role::Role::may) decides).
//! [`rules`] lists the routes with their access, read from the same registration, so the
//! navigation and the role-walk test see exactly what the router serves.
//!
//! Every handler reaches data only through the signed-in admin's organization, so another
//! organization's ids answer 404; every state-changing form goes through [`session::Checked`],
//! which answers 403 unless the session's CSRF token came with it.

pub mod admins;
pub mod analytics;
pub mod audit_log;
pub mod auth;
pub mod data_export;
pub mod drain_edit;
pub mod drain_wizard;
pub mod drains;
pub mod error;
pub mod export_detail;
pub mod export_wizard;
pub mod invite;
pub mod keys;
pub mod layout;
pub mod notifications;
pub mod pickers;
pub mod privacy;
pub mod reports;
pub mod schedules;
pub mod session;
pub mod signin;
pub mod sso;
pub mod sso_settings;

use crate::domain::role::Capability::{self, *};
use crate::state::AppState;
use axum::handler::Handler;
use axum::response::Redirect;
use axum::routing::MethodRouter;
use axum::{Extension, Router};
use session::Access::{self, Public};
use std::sync::OnceLock;

/// One route of the admin pages and who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path as registered (`{id}` for a path parameter).
    pub path: String,
    /// Who may use it.
    pub access: Access,
}

/// The router being built and the rules of what it holds so far.
#[derive(Default)]
struct Table {
    router: Router<AppState>,
    rules: Vec<Rule>,
}

impl Table {
    fn add(
        mut self,
        method: &'static str,
        path: &str,
        access: Access,
        mr: MethodRouter<AppState>,
    ) -> Self {
        self.rules.push(Rule {
            method,
            path: path.to_string(),
            access,
        });
        self.router = self.router.route(path, mr.route_layer(Extension(access)));
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, access: Access, h: H) -> Self {
        self.add("GET", path, access, axum::routing::get(h))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, access: Access, h: H) -> Self {
        self.add("POST", path, access, axum::routing::post(h))
    }
}

fn signed(cap: Capability) -> Access {
    Access::Signed(cap)
}

/// The admin pages' routes.
pub fn routes() -> Router<AppState> {
    table().router
}

/// Every route of the admin pages with its access, in registration order.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| table().rules)
}

/// Whether the admin pages serve `GET path` (the navigation links only to pages that exist).
pub fn serves(path: &str) -> bool {
    rules().iter().any(|r| r.method == "GET" && r.path == path)
}

fn table() -> Table {
    let de = data_export::PATH;
    let drain = |action: &str| format!("{de}/drains/{{id}}/{action}");
    let (view, export) = (signed(View), signed(Export));
    let schedule = |action: &str| format!("{de}/schedules/{{id}}{action}");
    let (change_drains, owners) = (signed(ManageDrains), signed(ManageAdmins));
    let change_schedules = signed(ManageSchedules);
    Table::default()
        .get("/", Public, || async { Redirect::to(data_export::PATH) })
        .get("/assets/outflow.css", Public, layout::css)
        .get("/assets/outflow.js", Public, layout::js)
        .get("/assets/favicon.svg", Public, layout::favicon)
        .get("/signin", Public, signin::show)
        .post("/signin", Public, signin::submit)
        .post("/signout", view, signin::sign_out)
        .get(invite::PATH, Public, invite::show)
        .post(invite::PATH, Public, invite::accept)
        .get("/sso", Public, sso::choose)
        .get("/sso/{org}/start", Public, sso::start)
        .get(sso::CALLBACK, Public, sso::callback)
        .get(sso_settings::PATH, owners, sso_settings::show)
        .post(sso_settings::PATH, owners, sso_settings::save)
        .post(
            &format!("{}/off", sso_settings::PATH),
            owners,
            sso_settings::off,
        )
        .get(de, view, data_export::show)
        .get(
            &format!("{de}/exports.json"),
            view,
            data_export::exports_json,
        )
        .get(&format!("{de}/drains.json"), view, data_export::drains_json)
        .get(export_wizard::NEW, export, export_wizard::start)
        .post(export_wizard::NEW, export, export_wizard::step)
        .get(drain_wizard::NEW, change_drains, drain_wizard::start)
        .post(drain_wizard::NEW, change_drains, drain_wizard::step)
        .get(&format!("{de}/exports/{{id}}"), view, export_detail::show)
        .post(
            &format!("{de}/exports/{{id}}/cancel"),
            export,
            export_detail::cancel,
        )
        .get(&format!("{de}/drains/{{id}}"), view, drains::show)
        .get(&drain("edit"), change_drains, drain_edit::show)
        .post(&drain("edit"), change_drains, drain_edit::save)
        .post(&drain("pause"), change_drains, drains::pause)
        .post(&drain("resume"), change_drains, drains::resume)
        .post(&drain("delete"), change_drains, drains::delete)
        .post(&drain("test"), change_drains, drains::test)
        .post(&drain("replay"), change_drains, drains::replay)
        .get(&schedule(""), view, schedules::show)
        .post(&schedule("/pause"), change_schedules, schedules::pause)
        .post(&schedule("/resume"), change_schedules, schedules::resume)
        .post(&schedule("/run"), change_schedules, schedules::run)
        .post(&schedule("/delete"), change_schedules, schedules::delete)
        .get(keys::PATH, signed(ManageKeys), keys::show)
        .post(keys::PATH, signed(ManageKeys), keys::create)
        .post(
            &format!("{}/{{id}}/revoke", keys::PATH),
            signed(ManageKeys),
            keys::revoke,
        )
        .get(privacy::PATH, signed(ManagePrivacy), privacy::show)
        .post(privacy::PATH, signed(ManagePrivacy), privacy::save_org)
        .post(
            &format!("{}/teams/{{id}}", privacy::PATH),
            signed(ManagePrivacy),
            privacy::save_team,
        )
        .get(
            notifications::PATH,
            signed(ManageNotifications),
            notifications::show,
        )
        .post(
            notifications::PATH,
            signed(ManageNotifications),
            notifications::save,
        )
        .post(
            &format!("{}/off", notifications::PATH),
            signed(ManageNotifications),
            notifications::off,
        )
        .get(reports::PATH, view, reports::show)
        .get(reports::CSV_PATH, view, reports::csv)
        .get(audit_log::PATH, view, audit_log::show)
        .get(analytics::PATH, view, analytics::show)
        .get(analytics::CSV_PATH, view, analytics::csv)
        .post(audit_log::EXPORT_PATH, export, audit_log::export)
        .get(admins::PATH, owners, admins::show)
        .post(&format!("{}/invite", admins::PATH), owners, admins::invite)
        .post(
            &format!("{}/invites/{{id}}/revoke", admins::PATH),
            owners,
            admins::revoke_invite,
        )
        .post(
            &format!("{}/{{id}}/role", admins::PATH),
            owners,
            admins::change_role,
        )
        .post(
            &format!("{}/{{id}}/remove", admins::PATH),
            owners,
            admins::remove,
        )
        .post(
            &format!("{}/sessions/{{id}}/revoke", admins::PATH),
            owners,
            admins::revoke_session,
        )
}
