//! The first commands a new user types, run as child processes: `outflow demo` on PostgreSQL
//! into a data directory that does not exist yet, and the commands that read stored data when
//! no database was pointed at (they must say so instead of creating an empty one).

use crate::helpers::*;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Seeding the demo's ≈230,000 records takes a while in a debug build on two busy cores.
const DEMO_DEADLINE: Duration = Duration::from_secs(600);

/// `outflow ARGS` in `cwd`, with no configuration from the environment.
fn outflow(cwd: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_outflow"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("OUTFLOW_DATA_DIR")
        .env_remove("OUTFLOW_DATABASE_URL")
        .env_remove("OUTFLOW_CONFIG")
        .env("OUTFLOW_LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_postgres_creates_its_data_directory() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let data_dir = db.dir.path().join("not/yet/there");
    let mut child = outflow(
        db.dir.path(),
        &[
            "demo",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--database-url",
            &db.url,
            "--listen",
            "127.0.0.1:0",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let ready = tokio::time::timeout(DEMO_DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.starts_with("admin_password: ");
            printed.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or_else(|_| panic!("the demo did not start within {DEMO_DEADLINE:?}"));
    if !ready {
        let out = child.wait_with_output().await.unwrap();
        panic!(
            "the demo exited ({}) after printing {printed:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let api_key = printed
        .iter()
        .find_map(|l| l.strip_prefix("api_key: "))
        .expect("an api_key line")
        .to_string();
    let url = printed
        .iter()
        .find_map(|l| l.strip_prefix("url: "))
        .expect("a url line")
        .to_string();
    let org = printed
        .iter()
        .find_map(|l| l.strip_prefix("org_id: "))
        .expect("an org_id line")
        .to_string();
    let key_file = data_dir.join("demo.key");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), api_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "demo.key is readable by its owner only"
        );
    }
    // The server it started answers with that key.
    let r = reqwest::Client::new()
        .get(format!("{url}/v1/orgs/{org}"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    child.kill().await.unwrap();
}

/// Runs `outflow ARGS` in a fresh empty directory; (that directory, success, stderr).
async fn run_in_empty_dir(args: &[&str]) -> (tempfile::TempDir, bool, String) {
    let cwd = tempfile::tempdir().unwrap();
    let out = outflow(cwd.path(), args).output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (cwd, out.status.success(), err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_read_data_name_the_missing_database_instead_of_creating_one() {
    for args in [
        &["export", "--type", "workflows", "-o", "out.csv"][..],
        &["keys", "list", "--org", "acme"],
        &["orgs", "list"],
    ] {
        let (cwd, ok, err) = run_in_empty_dir(args).await;
        assert!(!ok, "{args:?} fails");
        assert!(
            err.contains("--data-dir") && err.contains("--database-url"),
            "{args:?}: points at the flags: {err}"
        );
        assert!(
            err.contains("outflow-data"),
            "{args:?}: names where it looked: {err}"
        );
        assert!(
            !err.contains("no organization"),
            "{args:?}: not a misleading 'no organization': {err}"
        );
        assert!(
            !cwd.path().join("outflow-data").exists(),
            "{args:?}: no empty database left behind"
        );
        assert!(!cwd.path().join("out.csv").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_an_empty_postgres_database_says_how_to_add_an_organization() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let (cwd, ok, err) = run_in_empty_dir(&[
        "export",
        "--database-url",
        &db.url,
        "--type",
        "workflows",
        "-o",
        "out.csv",
    ])
    .await;
    assert!(!ok);
    assert!(
        err.contains("orgs put") && err.contains("--database-url"),
        "{err}"
    );
    assert!(!cwd.path().join("outflow-data").exists());
}
