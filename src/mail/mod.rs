//! Email to people (docs/spec.md §4–5): the requester when an export completes or fails,
//! administrators when a drain enters the `error` state.
//!
//! [`Mailer`] sends through an SMTP server when `smtp.host` is set, and otherwise writes each
//! email as an `.eml` file to `{data_dir}/outbox/` (the embedded default needs no mail server).
//! Bodies come from [`templates`]; [`Mailer::send`] adds the headers every message needs.
//!
//! ```text
//! config.rs     SmtpConfig: host, port, tls, credentials, from, timeout
//! templates.rs  the plain-text emails: export completed / failed, drain error
//! ```

pub mod config;
pub mod templates;

pub use config::{SmtpConfig, SmtpTls};

use crate::secret::Secret;
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One plain-text email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient addresses, `user@example.com` or `Name <user@example.com>`.
    pub to: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text (UTF-8) body.
    pub text: String,
}

/// Why an email could not be set up or sent. Messages name the address, server or directory
/// at fault; none ever contains the SMTP password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The `[smtp]` configuration cannot work.
    #[error("invalid smtp configuration: {0}")]
    Config(String),
    /// A recipient is not a valid address.
    #[error("invalid recipient address {address:?}: {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The email has no recipient.
    #[error("email {subject:?} has no recipients")]
    NoRecipients {
        /// The subject, to tell which email it was.
        subject: String,
    },
    /// The message could not be assembled.
    #[error("could not build email {subject:?}: {reason}")]
    Message {
        /// The subject, to tell which email it was.
        subject: String,
        /// lettre's explanation.
        reason: String,
    },
    /// No TCP connection, or it broke (refused, unknown host, reset, or a TLS handshake that
    /// failed on the wire — hence the mode in the message: `tls` against a STARTTLS port looks
    /// like a corrupt connection).
    #[error("could not reach SMTP server {server} (tls = {tls}): {detail}")]
    Connect {
        /// `host:port`.
        server: String,
        /// The configured connection security.
        tls: SmtpTls,
        /// The underlying error.
        detail: String,
    },
    /// The server or a command did not answer within `smtp.timeout_seconds`.
    #[error("SMTP server {server} did not answer within {seconds} s: {detail}")]
    Timeout {
        /// `host:port`.
        server: String,
        /// The configured timeout.
        seconds: u64,
        /// The underlying error.
        detail: String,
    },
    /// TLS could not be established (no STARTTLS offered, bad certificate, wrong port).
    #[error("TLS with SMTP server {server} failed: {detail}")]
    Tls {
        /// `host:port`.
        server: String,
        /// The underlying error.
        detail: String,
    },
    /// The server refused the login, or demands one that is not configured.
    #[error(
        "SMTP server {server} refused authentication{}: {detail}",
        match username { Some(u) => format!(" as {u:?}"), None => " (smtp.username is not set)".into() }
    )]
    Auth {
        /// `host:port`.
        server: String,
        /// The configured user name, if any.
        username: Option<String>,
        /// The server's reply.
        detail: String,
    },
    /// The server answered a command with an error reply (4xx transient, 5xx permanent).
    #[error("SMTP server {server} refused the email: {detail}")]
    Rejected {
        /// `host:port`.
        server: String,
        /// Whether the reply was 4xx (try again later) rather than 5xx.
        transient: bool,
        /// The server's reply.
        detail: String,
    },
    /// The SMTP exchange went wrong in some other way (unexpected reply, missing extension).
    #[error("SMTP exchange with {server} failed: {detail}")]
    Protocol {
        /// `host:port`.
        server: String,
        /// The underlying error.
        detail: String,
    },
    /// The outbox directory could not be created or written.
    #[error("could not write to the mail outbox {}: {detail}", dir.display())]
    Outbox {
        /// The outbox directory.
        dir: PathBuf,
        /// The underlying error.
        detail: String,
    },
}

impl MailError {
    /// Whether sending the same email later may succeed without a configuration change.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Connect { .. } | MailError::Timeout { .. } => true,
            MailError::Rejected { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// Sends [`Email`]s through SMTP or into the outbox directory. Cheap to clone; clones share
/// the SMTP connection pool.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    via: Via,
}

#[derive(Clone)]
enum Via {
    Smtp(Smtp),
    Outbox {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

#[derive(Clone)]
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for messages.
    server: String,
    tls: SmtpTls,
    timeout_seconds: u64,
    username: Option<String>,
    /// Kept only to scrub it from error texts, in case a server echoes it back.
    password: Option<Secret>,
}

impl Mailer {
    /// A mailer for `cfg`: SMTP when `cfg.host` is set (a blank host counts as unset, so an
    /// empty `OUTFLOW_SMTP__HOST` can switch a file's SMTP setting off), otherwise the outbox
    /// `{data_dir}/outbox/`, created here.
    ///
    /// The SMTP mode must be built inside a Tokio runtime: its connection pool starts a
    /// background task. Nothing is connected yet; the first [`Mailer::send`] connects.
    pub fn new(cfg: &SmtpConfig, data_dir: &Path) -> Result<Mailer, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|e| {
            MailError::Config(format!(
                "smtp.from {:?} is not an email address: {e}",
                cfg.from
            ))
        })?;
        let via = match cfg.host.as_deref().map(str::trim) {
            Some(host) if !host.is_empty() => Via::Smtp(Smtp::new(cfg, host)?),
            _ => {
                let dir = data_dir.join("outbox");
                std::fs::create_dir_all(&dir).map_err(|e| MailError::Outbox {
                    dir: dir.clone(),
                    detail: e.to_string(),
                })?;
                Via::Outbox {
                    transport: AsyncFileTransport::new(&dir),
                    dir,
                }
            }
        };
        Ok(Mailer { from, via })
    }

    /// Where emails go, for the startup log: `smtp://host:port (starttls)` or `outbox DIR`.
    pub fn describe(&self) -> String {
        match &self.via {
            Via::Smtp(smtp) => format!("smtp://{} ({})", smtp.server, smtp.tls),
            Via::Outbox { dir, .. } => format!("outbox {}", dir.display()),
        }
    }

    /// The outbox directory, when emails are written to files instead of sent.
    pub fn outbox_dir(&self) -> Option<&Path> {
        match &self.via {
            Via::Smtp(_) => None,
            Via::Outbox { dir, .. } => Some(dir),
        }
    }

    /// Sends `email` from `smtp.from`, with `Date`, a fresh `Message-ID` and a
    /// `text/plain; charset=utf-8` body.
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = self.build(email)?;
        match &self.via {
            Via::Smtp(smtp) => {
                smtp.transport
                    .send(message)
                    .await
                    .map_err(|e| smtp.error(&e))?;
            }
            Via::Outbox { transport, dir } => {
                transport
                    .send(message)
                    .await
                    .map_err(|e| MailError::Outbox {
                        dir: dir.clone(),
                        detail: e.to_string(),
                    })?;
            }
        }
        // The count, not the addresses: logs outlive the emails and addresses identify people.
        tracing::debug!(
            recipients = email.to.len(),
            subject = %email.subject,
            via = %self.describe(),
            "email sent"
        );
        Ok(())
    }

    fn build(&self, email: &Email) -> Result<Message, MailError> {
        if email.to.is_empty() {
            return Err(MailError::NoRecipients {
                subject: email.subject.clone(),
            });
        }
        // The Message-ID's right side is the sender's domain: it identifies who generated the
        // id, and unlike the machine's host name it is the same on every replica.
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            self.from.email.domain()
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email.subject.clone())
            .date_now()
            .message_id(Some(message_id));
        for address in &email.to {
            let mailbox: Mailbox = address.parse().map_err(|e| MailError::Address {
                address: address.clone(),
                reason: format!("{e}"),
            })?;
            builder = builder.to(mailbox);
        }
        builder
            .singlepart(SinglePart::plain(email.text.clone()))
            .map_err(|e| MailError::Message {
                subject: email.subject.clone(),
                reason: e.to_string(),
            })
    }
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("via", &self.describe())
            .finish()
    }
}

impl Smtp {
    fn new(cfg: &SmtpConfig, host: &str) -> Result<Smtp, MailError> {
        if cfg.timeout_seconds == 0 {
            return Err(MailError::Config(
                "smtp.timeout_seconds must be at least 1".into(),
            ));
        }
        let credentials = match (&cfg.username, &cfg.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(MailError::Config(
                    "smtp.username is set but smtp.password is not".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(MailError::Config(
                    "smtp.password is set but smtp.username is not".into(),
                ));
            }
        };
        // lettre's pool spawns its cleanup task at construction; without a runtime that would
        // panic, so say so instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(MailError::Config(
                "the SMTP mailer must be created inside a Tokio runtime".into(),
            ));
        }
        let port = cfg.effective_port();
        let server = format!("{host}:{port}");
        let tls_error = |e: lettre::transport::smtp::Error| MailError::Tls {
            server: server.clone(),
            detail: e.to_string(),
        };
        let builder = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(tls_error)?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?,
        };
        let mut builder = builder
            .port(port)
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds)));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        Ok(Smtp {
            transport: builder.build(),
            server,
            tls: cfg.tls,
            timeout_seconds: cfg.timeout_seconds,
            username: cfg.username.clone(),
            password: cfg.password.clone(),
        })
    }

    /// Sorts lettre's error into a [`MailError`] that names the server.
    fn error(&self, e: &lettre::transport::smtp::Error) -> MailError {
        let mut detail = e.to_string();
        // Written without a let-chain: the crate's rust-version (1.85) predates them.
        if let Some(password) = self.password.as_ref().map(Secret::expose)
            && !password.is_empty()
        {
            detail = detail.replace(password, "***");
        }
        let server = self.server.clone();
        if e.is_timeout() {
            return MailError::Timeout {
                server,
                seconds: self.timeout_seconds,
                detail,
            };
        }
        if e.is_tls() {
            return MailError::Tls { server, detail };
        }
        if let Some(code) = e.status() {
            // 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
            // 538 encryption required for the mechanism (RFC 4954).
            if matches!(code.to_string().as_str(), "530" | "534" | "535" | "538") {
                return MailError::Auth {
                    server,
                    username: self.username.clone(),
                    detail,
                };
            }
            return MailError::Rejected {
                server,
                transient: e.is_transient(),
                detail,
            };
        }
        if e.is_client() || e.is_response() {
            return MailError::Protocol { server, detail };
        }
        MailError::Connect {
            server,
            tls: self.tls,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox_mailer(dir: &Path) -> Mailer {
        Mailer::new(&SmtpConfig::default(), dir).expect("outbox mailer")
    }

    #[test]
    fn without_a_host_the_mailer_is_an_outbox_in_the_data_dir() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = outbox_mailer(tmp.path());
        let dir = tmp.path().join("outbox");
        assert!(dir.is_dir());
        assert_eq!(mailer.outbox_dir(), Some(dir.as_path()));
        assert_eq!(mailer.describe(), format!("outbox {}", dir.display()));
        let blank = SmtpConfig {
            host: Some("  ".into()),
            ..SmtpConfig::default()
        };
        assert!(Mailer::new(&blank, tmp.path()).is_ok_and(|m| m.outbox_dir().is_some()));
    }

    #[tokio::test]
    async fn smtp_mode_describes_server_port_and_tls_without_the_password() {
        let cfg = SmtpConfig {
            host: Some("mail.example.com".into()),
            username: Some("outflow".into()),
            password: Some(Secret("pa55word-xyz".into())),
            ..SmtpConfig::default()
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = Mailer::new(&cfg, tmp.path()).expect("smtp mailer");
        assert_eq!(mailer.describe(), "smtp://mail.example.com:587 (starttls)");
        assert!(mailer.outbox_dir().is_none());
        assert!(!format!("{mailer:?}").contains("pa55word"));
        assert!(!tmp.path().join("outbox").exists());
    }

    #[test]
    fn bad_configuration_is_refused_with_the_key_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = |cfg: SmtpConfig| match Mailer::new(&cfg, tmp.path()) {
            Err(e) => e.to_string(),
            Ok(m) => panic!("accepted {m:?}"),
        };
        let bad_from = SmtpConfig {
            from: "not an address".into(),
            ..SmtpConfig::default()
        };
        assert!(err(bad_from).contains("smtp.from \"not an address\""));
        let smtp = SmtpConfig {
            host: Some("mail.example.com".into()),
            ..SmtpConfig::default()
        };
        let no_password = SmtpConfig {
            username: Some("u".into()),
            ..smtp.clone()
        };
        assert!(err(no_password).contains("smtp.password is not"));
        let zero = SmtpConfig {
            timeout_seconds: 0,
            ..smtp.clone()
        };
        assert!(err(zero).contains("timeout_seconds"));
        // Outside a runtime the SMTP mode reports the problem instead of panicking.
        assert!(err(smtp).contains("Tokio runtime"));
    }

    #[test]
    fn messages_carry_the_required_headers() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = outbox_mailer(tmp.path());
        let email = Email {
            to: vec!["Ana <ana@example.com>".into(), "bo@example.org".into()],
            subject: "Résumé ready".into(),
            text: "Grüße\n".into(),
        };
        let raw = String::from_utf8(mailer.build(&email).expect("message").formatted())
            .expect("utf-8 headers");
        for expected in [
            "From: Outflow <outflow@localhost>\r\n",
            "To: Ana <ana@example.com>, bo@example.org\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
        ] {
            assert!(raw.contains(expected), "missing {expected:?} in:\n{raw}");
        }
        assert!(raw.contains("\r\nDate: "), "{raw}");
        assert!(
            raw.contains("\r\nMessage-ID: <") && raw.contains("@localhost>\r\n"),
            "{raw}"
        );
        // Non-ASCII subjects are RFC 2047 encoded, never raw bytes in a header.
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
    }

    #[test]
    fn a_bad_recipient_is_named_and_no_recipient_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mailer = outbox_mailer(tmp.path());
        let mut email = Email {
            to: vec!["ok@example.com".into(), "nobody-at-example".into()],
            subject: "s".into(),
            text: "t".into(),
        };
        let e = mailer.build(&email).expect_err("bad address accepted");
        assert!(e.to_string().contains("\"nobody-at-example\""), "{e}");
        email.to.clear();
        assert!(matches!(
            mailer.build(&email),
            Err(MailError::NoRecipients { .. })
        ));
    }
}
