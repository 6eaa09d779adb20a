//! SMTP settings (`[smtp]` in `outflow.toml`, `OUTFLOW_SMTP__*` in the environment).
//!
//! Without a `host`, Outflow sends nothing over the network: every email is written as an
//! `.eml` file to `{data_dir}/outbox/`, so the embedded default works with no mail server and
//! an operator can still read what would have been sent.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text, for a relay on localhost or a trusted network. Default port 25.
    None,
    /// Connect in plain text, then require `STARTTLS` before anything else is sent
    /// (no downgrade: a server without STARTTLS is an error). Default port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS", implicit TLS). Default port 465.
    Tls,
}

impl SmtpTls {
    /// The port conventionally used with this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpTls::None => "none",
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
        })
    }
}

/// Where and how Outflow sends email.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// SMTP server host name. Unset (the default): emails go to the `{data_dir}/outbox/`
    /// directory as `.eml` files instead.
    pub host: Option<String>,
    /// SMTP server port. Default by `tls`: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub port: Option<u16>,
    /// Connection security: `none`, `starttls` or `tls`. Default `starttls`.
    pub tls: SmtpTls,
    /// User name for SMTP AUTH (PLAIN or LOGIN). Unset: no authentication.
    pub username: Option<String>,
    /// Password for SMTP AUTH; never printed in logs or errors.
    pub password: Option<Secret>,
    /// The `From` of every email, `Name <address>` or a bare address.
    /// Default `Outflow <outflow@localhost>`.
    pub from: String,
    /// Seconds allowed to connect and for each SMTP command. Default 30.
    pub timeout_seconds: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: None,
            tls: SmtpTls::default(),
            username: None,
            password: None,
            from: "Outflow <outflow@localhost>".into(),
            timeout_seconds: 30,
        }
    }
}

impl SmtpConfig {
    /// The port to connect to: the configured one, else the default of the TLS mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_write_to_the_outbox_with_starttls_settings() {
        let c = SmtpConfig::default();
        assert_eq!(c.host, None);
        assert_eq!(c.tls, SmtpTls::Starttls);
        assert_eq!(c.effective_port(), 587);
        assert_eq!(c.from, "Outflow <outflow@localhost>");
        assert_eq!(c.timeout_seconds, 30);
        assert!(c.username.is_none() && c.password.is_none());
    }

    #[test]
    fn port_defaults_follow_the_tls_mode_unless_set() {
        let mut c = SmtpConfig {
            tls: SmtpTls::Tls,
            ..SmtpConfig::default()
        };
        assert_eq!(c.effective_port(), 465);
        c.tls = SmtpTls::None;
        assert_eq!(c.effective_port(), 25);
        c.port = Some(2525);
        assert_eq!(c.effective_port(), 2525);
    }

    #[test]
    fn partial_toml_keeps_defaults_and_rejects_unknown_keys() {
        let c: SmtpConfig = toml_like(r#"{"host": "mail.example.com", "tls": "tls"}"#).unwrap();
        assert_eq!(c.host.as_deref(), Some("mail.example.com"));
        assert_eq!(c.tls, SmtpTls::Tls);
        assert_eq!(c.timeout_seconds, 30);
        assert!(toml_like::<SmtpConfig>(r#"{"hots": "x"}"#).is_err());
        assert!(toml_like::<SmtpConfig>(r#"{"tls": "ssl"}"#).is_err());
    }

    #[test]
    fn the_password_does_not_leak_through_debug() {
        let c = SmtpConfig {
            username: Some("mailer".into()),
            password: Some(Secret("hunter2-smtp".into())),
            ..SmtpConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mailer"));
    }

    /// Deserializes through serde_json: the same serde attributes decide what TOML and the
    /// environment may set, and JSON needs no extra dev-dependency.
    fn toml_like<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(s)
    }
}
