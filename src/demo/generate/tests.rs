//! Tests of the generated organization and records as a whole: consistency, realism,
//! determinism, the catalog, references between streams and the credit balance.

use super::calendar::window_start;
use super::facts::{MONTHLY_ALLOTMENT, PLATFORM_FEE};
use super::random::round4;
use super::{DemoOrg, organization, records};
use crate::domain::DataType;
use crate::domain::FieldType;
use crate::domain::catalog::spec;
use crate::domain::entity::Role;
use crate::domain::time::parse_timestamp;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

const SEED: u64 = 42;

fn now() -> DateTime<Utc> {
    "2026-03-10T15:30:00.250Z".parse().unwrap()
}

fn all(org: &DemoOrg, dt: DataType) -> impl Iterator<Item = Value> {
    records(org, dt, 1, now(), SEED)
}

fn time(v: &Value, field: &str) -> DateTime<Utc> {
    parse_timestamp(v[field].as_str().unwrap()).unwrap()
}

#[test]
fn organization_has_realistic_entities() {
    let org = organization(1, now(), SEED);
    let floor = window_start(now());
    assert!(org.teams.len() >= 8);
    assert!(org.members.len() >= 100);
    assert!(org.custom_roles.len() >= 4);
    assert!(org.workbooks.len() >= 60);
    assert!(org.world.agents.len() >= 30);
    assert_eq!(org.admin_user_id, org.members[0].0);
    assert_eq!(org.members[0].1.role, Some(Role::Admin));
    assert!(
        org.members
            .iter()
            .filter(|m| m.1.role == Some(Role::Admin))
            .count()
            >= 3
    );
    let emails: HashSet<_> = org.members.iter().map(|m| m.1.email.clone()).collect();
    assert_eq!(emails.len(), org.members.len());
    for (mid, m) in &org.members {
        assert_eq!(
            m.personal_team_id.as_ref().unwrap().as_str(),
            format!("personal-{mid}")
        );
        assert!(m.custom_role_ids.as_ref().unwrap().len() <= 2);
        assert!(m.joined_at >= floor && m.joined_at <= now());
        assert!(m.email.ends_with("@acme.example"));
    }
    let teams: HashSet<_> = org.teams.iter().map(|t| t.0.to_string()).collect();
    let personal = org
        .workbooks
        .iter()
        .filter(|b| {
            b.1.team_id
                .clone()
                .flatten()
                .unwrap()
                .as_str()
                .starts_with("personal-")
        })
        .count();
    assert!(personal >= 10);
    let in_teams = org
        .workbooks
        .iter()
        .filter(|b| teams.contains(b.1.team_id.clone().flatten().unwrap().as_str()))
        .count();
    assert_eq!(personal + in_teams, org.workbooks.len());
    assert!(org.workbooks.iter().all(|b| {
        b.1.created_at
            .flatten()
            .is_some_and(|t| t >= floor && t <= now())
    }));
    assert!(org.api_keys.iter().all(|k| {
        k.1.created_at
            .flatten()
            .is_some_and(|t| t >= floor && t <= now())
    }));
    assert!(
        org.world
            .agents
            .iter()
            .all(|a| (1..=4).contains(&a.versions.len()))
    );
    crate::domain::entity::validate_org(&org.org).unwrap();
}

fn digest(org: &DemoOrg) -> Vec<(u64, usize)> {
    DataType::ALL
        .iter()
        .map(|dt| {
            let mut h = DefaultHasher::new();
            let mut n = 0;
            for v in all(org, *dt) {
                v.to_string().hash(&mut h);
                n += 1;
            }
            (h.finish(), n)
        })
        .collect()
}

#[test]
fn same_inputs_give_the_same_output() {
    let a = organization(1, now(), SEED);
    let b = organization(1, now(), SEED);
    assert_eq!(
        serde_json::to_string(&a.members).unwrap(),
        serde_json::to_string(&b.members).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&a.workbooks).unwrap(),
        serde_json::to_string(&b.workbooks).unwrap()
    );
    assert_eq!(digest(&a), digest(&b));
    let other = organization(1, now(), SEED + 1);
    let first = |o: &DemoOrg| records(o, DataType::Workflows, 1, now(), o.world.seed).nth(100);
    assert_ne!(first(&a), first(&other));
}

/// Pins the generated data to a fixed hash, so that refactoring the generator cannot change
/// what it produces unnoticed. A deliberate change to the demo data updates the hash.
#[test]
fn output_is_pinned() {
    use sha2::{Digest, Sha256};
    let org = organization(1, now(), SEED);
    let mut h = Sha256::new();
    let entities = json!([
        org.org_id.to_string(),
        org.org,
        org.custom_roles,
        org.teams,
        org.members,
        org.workbooks,
        org.api_keys,
        org.admin_user_id.to_string(),
    ]);
    h.update(entities.to_string());
    for dt in DataType::ALL {
        for v in all(&org, dt) {
            h.update(v.to_string());
            h.update(b"\n");
        }
    }
    assert_eq!(
        hex::encode(h.finalize()),
        "7d6971d2b4aa1326b1dce34a3955755022508e237d1d871860b1cbe42b706367"
    );
}

/// Type, required-field and window checks of one record against the catalog.
fn check_fields(dt: DataType, v: &Value, floor: DateTime<Utc>) {
    let s = spec(dt);
    let obj = v.as_object().unwrap();
    assert!(obj["org_id"].is_string());
    for (key, value) in obj.iter().filter(|(k, _)| *k != "org_id") {
        let f = s
            .field(key)
            .unwrap_or_else(|| panic!("{dt}: unknown field {key}"));
        let ok = match f.ty {
            FieldType::Text => value.is_string(),
            FieldType::Number => value.is_number(),
            FieldType::Integer => value.is_i64() || value.is_u64(),
            FieldType::Boolean => value.is_boolean(),
            FieldType::Json => true,
            FieldType::Enum(values) => values.iter().any(|(i, _)| Some(*i) == value.as_str()),
            FieldType::Timestamp => {
                let t = time(v, key);
                t >= floor && t <= now()
            }
        };
        assert!(ok, "{dt}.{key} = {value}");
    }
    for f in s.fields.iter().filter(|f| f.required) {
        assert!(obj.contains_key(f.id), "{dt}: missing {}", f.id);
    }
    assert!(!obj.contains_key("agent_version"));
}

#[test]
fn records_fit_the_catalog_window_and_order() {
    let org = organization(1, now(), SEED);
    let floor = window_start(now());
    let mut ids: HashMap<DataType, HashSet<String>> = HashMap::new();
    let mut total = 0;
    for dt in DataType::ALL {
        let s = spec(dt);
        let mut last: Option<DateTime<Utc>> = None;
        let mut n = 0;
        for v in all(&org, dt) {
            check_fields(dt, &v, floor);
            let order_field = if dt == DataType::Agents {
                "agent_updated_ts"
            } else {
                s.time_field
            };
            let t = time(&v, order_field);
            assert!(last.is_none_or(|l| l <= t), "{dt} out of order at {v}");
            last = Some(t);
            let mut key = v[s.id_field].as_str().unwrap().to_string();
            if dt == DataType::Agents {
                key.push_str(v["agent_updated_ts"].as_str().unwrap());
            }
            assert!(
                ids.entry(dt).or_default().insert(key),
                "{dt}: duplicate id in {v}"
            );
            n += 1;
        }
        println!("{dt}: {n}");
        total += n;
    }
    println!("total: {total}");
    assert!(total >= 210_000, "{total} records");
    assert!(ids[&DataType::Agents].len() >= 60);
    check_references(&org, &ids);
}

/// Credit rows and tool calls point at runs, sessions and agents that exist.
fn check_references(org: &DemoOrg, ids: &HashMap<DataType, HashSet<String>>) {
    let agents: HashSet<String> = org.world.agents.iter().map(|a| a.id.clone()).collect();
    for v in all(org, DataType::CreditLogs) {
        let Some(corr) = v["correlation_id"].as_str() else {
            continue;
        };
        let target = match v["category"].as_str().unwrap() {
            "pipeline_run" => DataType::Workflows,
            "agent_run" => DataType::AgentInteractions,
            _ => DataType::ToolCalls,
        };
        assert!(ids[&target].contains(corr), "dangling {v}");
    }
    for v in all(org, DataType::ToolCalls) {
        if let Some(a) = v["agent_id"].as_str() {
            assert!(agents.contains(a));
            assert_eq!(v["source"], "agent");
        }
    }
    for v in all(org, DataType::AgentInteractions) {
        assert!(agents.contains(v["agent_id"].as_str().unwrap()));
        assert_eq!(v["api_key_id"].is_string(), v["interaction_type"] == "api");
        assert_eq!(
            v["trigger_type"].is_string(),
            v["interaction_type"] == "triggered"
        );
        let parts = ["llm_credit_cost", "tool_credit_cost", "flow_credit_cost"]
            .map(|f| v[f].as_f64().unwrap());
        let fee = v["credit_cost"].as_f64().unwrap() - parts.iter().sum::<f64>();
        assert!((-1e-3..=PLATFORM_FEE + 1e-3).contains(&fee), "{v}");
    }
}

#[test]
fn child_runs_reference_earlier_parents() {
    let org = organization(1, now(), SEED);
    let (mut seen, mut tops, mut children) = (HashMap::new(), 0, 0);
    for v in all(&org, DataType::Workflows) {
        let created = time(&v, "pl_run_created_ts");
        if let Some(parent) = v["parent_run_id"].as_str() {
            let parent_created: &DateTime<Utc> = seen.get(parent).expect("parent emitted first");
            assert!(*parent_created <= created);
            children += 1;
        } else {
            tops += 1;
        }
        if v["pl_run_finished_ts"].is_string() {
            assert!(time(&v, "pl_run_finished_ts") >= created);
        } else {
            assert_eq!(v["run_status"], "running");
        }
        seen.insert(v["run_id"].as_str().unwrap().to_string(), created);
    }
    let share = f64::from(children) / f64::from(tops);
    assert!(
        (0.1..0.35).contains(&share),
        "{children} children for {tops} runs"
    );
}

#[test]
fn credit_balances_are_running_sums() {
    let org = organization(1, now(), SEED);
    let mut balance: Option<f64> = None;
    let (mut resets, mut categories) = (0, HashSet::new());
    let mut low = f64::MAX;
    for v in all(&org, DataType::CreditLogs) {
        let b = v["balance"].as_f64().unwrap();
        let category = v["category"].as_str().unwrap().to_string();
        match v["amount"].as_f64() {
            Some(a) => {
                let prev = balance.expect("the ledger starts with a reset");
                assert!((prev + a - b).abs() < 1e-6, "{prev} + {a} != {b}");
                let usage = crate::domain::credit::USAGE_CATEGORIES.contains(&category.as_str());
                assert_eq!(a < 0.0, usage, "{v}");
                assert_eq!(round4(a), a);
            }
            None => {
                assert_eq!(category, "credit_limit_reset");
                assert_eq!(b, MONTHLY_ALLOTMENT);
                resets += 1;
            }
        }
        low = low.min(b);
        balance = Some(b);
        categories.insert(category);
    }
    println!("lowest balance: {low}, categories: {categories:?}");
    assert!(resets >= 13, "{resets} resets");
    assert!(categories.len() >= 8, "{categories:?}");
}
