//! `outflow demo`: seed one realistic organization (once) and serve it.
//!
//! The records go through the same validation as ingest, so the demo data is exactly what a
//! platform could have sent.

pub mod generate;

use crate::app::App;
use crate::audit::Actor;
use crate::auth::keys::{create_org_key, hash_secret};
use crate::config::Config;
use crate::domain::DataType;
use crate::ingest::{self, MAX_RECORDS_PER_CALL};
use crate::store::{Scope, Store};
use anyhow::{Context, bail};
use chrono::Utc;
use std::path::Path;
use std::time::Instant;

/// Seed of the demo's random data: the same demo every time.
pub const SEED: u64 = 20_261_122;

/// What seeding produced.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The demo organization.
    pub org_id: String,
    /// An admin member of it.
    pub admin_user_id: String,
    /// Records stored per data type.
    pub counts: Vec<(DataType, i64)>,
    /// False when the organization already existed and was reused.
    pub created: bool,
}

/// Seeds the demo organization unless it exists.
pub async fn seed(store: &Store, scale: u32) -> anyhow::Result<Seeded> {
    let now = Utc::now();
    let org = generate::organization(scale.max(1), now, SEED);
    let org_id = org.org_id.to_string();
    let created = store.get_org(&org_id).await?.is_none();
    if created {
        seed_entities(store, &org).await?;
        for dt in DataType::ALL {
            seed_records(store, &org, dt, scale.max(1), now).await?;
        }
    }
    let mut counts = Vec::new();
    for dt in DataType::ALL {
        counts.push((dt, store.count_records(dt, &org_id).await?));
    }
    Ok(Seeded {
        org_id,
        admin_user_id: org.admin_user_id.to_string(),
        counts,
        created,
    })
}

async fn seed_entities(store: &Store, org: &generate::DemoOrg) -> anyhow::Result<()> {
    let id = org.org_id.as_str();
    store.upsert_org(&org.org_id, &org.org).await?;
    for (rid, r) in &org.custom_roles {
        store.upsert_custom_role(id, rid, r).await?;
    }
    for (tid, t) in &org.teams {
        store.upsert_team(id, tid, t).await?;
    }
    for (mid, m) in &org.members {
        store.upsert_member(id, mid, m).await?;
    }
    for (wid, w) in &org.workbooks {
        store.upsert_workbook(id, wid, w).await?;
    }
    for (kid, k) in &org.api_keys {
        store.upsert_api_key(id, kid, k).await?;
    }
    Ok(())
}

async fn seed_records(
    store: &Store,
    org: &generate::DemoOrg,
    dt: DataType,
    scale: u32,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut values = generate::records(org, dt, scale, now, SEED).peekable();
    while values.peek().is_some() {
        let chunk: Vec<_> = values.by_ref().take(MAX_RECORDS_PER_CALL).collect();
        let (batch, rejected, _) = ingest::validate(dt, chunk);
        if let Some(r) = rejected.first() {
            bail!(
                "demo generator produced an invalid {dt} record: {}",
                r.error
            );
        }
        store.insert_records(&batch).await?;
    }
    Ok(())
}

/// The demo's organization key: reused from `{data_dir}/demo.key` while it is valid.
async fn demo_key(store: &Store, data_dir: &Path, org: &str) -> anyhow::Result<String> {
    let path = data_dir.join("demo.key");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_string();
        if store
            .find_org_key(&hash_secret(&secret))
            .await?
            .is_some_and(|k| k.org_id == org)
        {
            return Ok(secret);
        }
    }
    let scopes = vec![Scope::UsageExport, Scope::Drains, Scope::Admin];
    let (_, secret) = create_org_key(store, org, "demo", scopes, &Actor::cli()).await?;
    crate::auth::keys::write_private_file(&path, &secret)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

/// The demo organization's admin (its admin member's email) and a password that signs in:
/// reused from `{data_dir}/demo-admin.password` while it still works, else a new one.
async fn demo_admin(
    store: &Store,
    data_dir: &Path,
    seeded: &Seeded,
) -> anyhow::Result<(String, String)> {
    let email = store
        .member_email(&seeded.org_id, &seeded.admin_user_id)
        .await?
        .as_deref()
        .map(crate::web::auth::normalize_email)
        .context("the demo organization has no admin member")?;
    let path = data_dir.join("demo-admin.password");
    let saved = std::fs::read_to_string(&path).ok();
    let password = crate::web::auth::ensure_admin_password(
        store,
        &seeded.org_id,
        &email,
        saved.as_deref().map(str::trim),
    )
    .await?;
    if saved.as_deref().map(str::trim) != Some(password.as_str()) {
        crate::auth::keys::write_private_file(&path, &password)
            .context("cannot write demo-admin.password")?;
    }
    Ok((email, password))
}

/// `outflow demo`: seed, print how to reach it, serve until SIGINT/SIGTERM.
pub async fn run(config: Config, scale: u32) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    // The demo keeps its key and admin password there whatever the database is (`serve`
    // creates it too, for the ingest key): create it before seeding, not after.
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let store = crate::app::open_store(&config).await?;
    let started = Instant::now();
    let seeded = seed(&store, scale).await?;
    let total: i64 = seeded.counts.iter().map(|(_, n)| n).sum();
    if seeded.created {
        eprintln!(
            "seeded {total} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!("reusing the existing demo organization ({total} records)");
    }
    let api_key = demo_key(&store, &data_dir, &seeded.org_id).await?;
    let (admin_email, admin_password) = demo_admin(&store, &data_dir, &seeded).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let app = App::with_parts(config, store, listener)?;
    println!("url: http://{}", app.local_addr());
    println!("org_id: {}", seeded.org_id);
    println!("user_id: {}", seeded.admin_user_id);
    println!("api_key: {api_key}");
    println!("ingest_key: {}", app.ingest_key());
    println!(
        "admin_url: http://{}/settings/organization/data_export",
        app.local_addr()
    );
    println!("admin_email: {admin_email}");
    println!("admin_password: {admin_password}");
    app.run(crate::app::shutdown_signal()).await
}
