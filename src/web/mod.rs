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
//! drain_wizard.rs  the Add Drain wizard (backfill start, gzip, new or stored credentials)
//! drain_edit.rs    a drain's Edit page (settings and credentials, preflighted)
//! drains.rs        drain detail, pause / resume / delete / test / replay
//! pickers.rs       data-type, team and field pickers the wizards share
//! keys.rs          /settings/organization/api_keys
//! privacy.rs       /settings/organization/privacy
//! reports.rs       /settings/organization/reports: usage reports as a table and CSV
//! schedules.rs     the Schedules tab, a schedule's runs, pause / resume / run now / delete
//! ```
//!
//! Every handler reaches data only through the signed-in admin's organization, so another
//! organization's ids answer 404; every state-changing form goes through [`session::Checked`],
//! which answers 403 unless the session's CSRF token came with it.

pub mod auth;
pub mod data_export;
pub mod drain_edit;
pub mod drain_wizard;
pub mod drains;
pub mod error;
pub mod export_detail;
pub mod export_wizard;
pub mod keys;
pub mod layout;
pub mod pickers;
pub mod privacy;
pub mod reports;
pub mod schedules;
pub mod session;
pub mod signin;

use crate::state::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

/// The admin pages' routes.
pub fn routes() -> Router<AppState> {
    let de = data_export::PATH;
    Router::new()
        .route("/", get(|| async { Redirect::to(data_export::PATH) }))
        .route("/assets/outflow.css", get(layout::css))
        .route("/assets/outflow.js", get(layout::js))
        .route("/assets/favicon.svg", get(layout::favicon))
        .route("/signin", get(signin::show).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route(de, get(data_export::show))
        .route(
            &format!("{de}/exports.json"),
            get(data_export::exports_json),
        )
        .route(&format!("{de}/drains.json"), get(data_export::drains_json))
        .route(
            export_wizard::NEW,
            get(export_wizard::start).post(export_wizard::step),
        )
        .route(
            drain_wizard::NEW,
            get(drain_wizard::start).post(drain_wizard::step),
        )
        .route(&format!("{de}/exports/{{id}}"), get(export_detail::show))
        .route(
            &format!("{de}/exports/{{id}}/cancel"),
            post(export_detail::cancel),
        )
        .route(&format!("{de}/drains/{{id}}"), get(drains::show))
        .route(
            &format!("{de}/drains/{{id}}/edit"),
            get(drain_edit::show).post(drain_edit::save),
        )
        .route(&format!("{de}/drains/{{id}}/pause"), post(drains::pause))
        .route(&format!("{de}/drains/{{id}}/resume"), post(drains::resume))
        .route(&format!("{de}/drains/{{id}}/delete"), post(drains::delete))
        .route(&format!("{de}/drains/{{id}}/test"), post(drains::test))
        .route(&format!("{de}/drains/{{id}}/replay"), post(drains::replay))
        .route(&format!("{de}/schedules/{{id}}"), get(schedules::show))
        .route(
            &format!("{de}/schedules/{{id}}/pause"),
            post(schedules::pause),
        )
        .route(
            &format!("{de}/schedules/{{id}}/resume"),
            post(schedules::resume),
        )
        .route(&format!("{de}/schedules/{{id}}/run"), post(schedules::run))
        .route(
            &format!("{de}/schedules/{{id}}/delete"),
            post(schedules::delete),
        )
        .route(keys::PATH, get(keys::show).post(keys::create))
        .route(&format!("{}/{{id}}/revoke", keys::PATH), post(keys::revoke))
        .route(privacy::PATH, get(privacy::show).post(privacy::save_org))
        .route(
            &format!("{}/teams/{{id}}", privacy::PATH),
            post(privacy::save_team),
        )
        .route(reports::PATH, get(reports::show))
        .route(reports::CSV_PATH, get(reports::csv))
}
