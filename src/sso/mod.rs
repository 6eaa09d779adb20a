//! Single sign-on with OpenID Connect, one provider per organization (issue 16, item 1).
//!
//! - `mod.rs` — the settings ([`SsoInput`] in, [`SsoConfig`] out, never the secret), their
//!   validation, and [`Sso`], the way in for the CLI and the pages;
//! - `repo.rs` — the SQL of `sso_configs` and `sso_logins` (migration 0013);
//! - `flow.rs` — the authorization code flow with PKCE through the `openidconnect` crate:
//!   discovery, the redirect, the code exchange and the ID token checks.
//!
//! The client secret is sealed with the drains' [`SecretBox`] (XChaCha20-Poly1305 under the
//! master key), bound to the organization and the id [`SECRET_ID`], so it cannot be opened as
//! another organization's or as a drain secret.

pub mod flow;
pub mod repo;

use crate::domain::role::Role;
use crate::drain::secrets::{OpenError, SecretBox};
use crate::drain::ssrf;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use flow::Identity;

/// The id an organization's sealed client secret is bound to.
pub const SECRET_ID: &str = "sso:client_secret";

/// How long a started sign-in may take at the provider.
pub const LOGIN_TTL_MINUTES: i64 = 10;

/// SSO settings as given (CLI or page).
#[derive(Debug, Clone)]
pub struct SsoInput {
    /// The provider's issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret; `None` keeps the stored one.
    pub client_secret: Option<String>,
    /// Email domains that may sign in (at least one).
    pub allowed_domains: Vec<String>,
    /// The ID token claim whose value(s) map to a role (`groups`, `role`, …).
    pub role_claim: Option<String>,
    /// Claim value → role.
    pub role_map: BTreeMap<String, Role>,
    /// The role of an admin whose claim matches nothing (without a role claim: of a new
    /// admin; with one, at every sign-in).
    pub default_role: Role,
    /// Password sign-in is refused for the organization (except `break_glass_email`).
    pub require_sso: bool,
    /// The owner who may still sign in with a password when SSO is required.
    pub break_glass_email: Option<String>,
}

impl Default for SsoInput {
    fn default() -> Self {
        SsoInput {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            allowed_domains: Vec::new(),
            role_claim: None,
            role_map: BTreeMap::new(),
            default_role: Role::Viewer,
            require_sso: false,
            break_glass_email: None,
        }
    }
}

/// Stored SSO settings, without the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoConfig {
    /// Organization.
    pub org_id: String,
    /// Issuer URL.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Allowed email domains.
    pub allowed_domains: Vec<String>,
    /// Claim mapped to roles.
    pub role_claim: Option<String>,
    /// Claim value → role.
    pub role_map: BTreeMap<String, Role>,
    /// Role when nothing maps.
    pub default_role: Role,
    /// Password sign-in refused.
    pub require_sso: bool,
    /// The break-glass owner.
    pub break_glass_email: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl SsoConfig {
    /// Whether `email` is in an allowed domain.
    pub fn domain_allowed(&self, email: &str) -> bool {
        email
            .rsplit_once('@')
            .is_some_and(|(_, d)| self.allowed_domains.iter().any(|a| a == d))
    }

    /// The role for the claim's values: the first value that maps (in the claim's order),
    /// else the default role.
    pub fn role_for(&self, values: &[String]) -> Role {
        // The strongest role any value maps to (`Role` orders owner first), so the order of
        // a user's groups in the token does not decide it.
        values
            .iter()
            .filter_map(|v| self.role_map.get(v).copied())
            .min()
            .unwrap_or(self.default_role)
    }

    /// Whether `email` (an admin of this organization with `role`) may use the password form.
    pub fn password_allowed(&self, email: &str, role: Role) -> bool {
        !self.require_sso
            || (role == Role::Owner && self.break_glass_email.as_deref() == Some(email))
    }
}

/// Why an SSO operation failed. Messages never include the client secret.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// Bad settings or request.
    #[error("{0}")]
    Invalid(String),
    /// The organization has no SSO configured.
    #[error("single sign-on is not configured for organization `{0}`")]
    NotConfigured(String),
    /// The sign-in was refused (state, provider, token or domain).
    #[error("{0}")]
    Refused(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored secret cannot be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
}

/// Single sign-on settings and sign-ins of every organization.
#[derive(Clone)]
pub struct Sso {
    store: Store,
    secrets: SecretBox,
    allow_private: bool,
}

fn invalid(s: impl Into<String>) -> SsoError {
    SsoError::Invalid(s.into())
}

/// Checks the issuer URL: https (http only where private destinations are allowed, as in
/// tests), no private or metadata address unless allowed — the drains' SSRF guard.
async fn check_issuer(issuer: &str, allow_private: bool) -> Result<(), SsoError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| invalid(format!("the issuer `{issuer}` is not a URL: {e}")))?;
    if url.scheme() != "https" && !(allow_private && url.scheme() == "http") {
        return Err(invalid(format!(
            "the issuer must be an https URL, not `{}`",
            url.scheme()
        )));
    }
    ssrf::check_stored_url(&url, allow_private)
        .await
        .map_err(|e| invalid(format!("the issuer is refused: {e}")))
}

fn check_domains(domains: &[String]) -> Result<Vec<String>, SsoError> {
    let out: Vec<String> = domains
        .iter()
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    if out.is_empty() {
        return Err(invalid(
            "give at least one allowed email domain (e.g. `example.com`)",
        ));
    }
    if let Some(bad) = out
        .iter()
        .find(|d| !d.contains('.') || d.contains(char::is_whitespace) || d.contains('@'))
    {
        return Err(invalid(format!("`{bad}` is not an email domain")));
    }
    Ok(out)
}

impl Sso {
    /// Over the store and the drains' secret box; `allow_private` is
    /// `[drains] allow_private_destinations`.
    pub fn new(store: Store, secrets: SecretBox, allow_private: bool) -> Sso {
        Sso {
            store,
            secrets,
            allow_private,
        }
    }

    /// Over the store, with the master key and the private-address setting of `config` (for
    /// the CLI, which has no running app).
    pub fn load(store: Store, config: &crate::config::Config) -> anyhow::Result<Sso> {
        let secrets = SecretBox::load(config)?;
        Ok(Sso::new(
            store,
            secrets,
            config.drains.allow_private_destinations,
        ))
    }

    /// The organization's settings.
    pub async fn get(&self, org: &str) -> Result<Option<SsoConfig>, SsoError> {
        Ok(repo::get(&self.store, org).await?)
    }

    /// Validates and stores the settings; returns them as stored.
    pub async fn set(
        &self,
        org: &str,
        input: SsoInput,
        actor: &crate::audit::Actor,
    ) -> Result<SsoConfig, SsoError> {
        let issuer = input.issuer.trim().trim_end_matches('/').to_string();
        check_issuer(&issuer, self.allow_private).await?;
        let client_id = input.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err(invalid("the client id is required"));
        }
        let domains = check_domains(&input.allowed_domains)?;
        // A domain routes its users' SSO sign-ins (`org_for_email`): two organizations
        // claiming one would send them to whichever was found first. The other
        // organization is not named.
        let others = repo::all(&self.store).await?;
        if let Some(taken) = domains.iter().find(|d| {
            others
                .iter()
                .any(|c| c.org_id != org && c.allowed_domains.contains(d))
        }) {
            return Err(invalid(format!(
                "the email domain `{taken}` is already claimed by another organization's single sign-on; remove it there first"
            )));
        }
        let existing = repo::sealed_secret(&self.store, org).await?;
        let sealed = match (input.client_secret.as_deref().map(str::trim), existing) {
            (Some(s), _) if !s.is_empty() => self.secrets.seal_text(org, SECRET_ID, s),
            (_, Some(sealed)) => sealed,
            _ => return Err(invalid("the client secret is required")),
        };
        let role_claim = input
            .role_claim
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if role_claim.is_none() && !input.role_map.is_empty() {
            return Err(invalid(
                "a role mapping needs the claim it reads (role claim)",
            ));
        }
        let break_glass = input
            .break_glass_email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        let config = SsoConfig {
            org_id: org.to_string(),
            issuer,
            client_id,
            allowed_domains: domains,
            role_claim,
            role_map: input.role_map,
            default_role: input.default_role,
            require_sso: input.require_sso,
            break_glass_email: break_glass,
            updated_at: Utc::now(),
        };
        let details = serde_json::json!({
            "issuer": config.issuer, "client_id": config.client_id,
            "allowed_domains": config.allowed_domains, "require_sso": config.require_sso,
        });
        let audit =
            crate::audit::event(org, crate::audit::events::SSO_CHANGED, actor, None, details);
        repo::put(&self.store, &config, &sealed, &audit).await?;
        Ok(config)
    }

    /// Turns SSO off for the organization; whether it was on.
    pub async fn off(&self, org: &str, actor: &crate::audit::Actor) -> Result<bool, SsoError> {
        let details = serde_json::json!({"off": true});
        let audit =
            crate::audit::event(org, crate::audit::events::SSO_CHANGED, actor, None, details);
        Ok(repo::delete(&self.store, org, &audit).await?)
    }

    /// The organization whose allowed domains include `email`'s.
    pub async fn org_for_email(&self, email: &str) -> Result<Option<String>, SsoError> {
        Ok(repo::all(&self.store)
            .await?
            .into_iter()
            .find(|c| c.domain_allowed(email))
            .map(|c| c.org_id))
    }

    async fn client_secret(&self, org: &str) -> Result<String, SsoError> {
        let sealed = repo::sealed_secret(&self.store, org)
            .await?
            .ok_or_else(|| SsoError::NotConfigured(org.to_string()))?;
        Ok(self.secrets.open_text(org, SECRET_ID, &sealed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_mapped_role_wins_whatever_the_claim_order() {
        let config = SsoConfig {
            org_id: "acme".into(),
            issuer: "https://login.acme.example".into(),
            client_id: "c".into(),
            allowed_domains: vec!["acme.example".into()],
            role_claim: Some("groups".into()),
            role_map: BTreeMap::from([
                ("viewers".to_string(), Role::Viewer),
                ("admins".to_string(), Role::Admin),
            ]),
            default_role: Role::Analyst,
            require_sso: false,
            break_glass_email: None,
            updated_at: Utc::now(),
        };
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(config.role_for(&v(&["viewers", "admins"])), Role::Admin);
        assert_eq!(config.role_for(&v(&["admins", "viewers"])), Role::Admin);
        assert_eq!(config.role_for(&v(&["staff"])), Role::Analyst);
        assert_eq!(config.role_for(&[]), Role::Analyst);
    }
}
