//! `/settings/organization/admins/sso` (owners only): the organization's single sign-on
//! settings — issuer, client, allowed domains, claim → role mapping, require SSO — saved
//! through [`Sso::set`](crate::sso::Sso::set), which validates them. The client secret is
//! write-only: the form never shows it, and leaving it blank keeps the stored one.

use super::drains::{NoticeQuery, actor};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use super::signin::Empty;
use super::sso::service;
use crate::domain::role::Role;
use crate::http::extract::Client;
use crate::sso::{SsoConfig, SsoError, SsoInput};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The page's path.
pub const PATH: &str = "/settings/organization/admins/sso";

/// The settings form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SsoForm {
    issuer: String,
    client_id: String,
    client_secret: String,
    allowed_domains: String,
    role_claim: String,
    role_map: String,
    default_role: String,
    require_sso: Option<String>,
    break_glass_email: String,
}

/// `GET`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = match q.notice.as_deref() {
        Some("saved") => Some("Single sign-on settings saved."),
        Some("off") => Some("Single sign-on is off; admins sign in with passwords."),
        _ => None,
    };
    let config = service(&state).get(admin.org_id()).await?;
    Ok(page(&admin, config.as_ref(), notice, None, StatusCode::OK))
}

fn page(
    admin: &Admin,
    c: Option<&SsoConfig>,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let text = |f: fn(&SsoConfig) -> String| c.map(f).unwrap_or_default();
    let map = c
        .map(|c| {
            c.role_map
                .iter()
                .map(|(v, r)| format!("{v}={}", r.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let default_role = c.map_or(Role::Viewer, |c| c.default_role);
    let body = html! {
        h1 { "Single sign-on" }
        p.lead { "Admins of " (admin.org.name) " sign in through your OpenID Connect provider. Register "
            code { "/sso/callback" } " on this site as the client's redirect URI." }
        @if let Some(n) = notice { (layout::notice(n)) }
        @if let Some(e) = error { (layout::error_box(e)) }
        section.card {
            p #sso-status { "Status: " strong { @if c.is_some() { "on" } @else { "off" } } }
            form method="post" action=(PATH) {
                (layout::csrf_field(admin))
                label for="sso-issuer" { "Issuer URL (https)" }
                input #sso-issuer type="url" name="issuer" required value=(text(|c| c.issuer.clone()));
                label for="sso-client-id" { "Client id" }
                input #sso-client-id type="text" name="client_id" required value=(text(|c| c.client_id.clone()));
                label for="sso-client-secret" { "Client secret" @if c.is_some() { " (blank keeps the stored one)" } }
                input #sso-client-secret type="password" name="client_secret" autocomplete="off";
                label for="sso-domains" { "Allowed email domains (comma-separated)" }
                input #sso-domains type="text" name="allowed_domains" required value=(text(|c| c.allowed_domains.join(", ")));
                label for="sso-claim" { "Role claim (e.g. groups)" }
                input #sso-claim type="text" name="role_claim" value=(text(|c| c.role_claim.clone().unwrap_or_default()));
                label for="sso-map" { "Claim value = role, one a line (owner, admin, analyst, viewer)" }
                textarea #sso-map name="role_map" rows="3" { (map) }
                label for="sso-default-role" { "Role when no value maps" }
                select #sso-default-role name="default_role" {
                    @for r in Role::ALL {
                        option value=(r.as_str()) selected[r == default_role] { (r.label()) }
                    }
                }
                label for="sso-require" {
                    input #sso-require type="checkbox" name="require_sso" value="on" checked[c.is_some_and(|c| c.require_sso)];
                    " Require single sign-on (password sign-in refused, except the break-glass owner)"
                }
                label for="sso-break-glass" { "Break-glass owner's email" }
                input #sso-break-glass type="email" name="break_glass_email" value=(text(|c| c.break_glass_email.clone().unwrap_or_default()));
                div.actions-bar { button type="submit" { "Save" } }
            }
            @if c.is_some() {
                form method="post" action={(PATH) "/off"} data-confirm="Turn single sign-on off?" {
                    (layout::csrf_field(admin))
                    button.danger type="submit" { "Turn off" }
                }
            }
        }
    };
    layout::with_headers(
        status,
        layout::page("Single sign-on", Some(admin), Nav::Admins, body),
    )
}

fn input(f: SsoForm) -> Result<SsoInput, String> {
    let mut role_map = BTreeMap::new();
    for line in f.role_map.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (value, role) = line
            .split_once('=')
            .ok_or_else(|| format!("`{line}`: write each mapping as VALUE=ROLE"))?;
        role_map.insert(value.trim().to_string(), Role::parse(role.trim())?);
    }
    Ok(SsoInput {
        issuer: f.issuer,
        client_id: f.client_id,
        client_secret: Some(f.client_secret).filter(|s| !s.trim().is_empty()),
        allowed_domains: f.allowed_domains.split(',').map(str::to_string).collect(),
        role_claim: Some(f.role_claim),
        role_map,
        default_role: Role::parse(&f.default_role)?,
        require_sso: f.require_sso.is_some(),
        break_glass_email: Some(f.break_glass_email),
    })
}

/// `POST`: save.
pub async fn save(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<SsoForm>,
) -> Result<Response, WebError> {
    let sso = service(&state);
    let org = admin.org_id().to_string();
    let error = match input(form) {
        Ok(input) => match sso.set(&org, input, &actor(&admin, client)).await {
            Ok(_) => return Ok(Redirect::to(&format!("{PATH}?notice=saved")).into_response()),
            Err(SsoError::Invalid(e)) => e,
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    let current = sso.get(&org).await?;
    Ok(page(
        &admin,
        current.as_ref(),
        None,
        Some(&error),
        StatusCode::BAD_REQUEST,
    ))
}

/// `POST …/off`.
pub async fn off(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, .. }: Checked<Empty>,
) -> Result<Response, WebError> {
    service(&state)
        .off(admin.org_id(), &actor(&admin, client))
        .await?;
    Ok(Redirect::to(&format!("{PATH}?notice=off")).into_response())
}
