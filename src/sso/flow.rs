//! The authorization code flow with PKCE (S256) through the `openidconnect` crate, which does
//! discovery, the JWKS fetch, the ID token's signature check and its `iss`, `aud`, `exp` and
//! `nonce` checks — no JWT code of our own. `state`, `nonce` and the PKCE verifier are kept
//! server-side (`sso_logins`), the state also in a cookie of the browser that started, so a
//! callback works once, within [`LOGIN_TTL_MINUTES`](super::LOGIN_TTL_MINUTES), in that
//! browser only.
//!
//! Every request to the provider goes through the drains' SSRF-guarded client (no redirects,
//! no private addresses unless `[drains] allow_private_destinations`).

use super::repo::{self, Login};
use super::{Sso, SsoConfig, SsoError};
use crate::domain::role::Role;
use crate::drain::ssrf;
use chrono::{DateTime, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Who the provider says signed in, checked against the organization's settings.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Organization.
    pub org_id: String,
    /// Lower-cased email from the ID token.
    pub email: String,
    /// The role the claim maps to.
    pub role: Role,
    /// Whether `role` came from a role claim (a mapping is configured), so it is kept in
    /// step at every sign-in; otherwise it is only the default for a new admin.
    pub role_from_claim: bool,
    /// The provider's subject.
    pub subject: String,
    /// Where to go now.
    pub next_path: String,
}

fn refused(s: impl Into<String>) -> SsoError {
    SsoError::Refused(s.into())
}

fn hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Sso {
    fn http(&self) -> reqwest::Client {
        ssrf::client(self.allow_private, Duration::from_secs(10))
    }

    async fn client(&self, config: &SsoConfig, redirect: &str) -> Result<Client, SsoError> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| SsoError::Invalid(format!("the issuer is not a URL: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http())
            .await
            .map_err(|e| refused(format!("the provider's discovery document failed: {e}")))?;
        let secret = self.client_secret(&config.org_id).await?;
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| SsoError::Invalid(format!("the redirect URL is not a URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in to `org`: the provider's authorization URL and the `state` to keep in
    /// the browser's cookie.
    pub async fn start(
        &self,
        org: &str,
        redirect: &str,
        next_path: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), SsoError> {
        let config = self
            .get(org)
            .await?
            .ok_or_else(|| SsoError::NotConfigured(org.to_string()))?;
        let client = self.client(&config, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        if let Some(claim) = &config.role_claim {
            // Providers commonly release a groups/roles claim for a scope of the same name.
            request = request.add_scope(Scope::new(claim.clone()));
        }
        let (url, state, nonce) = request.url();
        let login = Login {
            org_id: org.to_string(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next_path: next_path.to_string(),
        };
        let expires = now + chrono::Duration::minutes(super::LOGIN_TTL_MINUTES);
        repo::insert_login(&self.store, &hash(state.secret()), &login, expires, now).await?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Finishes a sign-in: `state` must be the one this browser started (its cookie), unused
    /// and unexpired; the code is exchanged with the PKCE verifier; the ID token's signature
    /// and claims are checked; the email must be verified and in an allowed domain.
    pub async fn finish(
        &self,
        state: &str,
        cookie_state: Option<&str>,
        code: &str,
        redirect: &str,
        now: DateTime<Utc>,
    ) -> Result<Identity, SsoError> {
        let same_browser = cookie_state.is_some_and(|c| {
            use subtle::ConstantTimeEq;
            bool::from(c.as_bytes().ct_eq(state.as_bytes()))
        });
        if !same_browser {
            return Err(refused(
                "the sign-in's state does not match this browser's; start the sign-in again",
            ));
        }
        let login = repo::take_login(&self.store, &hash(state), now)
            .await?
            .ok_or_else(|| {
                refused("the sign-in's state is unknown, used or expired; start again")
            })?;
        let config = self
            .get(&login.org_id)
            .await?
            .ok_or_else(|| SsoError::NotConfigured(login.org_id.clone()))?;
        let client = self.client(&config, redirect).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| refused(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
            .request_async(&self.http())
            .await
            .map_err(|e| refused(format!("the provider refused the code: {}", describe(&e))))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| refused("the provider returned no ID token"))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(login.nonce.clone()))
            .map_err(|e| refused(format!("the ID token is not valid: {e}")))?;
        let email = claims
            .email()
            .map(|e| e.as_str().trim().to_lowercase())
            .ok_or_else(|| refused("the ID token has no email claim"))?;
        if claims.email_verified() == Some(false) {
            return Err(refused(format!("the provider has not verified `{email}`")));
        }
        if !config.domain_allowed(&email) {
            return Err(refused(format!(
                "`{email}` is not in a domain allowed to sign in to this organization (allowed: {})",
                config.allowed_domains.join(", ")
            )));
        }
        // The signature was checked above on this very token, so its payload can be read for
        // the one claim the core claims type does not carry.
        let values = config
            .role_claim
            .as_deref()
            .map(|c| claim_values(&id_token.to_string(), c))
            .unwrap_or_default();
        Ok(Identity {
            org_id: login.org_id,
            email,
            role: config.role_for(&values),
            role_from_claim: config.role_claim.is_some(),
            subject: claims.subject().as_str().to_string(),
            next_path: login.next_path,
        })
    }
}

fn describe<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// The string values of `claim` in a (verified) JWT: a string, or an array's strings.
fn claim_values(jwt: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let Some(payload) = jwt.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match json.get(claim) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_values_read_strings_and_arrays() {
        use base64::Engine;
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!(
            "{}.{}.sig",
            b("{}"),
            b(r#"{"groups":["a","b"],"role":"x"}"#)
        );
        assert_eq!(claim_values(&jwt, "groups"), vec!["a", "b"]);
        assert_eq!(claim_values(&jwt, "role"), vec!["x"]);
        assert!(claim_values(&jwt, "none").is_empty());
    }
}
