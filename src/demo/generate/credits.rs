//! Credit ledger: charges for runs, sessions and tool calls, monthly resets, grants and other
//! charges, with a running balance.

use super::calendar::business_time;
use super::facts::{BILLING_ANCHOR_DAY, ROLES, S_MISC};
use super::interactions::day_chats;
use super::merge::Ordered;
use super::random::{lognormal, pick, poisson, rng_for, round4};
use super::runs::day_runs;
use super::tool_calls::external_calls;
use super::ts;
use super::world::World;
use chrono::{DateTime, Datelike, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug)]
struct Charge {
    category: &'static str,
    pub(super) kind: Option<&'static str>,
    pub(super) user: Option<usize>,
    pub(super) name: Option<String>,
    /// Signed credits; `None` for a reset to the monthly allotment.
    amount: Option<f64>,
    correlation: Option<String>,
    /// Space the charge is attributed to.
    project: Option<usize>,
}

impl Charge {
    fn usage(
        category: &'static str,
        kind: &'static str,
        user: usize,
        name: String,
        credits: f64,
    ) -> Charge {
        Charge {
            category,
            kind: Some(kind),
            user: Some(user),
            name: Some(name),
            amount: Some(-round4(credits)),
            correlation: None,
            project: None,
        }
    }
}

/// The ledger in time order with its organization-wide running balance.
pub(super) fn ledger(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let items = Ordered::new(Arc::clone(&w), charge_items);
    let (mut balance, mut n) = (0.0, 0u64);
    Box::new(items.map(move |(at, c)| {
        balance = match c.amount {
            Some(a) => round4(balance + a),
            None => w.allotment,
        };
        n += 1;
        charge_json(&w, at, &c, balance, n)
    }))
}

fn charge_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Charge)> {
    let mut out = Vec::new();
    reset(w, d, &mut out);
    for run in day_runs(w, d) {
        let b = &w.workbooks[run.wb];
        for &(at, kind, credits) in &run.charges {
            let mut c = Charge::usage("pipeline_run", kind, run.user, b.tpl.name.into(), credits);
            c.correlation = Some(run.id.clone());
            c.project = Some(b.space);
            out.push((at, c));
        }
    }
    for chat in day_chats(w, d) {
        let agent = &w.agents[chat.agent];
        for &(at, kind, credits) in &chat.charges {
            let mut c = Charge::usage("agent_run", kind, chat.user, agent.tpl.name.into(), credits);
            c.correlation = Some(chat.id.clone());
            c.project = Some(agent.space);
            out.push((at, c));
        }
    }
    for call in external_calls(w, d)
        .into_iter()
        .filter(|c| c.status == "success")
    {
        let (kind, credits) = if call.server.hosted {
            ("gumcp_tool_call", 0.25)
        } else {
            ("gumstack_tool_call", 0.5)
        };
        let name = format!("{}.{}", call.server.id, call.tool);
        let mut c = Charge::usage("external_gumcp_call", kind, call.caller.user, name, credits);
        c.correlation = Some(call.id);
        c.project = Some(call.caller.space);
        out.push((call.at, c));
    }
    misc_charges(w, d, &mut out);
    grants(w, d, &mut out);
    out
}

/// The balance starts at the allotment when the organization is created and returns to it at
/// every billing-period start.
fn reset(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let at = if d == 0 {
        w.created
    } else if day.date.day() == BILLING_ANCHOR_DAY {
        day.start
    } else {
        return;
    };
    if at <= w.now {
        let c = Charge {
            category: "credit_limit_reset",
            kind: None,
            user: None,
            name: Some("Monthly credit allotment".into()),
            amount: None,
            correlation: None,
            project: None,
        };
        out.push((at, c));
    }
}

/// Usage outside runs and chats: AI utilities, the company brain, custom-node development.
fn misc_charges(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_MISC, d as u64);
    let scale = f64::from(w.scale);
    // The company brain was switched on a month in and re-indexes nightly.
    if d >= 30 {
        let at = day.start
            + Duration::hours(2)
            + Duration::microseconds(rng.random_range(0..1_200_000_000));
        let mut c = Charge::usage(
            "company_brain",
            "brain_indexing",
            0,
            "Company Brain nightly sync".into(),
            lognormal(&mut rng, 18.0 * scale, 0.4),
        );
        c.user = None;
        out.push((at, c));
    }
    let kinds: [(&str, &str, &str, f64, f64); 4] = [
        (
            "company_brain",
            "brain_query",
            "Company Brain search",
            6.0,
            0.35,
        ),
        (
            "ai_utility",
            "image_generation",
            "Image generation",
            2.5,
            2.0,
        ),
        (
            "ai_utility",
            "transcription",
            "Audio transcription",
            4.0,
            1.2,
        ),
        (
            "custom_node_rd",
            "test_run",
            "Custom node test run",
            1.0,
            0.8,
        ),
    ];
    for (category, kind, name, per_day, median) in kinds {
        if d < 30 && category == "company_brain" {
            continue;
        }
        for _ in 0..poisson(&mut rng, per_day * day.weight * scale) {
            let at = business_time(&mut rng, day);
            let credits = lognormal(&mut rng, median, 0.45);
            let Some(user) = w.active_member(&mut rng, at).filter(|_| at <= w.now) else {
                continue;
            };
            let mut c = Charge::usage(category, kind, user, name.into(), credits);
            c.project = Some(w.members[user].team);
            out.push((at, c));
        }
    }
}

/// Onboarding-checklist gifts in the first weeks and occasional top-ups by an admin.
fn grants(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_MISC, 1_000_000 + d as u64);
    let scale = f64::from(w.scale);
    let mut grant =
        |rng: &mut StdRng, category: &'static str, name: &str, amount: f64, user: Option<usize>| {
            let at = business_time(rng, day);
            if at >= w.created && at <= w.now {
                let c = Charge {
                    category,
                    kind: None,
                    user,
                    name: Some(name.into()),
                    amount: Some(amount),
                    correlation: None,
                    project: None,
                };
                out.push((at, c));
            }
        };
    if d < 21 {
        for _ in 0..poisson(&mut rng, 0.6) {
            let amount = pick(&mut rng, &[100.0, 250.0, 500.0]);
            let user = Some(rng.random_range(0..w.members.len().min(12)));
            grant(
                &mut rng,
                "checklist_item_completion",
                "Onboarding checklist",
                amount,
                user,
            );
        }
    }
    if day.date.day() == 20 && rng.random_bool(0.3) {
        let amount = pick(&mut rng, &[5_000.0, 10_000.0, 15_000.0]) * scale;
        grant(
            &mut rng,
            "manual_adjustment",
            "Credit top-up",
            amount,
            Some(0),
        );
    }
}

fn charge_json(w: &World, at: DateTime<Utc>, c: &Charge, balance: f64, n: u64) -> Value {
    let mut v = json!({
        "org_id": w.org_id,
        "timestamp": ts(at),
        "category": c.category,
        "balance": balance,
        "log_id": format!("cl_{n:08}"),
        "balance_scope": "organization",
    });
    if let Some(u) = c.user {
        let m = &w.members[u];
        v["user_id"] = m.id.as_str().into();
        v["user_email"] = m.email.as_str().into();
        if !m.roles.is_empty() {
            v["permission_group_id"] = join_roles(&m.roles, |r| r.0).into();
            v["permission_group_name"] = join_roles(&m.roles, |r| r.1).into();
        }
    }
    if let Some(kind) = c.kind {
        v["type"] = kind.into();
    }
    if let Some(name) = &c.name {
        v["name"] = name.as_str().into();
    }
    if let Some(amount) = c.amount {
        v["amount"] = amount.into();
    }
    if let Some(corr) = &c.correlation {
        v["correlation_id"] = corr.as_str().into();
    }
    if let Some(p) = c.project {
        v["project_id"] = w.spaces[p].id.as_str().into();
    }
    v
}

fn join_roles(roles: &[usize], part: fn(&(&'static str, &'static str)) -> &'static str) -> String {
    roles
        .iter()
        .map(|&r| part(&ROLES[r]))
        .collect::<Vec<_>>()
        .join("; ")
}
