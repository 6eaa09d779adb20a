//! The `outflow` binary's administrative commands, run as a user would.

use crate::helpers::*;
use std::process::Command;

fn outflow(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_outflow"))
        .args(args)
        .env("OUTFLOW_DATA_DIR", data_dir)
        .env_remove("OUTFLOW_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn keys_create_prints_the_secret_once_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = outflow(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));
    let (ok, _, err) = outflow(
        dir.path(),
        &[
            "orgs",
            "put",
            "--id",
            "acme",
            "--name",
            "Acme",
            "--timezone",
            "Europe/Berlin",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = outflow(
        dir.path(),
        &[
            "keys",
            "create",
            "--org",
            "acme",
            "--scope",
            "usage_export,drains",
            "--name",
            "finance",
        ],
    );
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .to_string();
    assert!(secret.starts_with("ofk_"));

    let db = std::fs::read(dir.path().join("outflow.db")).unwrap();
    let needle = secret.as_bytes();
    assert!(
        !db.windows(needle.len()).any(|w| w == needle),
        "the secret is not stored"
    );
    let (ok, listed, _) = outflow(dir.path(), &["keys", "list", "--org", "acme"]);
    assert!(ok && listed.contains("usage_export,drains") && !listed.contains(&secret));

    let (ok, _, err) = outflow(
        dir.path(),
        &["keys", "create", "--org", "acme", "--scope", "everything"],
    );
    assert!(
        !ok && err.contains("allowed: usage_export, drains, admin"),
        "{err}"
    );
    let (ok, _, err) = outflow(
        dir.path(),
        &["keys", "create", "--org", "nope", "--scope", "admin"],
    );
    assert!(!ok && err.contains("`nope`"), "{err}");

    // The key works against a server on the same data directory.
    let store = outflow::store::Store::connect(
        &format!("sqlite://{}", dir.path().join("outflow.db").display()),
        2,
    )
    .await
    .unwrap();
    let key = store
        .find_org_key(&outflow::auth::keys::hash_secret(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.org_id, "acme");
    let audit = read_all(&store, outflow::domain::DataType::AuditLogs, "acme").await;
    assert_eq!(audit.len(), 1, "key creation is audited");
}

#[test]
fn bad_configuration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_outflow"))
        .args(["migrate"])
        .env("OUTFLOW_DATA_DIR", dir.path())
        .env("OUTFLOW_DATABASE_URL", "mysql://localhost/x")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("unsupported database URL scheme") && err.contains("postgres://"),
        "{err}"
    );
}

/// `outflow export` against the configured database: the file, plain progress output when
/// stderr is not a terminal, and errors that name the flag.
#[tokio::test]
async fn export_writes_the_file_and_reports_plainly() {
    let app = spawn_app(Backend::Sqlite).await;
    app.put_org("acme").await;
    let runs: Vec<serde_json::Value> = (0..5)
        .map(|i| run_record("acme", &format!("r{i}")))
        .collect();
    app.ingest_ok("workflows", &serde_json::json!(runs)).await;
    let dir = app._db.dir.path().to_path_buf();
    let out_file = dir.join("runs.csv");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_outflow"))
            .args(args)
            .env("OUTFLOW_DATA_DIR", &dir)
            .env("OUTFLOW_DATABASE_URL", &app._db.url)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let out_arg = out_file.to_str().unwrap();
    let (ok, err) = run(&[
        "export",
        "--type",
        "workflows",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--tz",
        "Europe/Berlin",
        "--fields",
        "run_id,user_email,pl_run_created_ts",
        "-o",
        out_arg,
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("exported 5 rows"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no terminal escapes when not on a terminal: {err}"
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["run_id", "user_email", "pl_run_created_ts"]
    );
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids.len(), 5);

    let (ok, err) = run(&[
        "export",
        "--type",
        "workflows",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--fields",
        "run_id,colour",
        "-o",
        out_arg,
    ]);
    assert!(!ok);
    assert!(err.contains("--fields") && err.contains("colour"), "{err}");
    let (ok, err) = run(&[
        "export",
        "--type",
        "workflows",
        "--from",
        "2026-03-01",
        "--to",
        "2026-02-01",
        "-o",
        out_arg,
    ]);
    assert!(!ok);
    assert!(err.contains("--to"), "{err}");
}
