//! `/settings/organization/api_keys`: the organization's API keys — create one with scopes
//! (its secret is shown once, on the page that answers the form, and never again) and revoke.

use super::data_export::{notice_text, org_tz};
use super::drains::{NoticeQuery, actor};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked};
use crate::audit;
use crate::auth::keys::create_org_key;
use crate::http::extract::Client;
use crate::state::AppState;
use crate::store::{OrgKey, Scope};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/api_keys";

/// The create form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyForm {
    /// Display name.
    name: String,
    /// Chosen scopes.
    scopes: Vec<String>,
}

fn scope_hint(s: Scope) -> &'static str {
    match s {
        Scope::UsageExport => "One-time exports, usage reports, reading teams and members.",
        Scope::Drains => "Data drains and their destination secrets.",
        Scope::Admin => "Everything, including keys and organization settings.",
        Scope::Analytics => "Read-only usage analytics and budgets (GET /v1/usage).",
    }
}

/// `GET /settings/organization/api_keys`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = q.notice.as_deref().and_then(notice_text);
    page(&state, &admin, notice, None, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    error: Option<&str>,
    created: Option<(&OrgKey, &str)>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let keys = state.store.list_org_keys(admin.org_id()).await?;
    let tz = org_tz(admin);
    let body = html! {
        h1 { "API keys" }
        p.lead { "Keys let scripts and tools use the Outflow API for this organization (" code { "Authorization: Bearer …" } ")." }
        @if let Some(n) = notice { (layout::notice(n)) }
        @if let Some((key, secret)) = created {
            section.card role="status" {
                h2 { "Key “" (key.name) "” created" }
                p { strong { "Copy the secret now: " } "it is shown only once and Outflow keeps only its hash." }
                p.secret { (secret) }
            }
        }
        section.card {
            h2 { "Create a key" }
            @if let Some(e) = error { (layout::error_box(e)) }
            form method="post" action=(PATH) {
                (layout::csrf_field(admin))
                label for="key-name" { "Name" }
                input #key-name type="text" name="name" required maxlength="100" placeholder="e.g. BI warehouse sync";
                fieldset {
                    legend { "Scopes" }
                    @for s in Scope::ALL {
                        label.inline {
                            input type="checkbox" name="scopes" value=(s.as_str()) checked[s == Scope::UsageExport];
                            span { code { (s.as_str()) } " — " (scope_hint(s)) }
                        }
                    }
                }
                div.actions-bar { button type="submit" { "Create key" } }
            }
        }
        h2 { "Keys" }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Key" } th scope="col" { "Scopes" }
                    th scope="col" { "Created" } th scope="col" { "Status" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for k in &keys { (key_row(admin, k, tz)) }
                    @if keys.is_empty() { tr { td.empty colspan="6" { "No keys yet." } } }
                }
            }
        }
    };
    Ok(layout::with_headers(
        status,
        layout::page("API keys", Some(admin), Nav::Keys, body),
    ))
}

fn key_row(admin: &Admin, k: &OrgKey, tz: chrono_tz::Tz) -> Markup {
    html! {
        tr {
            td { (k.name) }
            td { code { (k.prefix) "…" } }
            td { (Scope::join(&k.scopes)) }
            td { (layout::time(k.created_at, tz)) }
            td {
                @if let Some(t) = k.revoked_at {
                    span.badge.badge-muted { "Revoked" } " " span.progress { (layout::time(t, tz)) }
                } @else { span.badge.badge-ok { "Active" } }
            }
            td.actions {
                @if k.revoked_at.is_none() {
                    form method="post" action={(PATH) "/" (k.id) "/revoke"} data-confirm={"Revoke the key “" (k.name) "”? Programs using it stop working."} {
                        (layout::csrf_field(admin))
                        button.small.danger type="submit" aria-label={"Revoke key " (k.name)} { "Revoke" }
                    }
                }
            }
        }
    }
}

/// `POST /settings/organization/api_keys`.
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<KeyForm>,
) -> Result<Response, WebError> {
    let name = form.name.trim();
    let scopes = Scope::parse_list(&form.scopes.join(","));
    let problem = if name.is_empty() || name.chars().count() > 100 {
        Some("Name: 1 to 100 characters.".to_string())
    } else {
        scopes
            .as_ref()
            .err()
            .map(|_| "Choose at least one scope.".to_string())
    };
    if let Some(p) = problem {
        return page(
            &state,
            &admin,
            None,
            Some(&p),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let actor = actor(&admin, client);
    let (key, secret) = create_org_key(
        &state.store,
        admin.org_id(),
        name,
        scopes.unwrap_or_default(),
        &actor,
    )
    .await?;
    page(
        &state,
        &admin,
        None,
        None,
        Some((&key, &secret)),
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/organization/api_keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, .. }: Checked<super::signin::Empty>,
) -> Result<Response, WebError> {
    let actor = actor(&admin, client);
    let batch = audit::event(
        admin.org_id(),
        audit::events::ORG_KEY_REVOKED,
        &actor,
        Some(&id),
        serde_json::json!({"key_id": id}),
    );
    if !state
        .store
        .revoke_org_key(admin.org_id(), &id, &batch)
        .await?
    {
        return Err(WebError::NotFound(format!("no active key `{id}`")));
    }
    Ok(Redirect::to(&format!("{PATH}?notice=key_revoked")).into_response())
}
