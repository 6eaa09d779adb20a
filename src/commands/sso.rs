//! `outflow orgs sso set|show|off`: an organization's OpenID Connect provider. The client
//! secret is sealed before it is stored and never printed.

use crate::audit::Actor;
use crate::cli::{SsoCommand, SsoSetArgs};
use crate::config::Config;
use crate::domain::role::Role;
use crate::sso::{Sso, SsoConfig, SsoInput};
use anyhow::bail;
use std::collections::BTreeMap;

/// Runs an `orgs sso` subcommand.
pub async fn run(config: &Config, cmd: SsoCommand) -> anyhow::Result<()> {
    let org = match &cmd {
        SsoCommand::Set(a) => a.org.clone(),
        SsoCommand::Show { org } | SsoCommand::Off { org } => org.clone(),
    };
    let store = super::org_store(config, &org).await?;
    let sso = Sso::load(store, config)?;
    match cmd {
        SsoCommand::Set(args) => {
            let input = input(args)?;
            let c = sso.set(&org, input, &Actor::cli()).await?;
            print(&c);
        }
        SsoCommand::Show { .. } => match sso.get(&org).await? {
            Some(c) => print(&c),
            None => println!("sso: off"),
        },
        SsoCommand::Off { .. } => {
            if sso.off(&org, &Actor::cli()).await? {
                println!("sso: off");
            } else {
                println!("sso: was not configured");
            }
        }
    }
    Ok(())
}

fn input(a: SsoSetArgs) -> anyhow::Result<SsoInput> {
    let mut role_map = BTreeMap::new();
    for pair in &a.role_map {
        let Some((value, role)) = pair.split_once('=') else {
            bail!("--role-map takes VALUE=ROLE (e.g. `outflow-admins=admin`), not `{pair}`");
        };
        let role = Role::parse(role.trim()).map_err(anyhow::Error::msg)?;
        role_map.insert(value.trim().to_string(), role);
    }
    Ok(SsoInput {
        issuer: a.issuer,
        client_id: a.client_id,
        client_secret: a.client_secret,
        allowed_domains: a.allowed_domains,
        role_claim: a.role_claim,
        role_map,
        default_role: a.default_role,
        require_sso: a.require_sso,
        break_glass_email: a.break_glass_email,
    })
}

fn print(c: &SsoConfig) {
    println!("sso: on");
    println!("issuer: {}", c.issuer);
    println!("client_id: {}", c.client_id);
    println!("client_secret: (stored encrypted; not shown)");
    println!("allowed_domains: {}", c.allowed_domains.join(","));
    println!("role_claim: {}", c.role_claim.as_deref().unwrap_or("-"));
    for (value, role) in &c.role_map {
        println!("role_map: {value}={}", role.as_str());
    }
    println!("default_role: {}", c.default_role.as_str());
    println!("require_sso: {}", c.require_sso);
    println!(
        "break_glass_email: {}",
        c.break_glass_email.as_deref().unwrap_or("-")
    );
}
