//! The bodies of the subcommands (`serve`, `keys`, `orgs`, `export` in `export.rs` and
//! `verify` in `verify.rs`): thin wrappers over the library that print for a terminal.

pub mod export;
pub mod sso;
pub mod verify;

use crate::app::{self, App};
use crate::audit::Actor;
use crate::auth::keys::create_org_key;
use crate::cli::OrgsCommand;
use crate::config::Config;
use crate::domain::Id;
use crate::domain::entity::{OrgInput, validate_org};
use crate::store::{Scope, Store};
use anyhow::{Context, bail};

/// `outflow serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    println!("url: http://{}", app.local_addr());
    tracing::info!(addr = %app.local_addr(), backend = ?app.store().kind(), "serving");
    app.run(app::shutdown_signal()).await
}

async fn org_store(config: &Config, org: &str) -> anyhow::Result<Store> {
    let store = app::open_existing_store(config).await?;
    if store.get_org(org).await?.is_none() {
        bail!("organization `{org}` does not exist (see `outflow orgs list`)");
    }
    Ok(store)
}

/// `outflow keys create`.
pub async fn keys_create(
    config: &Config,
    org: &str,
    scope: &str,
    name: &str,
) -> anyhow::Result<()> {
    let scopes = Scope::parse_list(scope).map_err(anyhow::Error::msg)?;
    let store = org_store(config, org).await?;
    let (key, secret) = create_org_key(&store, org, name, scopes, &Actor::cli()).await?;
    println!("key_id: {}", key.id);
    println!("scopes: {}", Scope::join(&key.scopes));
    println!("secret: {secret}");
    eprintln!("The secret is shown only now; Outflow stores only its hash.");
    Ok(())
}

/// `outflow keys list`.
pub async fn keys_list(config: &Config, org: &str) -> anyhow::Result<()> {
    let store = org_store(config, org).await?;
    for k in store.list_org_keys(org).await? {
        let state = if k.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!(
            "{}\t{}…\t{}\t{}\t{}",
            k.id,
            k.prefix,
            Scope::join(&k.scopes),
            state,
            k.name
        );
    }
    Ok(())
}

/// `outflow keys revoke`.
pub async fn keys_revoke(config: &Config, org: &str, id: &str) -> anyhow::Result<()> {
    let store = org_store(config, org).await?;
    let audit = crate::audit::event(
        org,
        crate::audit::events::ORG_KEY_REVOKED,
        &Actor::cli(),
        Some(id),
        serde_json::json!({"key_id": id}),
    );
    if !store.revoke_org_key(org, id, &audit).await? {
        bail!("no active key `{id}` in organization `{org}`");
    }
    println!("revoked {id}");
    Ok(())
}

/// `outflow orgs list`.
pub async fn orgs_list(config: &Config) -> anyhow::Result<()> {
    let store = app::open_existing_store(config).await?;
    let orgs = store.list_orgs().await?;
    if orgs.is_empty() {
        eprintln!("{}", crate::app::NO_ORGANIZATION);
    }
    for o in orgs {
        println!(
            "{}\t{}\t{}\tanchor day {}\t{}",
            o.id,
            o.name,
            o.timezone,
            o.billing_anchor_day,
            o.privacy.as_str()
        );
    }
    Ok(())
}

/// `outflow orgs put`.
pub async fn orgs_put(config: &Config, cmd: OrgsCommand) -> anyhow::Result<()> {
    let OrgsCommand::Put {
        id,
        name,
        timezone,
        billing_anchor_day,
        privacy,
    } = cmd
    else {
        unreachable!("dispatched on Put");
    };
    let id = Id::parse(&id).with_context(|| format!("invalid organization id `{id}`"))?;
    let input = OrgInput {
        name,
        billing_anchor_day,
        timezone,
        privacy: privacy
            .map(|p| p.parse())
            .transpose()
            .map_err(anyhow::Error::msg)?,
    };
    validate_org(&input).map_err(anyhow::Error::msg)?;
    let store = app::open_store(config).await?;
    let org = store.upsert_org(&id, &input).await?;
    println!("org_id: {}", org.id);
    Ok(())
}

/// `outflow orgs add-admin`.
pub async fn orgs_add_admin(
    config: &Config,
    org: &str,
    email: &str,
    role: Option<crate::domain::role::Role>,
) -> anyhow::Result<()> {
    let store = org_store(config, org).await?;
    let password = crate::web::auth::add_admin_with_role(&store, org, email, role).await?;
    let email = crate::web::auth::normalize_email(email);
    let role = crate::store::admin::admin_by_email(&store, &email)
        .await?
        .map(|a| a.role.as_str());
    println!("admin_email: {email}");
    println!("admin_role: {}", role.unwrap_or("admin"));
    println!("admin_password: {password}");
    eprintln!("The password is shown only now; Outflow stores only its argon2id hash.");
    Ok(())
}
