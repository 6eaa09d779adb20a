//! Single sign-on pages: `/sso` (find the organization by the email's domain),
//! `/sso/{org}/start` (to the provider, with a `state` cookie) and `/sso/callback` (back from
//! it: checked by [`Sso::finish`], then the admin is created just in time and signed in).

use super::auth;
use super::error::WebError;
use super::layout::{self, Nav};
use super::session;
use crate::audit::{self, Actor};
use crate::domain::role::Role;
use crate::http::extract::Client;
use crate::sso::{Identity, Sso, SsoError};
use crate::state::AppState;
use crate::store::admin::{self as admin_store, AdminUser};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

/// The callback path registered at the provider.
pub const CALLBACK: &str = "/sso/callback";
/// The state cookie's name (sent back only to `/sso/…`).
const STATE_COOKIE: &str = "outflow_sso_state";

impl From<SsoError> for WebError {
    fn from(e: SsoError) -> Self {
        match e {
            SsoError::Invalid(m) => WebError::BadRequest(m),
            SsoError::Refused(m) => WebError::Forbidden(m),
            SsoError::NotConfigured(m) => WebError::NotFound(format!(
                "single sign-on is not configured for organization `{m}`"
            )),
            e => WebError::Internal(e.into()),
        }
    }
}

/// The service over the app's store and the drains' secret box.
pub fn service(state: &AppState) -> Sso {
    Sso::new(
        state.store.clone(),
        state.drains.secrets.clone(),
        state.config.drains.allow_private_destinations,
    )
}

/// `{public_url}/sso/callback`, else from the request's `Host`.
fn redirect_url(state: &AppState, headers: &HeaderMap) -> String {
    let base = state.config.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    format!("{}{CALLBACK}", base.trim_end_matches('/'))
}

/// `?email=` of the chooser.
#[derive(Debug, Default, Deserialize)]
pub struct ChooseQuery {
    #[serde(default)]
    email: Option<String>,
}

/// `GET /sso`: an email → its organization's provider.
pub async fn choose(
    State(state): State<AppState>,
    Query(q): Query<ChooseQuery>,
) -> Result<Response, WebError> {
    let email = q.email.as_deref().map(auth::normalize_email);
    let mut error = None;
    if let Some(email) = email.as_deref().filter(|e| !e.is_empty()) {
        match service(&state).org_for_email(email).await? {
            Some(org) => return Ok(to_provider(&format!("/sso/{org}/start"))),
            None => {
                error = Some(format!(
                    "No organization signs in `{email}` with single sign-on."
                ))
            }
        }
    }
    let body = html! {
        section.card.narrow {
            h1 { "Sign in with SSO" }
            p.lead { "Your organization's identity provider signs you in." }
            @if let Some(e) = &error { (layout::error_box(e)) }
            form method="get" action="/sso" {
                label for="sso-email" { "Work email" }
                input #sso-email type="email" name="email" value=(email.unwrap_or_default()) required autofocus;
                div.actions-bar { button type="submit" { "Continue" } }
            }
            p { a href="/signin" { "Sign in with a password" } }
        }
    };
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok(layout::with_headers(
        status,
        layout::page("Sign in with SSO", None, Nav::None, body),
    ))
}

/// The page that sends the browser on to the sign-in start (and from there to the provider).
/// Not a redirect: this answers the chooser's form, and a browser checks every redirect of a
/// form submission against the page's `form-action 'self'` — the provider's origin would be
/// refused. A refresh is a new navigation, not the form's.
fn to_provider(start: &str) -> Response {
    let body = html! {
        section.card.narrow {
            h1 { "Sign in with SSO" }
            p { "Continuing to your organization's identity provider… " a #continue href=(start) { "Continue" } }
        }
    };
    let mut r = layout::with_headers(
        StatusCode::OK,
        layout::page("Sign in with SSO", None, Nav::None, body),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("0; url={start}")) {
        r.headers_mut().insert(header::REFRESH, v);
    }
    r
}

/// `?next=` of the start.
#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: Option<String>,
}

/// `GET /sso/{org}/start`: to the provider.
pub async fn start(
    State(state): State<AppState>,
    Path(org): Path<String>,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let next = q
        .next
        .as_deref()
        .and_then(session::local_path)
        .unwrap_or(super::data_export::PATH)
        .to_string();
    let redirect = redirect_url(&state, &headers);
    let (url, st) = service(&state)
        .start(&org, &redirect, &next, Utc::now())
        .await?;
    let mut r = Redirect::to(&url).into_response();
    // Lax, not Strict: the provider sends the browser back with a cross-site navigation.
    let mut cookie = format!(
        "{STATE_COOKIE}={st}; Path=/sso; HttpOnly; SameSite=Lax; Max-Age={}",
        crate::sso::LOGIN_TTL_MINUTES * 60
    );
    if session::secure(&state) {
        cookie.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// The provider's answer.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `GET /sso/callback`.
pub async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    client: Client,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(e) = &q.error {
        let more = q.error_description.as_deref().unwrap_or("");
        return Err(WebError::Forbidden(format!(
            "the identity provider refused the sign-in: {e} {more}"
        )));
    }
    let code = q
        .code
        .as_deref()
        .ok_or_else(|| WebError::BadRequest("the provider sent no code".into()))?;
    let now = Utc::now();
    let identity = service(&state)
        .finish(
            &q.state,
            cookie_value(&headers, STATE_COOKIE).as_deref(),
            code,
            &redirect_url(&state, &headers),
            now,
        )
        .await?;
    let admin = just_in_time(&state, &identity).await?;
    let cookie = session::start(&state, &admin, &client, now).await?;
    let actor = Actor {
        user_id: format!("admin:{}", admin.email),
        source_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    let details =
        serde_json::json!({"email": admin.email, "method": "sso", "subject": identity.subject});
    let batch = audit::event(
        &admin.org_id,
        audit::events::ADMIN_SIGNED_IN,
        &actor,
        Some(&admin.id),
        details,
    );
    state.store.insert_records(&batch).await?;
    // A page rather than a redirect: the session cookie is SameSite=Strict, which a browser
    // withholds for the rest of a navigation that started at the provider's site.
    let next = identity.next_path;
    let body = html! {
        section.card.narrow {
            h1 { "Signed in" }
            p { "Signed in as " (admin.email) ". " a #continue href=(next) { "Continue" } }
        }
    };
    let mut r = layout::with_headers(
        StatusCode::OK,
        layout::page("Signed in", None, Nav::None, body),
    );
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("0; url={next}")) {
        h.insert(header::REFRESH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{STATE_COOKIE}=; Path=/sso; Max-Age=0")) {
        h.append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// The admin the identity names: the existing one of this organization, or a new one with the
/// mapped role and no usable password. An email that is another organization's admin is
/// refused.
///
/// With a role claim configured, an existing admin's role follows the provider at every
/// sign-in (moved out of the admins group, they lose the role at their next sign-in), and the
/// change is audited. The owner role is the exception both ways: only an owner in Outflow
/// grants or takes it after the first sign-in, so a provider's mapping can neither take the
/// last owner away nor hand out ownership that the provider could then never revoke.
async fn just_in_time(state: &AppState, id: &Identity) -> Result<AdminUser, WebError> {
    if let Some(mut existing) = admin_store::admin_by_email(&state.store, &id.email).await? {
        if existing.org_id != id.org_id {
            return Err(WebError::Forbidden(format!(
                "`{}` is the admin of another organization",
                id.email
            )));
        }
        let owner_involved = existing.role == Role::Owner || id.role == Role::Owner;
        if id.role_from_claim && !owner_involved && existing.role != id.role {
            let details = serde_json::json!({"email": existing.email, "from": existing.role.as_str(),
                "to": id.role.as_str(), "source": "sso role claim"});
            let batch = audit::event(
                &existing.org_id,
                audit::events::ADMIN_ROLE_CHANGED,
                &Actor {
                    user_id: "sso".into(),
                    ..Actor::default()
                },
                Some(&existing.id),
                details,
            );
            admin_store::set_role(
                &state.store,
                &existing.org_id,
                &existing.id,
                id.role,
                Utc::now(),
                &batch,
            )
            .await?;
            existing.role = id.role;
        }
        return Ok(existing);
    }
    // A generated password nobody learns: the admin signs in through the provider.
    let role: Role = id.role;
    auth::add_admin_with_role(&state.store, &id.org_id, &id.email, Some(role)).await?;
    admin_store::admin_by_email(&state.store, &id.email)
        .await?
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("the new admin was not stored")))
}
