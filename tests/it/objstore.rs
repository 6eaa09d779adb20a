//! The GCS and Azure Blob emulators the object-store drain tests run against, one process per
//! test on a free port, killed on drop:
//!
//! - GCS: gcp-storage-emulator (PyPI, pinned in `tests/gcs/requirements.txt`) through
//!   `tests/gcs/emulator.py`, which adds the two XML API calls object_store makes and the
//!   emulator lacks (delete, list) on the emulator's own storage;
//! - Azure: Azurite's blob service (npm, `tests/azurite`), in memory, telemetry off.
//!
//! `.ci/run` installs both. Without them the tests skip, except under `CI=true` where they
//! fail with the install command.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an emulator may take to accept connections.
const DEADLINE: Duration = Duration::from_secs(30);

/// Azurite's well-known development account and key (public, documented by Microsoft).
pub const AZURE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// The bucket the GCS emulator starts with.
pub const GCS_BUCKET: &str = "outflow-drains";
/// A service-account key the emulator takes: no OAuth exchange (object_store's own tests do
/// the same).
pub const GCS_KEY: &str =
    r#"{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}"#;

fn missing(what: &str, install: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI=true; install it with `{install}` (see .ci/run)");
    }
    eprintln!("skipping: {what} is not installed (`{install}`)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, child: &mut Child, what: &str) {
    let until = Instant::now() + DEADLINE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before it listened: {status}");
        }
        assert!(
            Instant::now() < until,
            "{what} did not listen on {port} in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running emulator process.
pub struct Emulator {
    pub endpoint: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    std::env::var("OUTFLOW_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The GCS emulator with bucket [`GCS_BUCKET`], or `None` (skip) when not installed.
pub fn start_gcs() -> Option<Emulator> {
    let installed = Command::new(python())
        .args(["-c", "import gcp_storage_emulator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        missing(
            "gcp-storage-emulator",
            "python3 -m pip install -r tests/gcs/requirements.txt",
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gcs/emulator.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg(port.to_string())
        .arg(GCS_BUCKET)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the GCS emulator");
    wait_listening(port, &mut child, "the GCS emulator");
    Some(Emulator {
        endpoint: format!("http://127.0.0.1:{port}"),
        child,
        _dir: dir,
    })
}

/// Azurite's blob service, its endpoint the path-style account URL
/// (`http://127.0.0.1:{port}/devstoreaccount1`), or `None` (skip) when not installed.
pub fn start_azurite() -> Option<Emulator> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/azurite/node_modules/.bin/azurite-blob");
    if !bin.exists() {
        missing("Azurite", "cd tests/azurite && npm ci");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort"])
        .arg(port.to_string())
        .args([
            "--inMemoryPersistence",
            "--extentMemoryLimit",
            "256",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start Azurite");
    wait_listening(port, &mut child, "Azurite");
    Some(Emulator {
        endpoint: format!("http://127.0.0.1:{port}/{AZURE_ACCOUNT}"),
        child,
        _dir: dir,
    })
}

/// Creates a container in Azurite (object_store writes blobs, it does not create containers):
/// one Shared Key signed `PUT ?restype=container`.
pub async fn create_container(azurite: &Emulator, container: &str) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let version = "2021-08-06";
    // Path-style URLs put the account in the path, and the canonical resource repeats it.
    let resource = format!("/{AZURE_ACCOUNT}/{AZURE_ACCOUNT}/{container}");
    let to_sign = format!(
        "PUT\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}\nrestype:container"
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&b64.decode(AZURE_KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    let signature = b64.encode(mac.finalize().into_bytes());
    let r = reqwest::Client::new()
        .put(format!(
            "{}/{container}?restype=container",
            azurite.endpoint
        ))
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", "0")
        .header("x-ms-date", date)
        .header("x-ms-version", version)
        .header(
            "Authorization",
            format!("SharedKey {AZURE_ACCOUNT}:{signature}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}
