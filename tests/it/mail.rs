//! The mailer against a real SMTP server — Python's `aiosmtpd`, one process per test on a free
//! port — plus the outbox mode and the errors an operator sees. Without `aiosmtpd` the SMTP
//! tests skip, except under `CI=true` where they fail with the install command.

use outflow::config::Secret;
use outflow::mail::{Email, MailError, Mailer, SmtpConfig, SmtpTls};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "python3 -m pip install aiosmtpd";

/// How long a server may take to start, or a sent message to show up.
const DEADLINE: Duration = Duration::from_secs(15);

/// The SMTP server: `server.py PORT OUT_DIR [USER PASSWORD]`. Each message is parsed with
/// Python's own MIME parser (so a malformed message fails the test) and written as one JSON file
/// to OUT_DIR, atomically; `OUT_DIR/ready` appears once the server accepts connections. With
/// USER and PASSWORD, AUTH is required (over plain text: the test has no certificate).
const SERVER_PY: &str = r#"
import json, os, sys, threading
from email import policy
from email.parser import BytesParser
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, out = int(sys.argv[1]), sys.argv[2]
creds = (sys.argv[3].encode(), sys.argv[4].encode()) if len(sys.argv) > 4 else None

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = creds is not None and (auth_data.login, auth_data.password) == creds
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

class Handler:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        Handler.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": session.auth_data.login.decode() if session.authenticated else None,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "date": msg["Date"] and str(msg["Date"]),
            "message_id": msg["Message-ID"] and str(msg["Message-ID"]),
            "mime_version": msg["MIME-Version"] and str(msg["MIME-Version"]),
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset(),
            "body": msg.get_content(),
        }
        tmp = os.path.join(out, "%04d.tmp" % Handler.count)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.replace(tmp, os.path.join(out, "%04d.json" % Handler.count))
        return "250 OK"

kwargs = {}
if creds:
    kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
open(os.path.join(out, "ready"), "w").close()
threading.Event().wait()
"#;

fn python() -> String {
    std::env::var("OUTFLOW_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether the SMTP tests can run. Under `CI=true` a missing aiosmtpd is a failure.
fn aiosmtpd_available() -> bool {
    let problem = match Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("cannot run {}: {e}", python()),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("aiosmtpd is required under CI=true (install it with `{INSTALL}`): {problem}");
    }
    eprintln!("SKIPPING SMTP test: aiosmtpd unavailable (`{INSTALL}`): {problem}");
    false
}

/// A port nothing listens on right now (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A running aiosmtpd; killed on drop.
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts a server, requiring AUTH with `auth` when given. `None`: skipped (see
    /// [`aiosmtpd_available`]).
    pub fn start(auth: Option<(&str, &str)>) -> Option<SmtpServer> {
        if !aiosmtpd_available() {
            return None;
        }
        // Another process can take the free port between our probe and the server's bind;
        // that shows up as "address already in use" and is retried on a new port.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let stderr = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
            let mut cmd = Command::new(python());
            cmd.args(["-c", SERVER_PY, &port.to_string()])
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr);
            if let Some((user, password)) = auth {
                cmd.args([user, password]);
            }
            let child = cmd.spawn().expect("spawn python3");
            let mut server = SmtpServer { child, port, dir };
            match server.wait_ready() {
                Ok(()) => return Some(server),
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => panic!("aiosmtpd did not start on port {port}:\n{log}"),
            }
        }
        panic!("aiosmtpd found no free port in 5 attempts");
    }

    /// Waits until the server says it is ready and its port accepts a connection; on early
    /// exit or deadline, returns its stderr.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}: {}", self.stderr()));
            }
            if self.dir.path().join("ready").exists()
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {DEADLINE:?}: {}", self.stderr()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Mailer settings for this server: plain text, short timeout.
    pub fn config(&self) -> SmtpConfig {
        SmtpConfig {
            host: Some("127.0.0.1".into()),
            port: Some(self.port),
            tls: SmtpTls::None,
            from: "Outflow Tests <noreply@outflow.test>".into(),
            timeout_seconds: 5,
            ..SmtpConfig::default()
        }
    }

    /// The messages received so far, oldest first.
    pub(crate) fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read server dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read message")).unwrap())
            .collect()
    }

    /// Waits until `n` messages have arrived.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} messages after {DEADLINE:?}; server log:\n{}",
                got.len(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn email(to: &[&str], subject: &str, text: &str) -> Email {
    Email {
        to: to.iter().map(|s| s.to_string()).collect(),
        subject: subject.into(),
        text: text.into(),
    }
}

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[tokio::test]
async fn smtp_delivers_plain_text_emails_with_sender_recipients_and_headers() {
    let Some(server) = SmtpServer::start(None) else {
        return;
    };
    let data = data_dir();
    let mailer = Mailer::new(&server.config(), data.path()).expect("mailer");
    assert_eq!(
        mailer.describe(),
        format!("smtp://127.0.0.1:{} (none)", server.port)
    );
    let text = "Ihr Export ist fertig: 1.234 Zeilen.\nGrüße, Outflow\n";
    let first = email(
        &["Ana Admin <ana@example.com>", "bo@example.org"],
        "Export für Acme ist fertig",
        text,
    );
    mailer.send(&first).await.expect("send");
    // A second email through the same mailer (the pooled connection, if kept, is reused).
    mailer
        .send(&email(&["carl@example.net"], "Second", "two\n"))
        .await
        .expect("send second");

    let got = server.wait_for_messages(2).await;
    let m = &got[0];
    assert_eq!(m["mail_from"], "noreply@outflow.test");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["ana@example.com", "bo@example.org"])
    );
    assert_eq!(m["from"], "Outflow Tests <noreply@outflow.test>");
    assert_eq!(m["to"], "Ana Admin <ana@example.com>, bo@example.org");
    assert_eq!(m["subject"], "Export für Acme ist fertig");
    // Email lines end in CRLF on the wire, and lettre ends a MIME part with a blank line.
    let body = m["body"].as_str().expect("body").replace("\r\n", "\n");
    assert_eq!(body.trim_end(), text.trim_end());
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["charset"], "utf-8");
    assert_eq!(m["mime_version"], "1.0");
    assert!(m["date"].is_string(), "no Date header: {m}");
    let id = m["message_id"].as_str().expect("Message-ID header");
    assert!(
        id.starts_with('<') && id.ends_with("@outflow.test>"),
        "{id}"
    );
    assert_eq!(m["login"], Value::Null);

    let second = &got[1];
    assert_eq!(second["rcpt_tos"], serde_json::json!(["carl@example.net"]));
    assert_eq!(second["subject"], "Second");
    assert_ne!(second["message_id"], m["message_id"]);
}

#[tokio::test]
async fn smtp_authenticates_with_username_and_password() {
    let Some(server) = SmtpServer::start(Some(("outflow", "s3cret-pw"))) else {
        return;
    };
    let data = data_dir();
    let cfg = SmtpConfig {
        username: Some("outflow".into()),
        password: Some(Secret("s3cret-pw".into())),
        ..server.config()
    };
    let mailer = Mailer::new(&cfg, data.path()).expect("mailer");
    mailer
        .send(&email(&["ana@example.com"], "Authenticated", "hello\n"))
        .await
        .expect("send with AUTH");
    let got = server.wait_for_messages(1).await;
    assert_eq!(got[0]["login"], "outflow");
    assert_eq!(got[0]["subject"], "Authenticated");
}

#[tokio::test]
async fn a_wrong_smtp_password_is_an_auth_error_that_does_not_show_it() {
    let Some(server) = SmtpServer::start(Some(("outflow", "right-pw"))) else {
        return;
    };
    let data = data_dir();
    let cfg = SmtpConfig {
        username: Some("outflow".into()),
        password: Some(Secret("wrong-pw-1234".into())),
        ..server.config()
    };
    let mailer = Mailer::new(&cfg, data.path()).expect("mailer");
    let err = mailer
        .send(&email(&["ana@example.com"], "Nope", "x\n"))
        .await
        .expect_err("a wrong password was accepted");
    let shown = format!("{err} / {err:?}");
    assert!(matches!(err, MailError::Auth { .. }), "{shown}");
    assert!(
        shown.contains(&format!("127.0.0.1:{}", server.port)),
        "{shown}"
    );
    assert!(shown.contains("\"outflow\""), "{shown}");
    assert!(!shown.contains("wrong-pw"), "{shown}");
    assert!(!err.is_transient());

    // Without credentials the server's demand for AUTH is reported as such.
    let anonymous = Mailer::new(&server.config(), data.path()).expect("mailer");
    let err = anonymous
        .send(&email(&["ana@example.com"], "Nope", "x\n"))
        .await
        .expect_err("an unauthenticated send was accepted");
    assert!(
        err.to_string().contains("smtp.username is not set"),
        "{err}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn starttls_mode_refuses_a_server_that_offers_no_starttls() {
    let Some(server) = SmtpServer::start(None) else {
        return;
    };
    let data = data_dir();
    let cfg = SmtpConfig {
        tls: SmtpTls::Starttls,
        ..server.config()
    };
    let mailer = Mailer::new(&cfg, data.path()).expect("mailer");
    let err = mailer
        .send(&email(
            &["ana@example.com"],
            "Plain",
            "must not travel in clear\n",
        ))
        .await
        .expect_err("sent without TLS although STARTTLS is required");
    assert!(err.to_string().contains("STARTTLS"), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{}", server.port)),
        "{err}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_refused_connection_names_host_and_port() {
    let port = free_port();
    let data = data_dir();
    let cfg = SmtpConfig {
        host: Some("127.0.0.1".into()),
        port: Some(port),
        tls: SmtpTls::None,
        timeout_seconds: 5,
        ..SmtpConfig::default()
    };
    let mailer = Mailer::new(&cfg, data.path()).expect("mailer");
    let err = mailer
        .send(&email(&["ana@example.com"], "s", "t\n"))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(err, MailError::Connect { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(shown.to_lowercase().contains("refused"), "{shown}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn without_a_host_emails_are_written_to_the_outbox_as_eml_files() {
    let data = data_dir();
    let mailer = Mailer::new(&SmtpConfig::default(), data.path()).expect("mailer");
    let outbox = data.path().join("outbox");
    assert_eq!(mailer.describe(), format!("outbox {}", outbox.display()));
    mailer
        .send(&email(
            &["ana@example.com"],
            "Your usage_events export for Acme is ready",
            "Download it here:\nhttps://outflow.example.com/dl/1\n",
        ))
        .await
        .expect("send to outbox");

    let files = eml_files(&outbox);
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read_to_string(&files[0]).expect("read .eml");
    let (headers, body) = raw.split_once("\r\n\r\n").expect("headers and body");
    for expected in [
        "From: Outflow <outflow@localhost>",
        "To: ana@example.com",
        "Subject: Your usage_events export for Acme is ready",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ] {
        assert!(
            headers.lines().any(|l| l == expected),
            "missing {expected:?} in:\n{headers}"
        );
    }
    assert!(
        headers.lines().any(|l| l.starts_with("Date: ")),
        "{headers}"
    );
    assert!(
        headers
            .lines()
            .any(|l| l.starts_with("Message-ID: <") && l.ends_with("@localhost>")),
        "{headers}"
    );
    assert_eq!(
        body.replace("\r\n", "\n").trim_end(),
        "Download it here:\nhttps://outflow.example.com/dl/1"
    );
}

#[tokio::test]
async fn a_bad_recipient_is_named_and_nothing_is_written() {
    let data = data_dir();
    let mailer = Mailer::new(&SmtpConfig::default(), data.path()).expect("mailer");
    let err = mailer
        .send(&email(&["ok@example.com", "not-an-address"], "s", "t\n"))
        .await
        .expect_err("accepted a bad address");
    assert!(err.to_string().contains("\"not-an-address\""), "{err}");
    assert!(eml_files(&data.path().join("outbox")).is_empty());
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("outbox exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect()
}
