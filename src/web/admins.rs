//! `/settings/organization/admins` (owners only): the organization's admins and their roles,
//! invitations (a one-time sign-in link by email), role changes, removal, and the live
//! sessions with revoke. Each change writes an `audit_logs` record in the same transaction.
//!
//! An organization always keeps an owner: the last one can be neither demoted nor removed.

use super::data_export::org_tz;
use super::drains::{NoticeQuery, actor};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{Admin, Checked, new_token};
use super::signin::Empty;
use crate::audit;
use crate::auth::keys::hash_secret;
use crate::domain::role::Role;
use crate::http::extract::Client;
use crate::mail::templates::AdminInvite;
use crate::state::AppState;
use crate::store::admin::{self as admin_store, AdminUser, Invite, SessionRow};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use maud::{Markup, html};
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/admins";
/// How long an invitation link works.
pub const INVITE_HOURS: i64 = 72;

/// The invite form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    /// Who to invite.
    email: String,
    /// Their role.
    role: String,
}

/// The change-role form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    /// The new role.
    role: String,
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "invited" => "Invitation sent. The link works once, for 72 hours.",
        "invite_revoked" => "Invitation withdrawn: its link no longer works.",
        "role_changed" => "Role changed. It applies from the admin's next click.",
        "removed" => "Admin removed and signed out everywhere.",
        "session_revoked" => "Session ended.",
        _ => return None,
    })
}

/// `GET /settings/organization/admins`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let notice = q.notice.as_deref().and_then(notice_text);
    page(&state, &admin, notice, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    admin: &Admin,
    notice: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let now = Utc::now();
    let org = admin.org_id();
    let admins = admin_store::list_admins(&state.store, org).await?;
    let invites = admin_store::list_invites(&state.store, org, now).await?;
    let sessions = admin_store::list_sessions(&state.store, org, now).await?;
    let body = html! {
        h1 { "Admins" }
        p.lead { "Who administers " (admin.org.name) " in Outflow, with which role, and where they are signed in." }
        @if let Some(n) = notice { (layout::notice(n)) }
        (invite_card(admin, error))
        h2 #admins-heading { "Admins" }
        (admins_table(admin, &admins))
        @if !invites.is_empty() {
            h2 { "Pending invitations" }
            (invites_table(admin, &invites))
        }
        h2 { "Sessions" }
        (sessions_table(admin, &sessions))
        h2 { "Single sign-on" }
        p { "Sign admins in through your OpenID Connect provider. "
            a href=(super::sso_settings::PATH) { "Single sign-on settings" } }
    };
    Ok(layout::with_headers(
        status,
        layout::page("Admins", Some(admin), Nav::Admins, body),
    ))
}

fn role_options(selected: Role) -> Markup {
    html! {
        @for r in Role::ALL {
            option value=(r.as_str()) selected[r == selected] { (r.label()) " — " (r.summary()) }
        }
    }
}

fn invite_card(admin: &Admin, error: Option<&str>) -> Markup {
    html! {
        section.card {
            h2 { "Invite an admin" }
            p { "They get an email with a one-time link to choose a password and sign in." }
            @if let Some(e) = error { (layout::error_box(e)) }
            form method="post" action={(PATH) "/invite"} {
                (layout::csrf_field(admin))
                label for="invite-email" { "Email" }
                input #invite-email type="email" name="email" required autocomplete="off";
                label for="invite-role" { "Role" }
                select #invite-role name="role" { (role_options(Role::Admin)) }
                div.actions-bar { button type="submit" { "Send invitation" } }
            }
        }
    }
}

fn admins_table(admin: &Admin, admins: &[AdminUser]) -> Markup {
    html! {
        div.table-wrap {
            table aria-labelledby="admins-heading" {
                thead { tr { th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Actions" } } }
                tbody {
                    @for a in admins {
                        tr data-admin=(a.email) {
                            td { (a.email) @if a.id == admin.user_id { " " span.muted { "(you)" } } }
                            td {
                                form.inline method="post" action={(PATH) "/" (a.id) "/role"} {
                                    (layout::csrf_field(admin))
                                    label.sr-only for={"role-" (a.id)} { "Role of " (a.email) }
                                    select id={"role-" (a.id)} name="role" { (role_options(a.role)) }
                                    " "
                                    button.small type="submit" aria-label={"Change the role of " (a.email)} { "Change" }
                                }
                            }
                            td.actions {
                                form method="post" action={(PATH) "/" (a.id) "/remove"} data-confirm={"Remove " (a.email) "? They are signed out everywhere."} {
                                    (layout::csrf_field(admin))
                                    button.small.danger type="submit" aria-label={"Remove " (a.email)} { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn invites_table(admin: &Admin, invites: &[Invite]) -> Markup {
    let tz = org_tz(admin);
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Invited by" }
                    th scope="col" { "Link works until" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for i in invites {
                        tr data-invite=(i.email) {
                            td { (i.email) } td { (i.role.label()) } td { (i.invited_by) }
                            td { (layout::time(i.expires_at, tz)) }
                            td.actions {
                                form method="post" action={(PATH) "/invites/" (i.id) "/revoke"} {
                                    (layout::csrf_field(admin))
                                    button.small.danger type="submit" aria-label={"Withdraw the invitation of " (i.email)} { "Withdraw" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn sessions_table(admin: &Admin, sessions: &[(SessionRow, DateTime<Utc>)]) -> Markup {
    let tz = org_tz(admin);
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "Admin" } th scope="col" { "Started" } th scope="col" { "Ends" }
                    th scope="col" { "From" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for (s, started) in sessions {
                        tr data-session=(s.email) {
                            td { (s.email) @if s.token_hash == admin.token_hash { " " span.muted { "(this session)" } } }
                            td { (layout::time(*started, tz)) }
                            td { (layout::time(s.expires_at, tz)) }
                            td {
                                (s.source_ip.as_deref().unwrap_or("—"))
                                @if let Some(ua) = &s.user_agent { br; span.muted { (ua) } }
                            }
                            td.actions {
                                form method="post" action={(PATH) "/sessions/" (s.token_hash) "/revoke"} {
                                    (layout::csrf_field(admin))
                                    button.small.danger type="submit" aria-label={"End the session of " (s.email)} { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn done(notice: &str) -> Response {
    Redirect::to(&format!("{PATH}?notice={notice}")).into_response()
}

/// `POST /settings/organization/admins/invite`: stores the invitation, then emails its link.
pub async fn invite(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<InviteForm>,
) -> Result<Response, WebError> {
    let checked = super::auth::checked_email(&form.email)
        .map_err(|e| e.to_string())
        .and_then(|email| Role::parse(&form.role).map(|role| (email, role)));
    let (email, role) = match checked {
        Ok(v) => v,
        Err(e) => return page(&state, &admin, None, Some(&e), StatusCode::BAD_REQUEST).await,
    };
    if let Some(existing) = admin_store::admin_by_email(&state.store, &email).await?
        && existing.org_id == admin.org_id()
    {
        let e = format!("`{email}` is already an admin of {}.", admin.org.name);
        return page(&state, &admin, None, Some(&e), StatusCode::BAD_REQUEST).await;
    }
    let token = new_token();
    let now = Utc::now();
    let inv = Invite {
        id: format!("inv_{}", uuid::Uuid::now_v7().simple()),
        token_hash: hash_secret(&token),
        org_id: admin.org_id().to_string(),
        email: email.clone(),
        role,
        invited_by: admin.email.clone(),
        expires_at: now + ChronoDuration::hours(INVITE_HOURS),
    };
    let details = serde_json::json!({"email": email, "role": role.as_str()});
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_INVITED,
        &actor(&admin, client),
        Some(&inv.id),
        details,
    );
    admin_store::insert_invite(&state.store, &inv, now, &batch).await?;
    let link = format!(
        "{}{}",
        state.exports.files.public_url(),
        super::invite::PATH.replace("{token}", &token)
    );
    let expires = layout::time_text(inv.expires_at, org_tz(&admin));
    let mail = AdminInvite {
        org_name: &admin.org.name,
        role: role.label(),
        invited_by: &admin.email,
        link: &link,
        expires_at: &expires,
    }
    .render()
    .to(vec![email.clone()]);
    if let Err(e) = state.exports.mailer.send(&mail).await {
        // An invitation nobody received is withdrawn, so the page never lists a dead one.
        let _ = admin_store::consume_invite(&state.store, &inv.token_hash).await;
        tracing::warn!(error = %e, "invitation email not sent");
        let e = format!("The invitation email could not be sent ({e}); nothing was saved.");
        return page(&state, &admin, None, Some(&e), StatusCode::BAD_GATEWAY).await;
    }
    Ok(done("invited"))
}

/// `POST /settings/organization/admins/invites/{id}/revoke`.
pub async fn revoke_invite(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, .. }: Checked<Empty>,
) -> Result<Response, WebError> {
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_INVITE_REVOKED,
        &actor(&admin, client),
        Some(&id),
        serde_json::json!({"invite_id": id}),
    );
    if !admin_store::delete_invite(&state.store, admin.org_id(), &id, &batch).await? {
        return Err(WebError::NotFound(format!("no pending invitation `{id}`")));
    }
    Ok(done("invite_revoked"))
}

/// The admin `id` of the signed-in admin's organization (another's answers 404).
async fn target(state: &AppState, admin: &Admin, id: &str) -> Result<AdminUser, WebError> {
    admin_store::admin_in_org(&state.store, admin.org_id(), id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("no admin `{id}` in this organization")))
}

/// Refuses to leave the organization without an owner.
async fn keeps_an_owner(
    state: &AppState,
    admin: &Admin,
    leaving: &AdminUser,
) -> Result<(), WebError> {
    let owners = admin_store::list_admins(&state.store, admin.org_id())
        .await?
        .into_iter()
        .filter(|a| a.role == Role::Owner && a.id != leaving.id)
        .count();
    if leaving.role == Role::Owner && owners == 0 {
        return Err(WebError::BadRequest(format!(
            "{} is the last owner of {}; make another admin owner first",
            leaving.email, admin.org.name
        )));
    }
    Ok(())
}

/// `POST /settings/organization/admins/{id}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<RoleForm>,
) -> Result<Response, WebError> {
    let role = Role::parse(&form.role).map_err(WebError::BadRequest)?;
    let who = target(&state, &admin, &id).await?;
    if who.role == role {
        return Ok(done("role_changed"));
    }
    if role != Role::Owner {
        keeps_an_owner(&state, &admin, &who).await?;
    }
    let details =
        serde_json::json!({"email": who.email, "from": who.role.as_str(), "to": role.as_str()});
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_ROLE_CHANGED,
        &actor(&admin, client),
        Some(&who.id),
        details,
    );
    admin_store::set_role(
        &state.store,
        admin.org_id(),
        &who.id,
        role,
        Utc::now(),
        &batch,
    )
    .await?;
    Ok(done("role_changed"))
}

/// The remove form: `confirm=yes` once the admin has confirmed (the script asks in the browser;
/// without it, the server asks with a page of its own).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RemoveForm {
    /// `yes` when confirmed.
    confirm: String,
}

fn confirm_removal(admin: &Admin, who: &AdminUser) -> Response {
    layout::confirm_page(
        admin,
        Nav::Admins,
        layout::Confirm {
            title: "Remove admin",
            question: html! { "Remove " (who.email) "?" },
            consequence: html! { "They are signed out everywhere and can no longer sign in to " (admin.org.name) "." },
            action: format!("{PATH}/{}/remove", who.id),
            confirm: html! { "Remove " (who.email) },
            keep: (PATH.to_string(), "Keep them"),
        },
    )
}

/// `POST /settings/organization/admins/{id}/remove`: without `confirm=yes`, a page that asks.
pub async fn remove(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<RemoveForm>,
) -> Result<Response, WebError> {
    let who = target(&state, &admin, &id).await?;
    keeps_an_owner(&state, &admin, &who).await?;
    if form.confirm != "yes" {
        return Ok(confirm_removal(&admin, &who));
    }
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_REMOVED,
        &actor(&admin, client),
        Some(&who.id),
        serde_json::json!({"email": who.email, "role": who.role.as_str()}),
    );
    admin_store::delete_admin(&state.store, admin.org_id(), &who.id, &batch).await?;
    Ok(done("removed"))
}

/// `POST /settings/organization/admins/sessions/{id}/revoke` (`id`: the session's token hash,
/// which cannot be turned back into the cookie).
pub async fn revoke_session(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, .. }: Checked<Empty>,
) -> Result<Response, WebError> {
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_SESSION_REVOKED,
        &actor(&admin, client),
        None,
        serde_json::json!({"session": id.chars().take(12).collect::<String>()}),
    );
    if !admin_store::revoke_session(&state.store, admin.org_id(), &id, &batch).await? {
        return Err(WebError::NotFound(
            "no such session in this organization".into(),
        ));
    }
    Ok(done("session_revoked"))
}
