//! Audit log: membership changes, sign-ins, resource and agent changes, and API-started
//! flow executions.

use super::calendar::business_time;
use super::facts::{API_USER_AGENT, FILES, MODELS, ORG_ID, ORG_NAME, S_AUDIT, SERVERS, TEAMS};
use super::interactions::TRIGGERED;
use super::merge::Ordered;
use super::random::{minutes, pick, pick_ref, poisson, rng_for, weighted};
use super::runs::day_runs;
use super::ts;
use super::world::{Agent, World};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug)]
struct Event {
    pub(super) kind: &'static str,
    pub(super) user: usize,
    ip: String,
    user_agent: &'static str,
    pub(super) space: Option<usize>,
    entity: Option<String>,
    details: Value,
}

pub(super) fn audit_log(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let items = Ordered::new(Arc::clone(&w), event_items);
    let mut n = 0u64;
    Box::new(items.map(move |(at, e)| {
        n += 1;
        event_json(&w, at, &e, n)
    }))
}

fn event_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Event)> {
    let mut rng = rng_for(w.seed, S_AUDIT, d as u64);
    let mut out = Vec::new();
    membership_events(&mut rng, w, d, &mut out);
    sign_ins(&mut rng, w, d, &mut out);
    resource_events(&mut rng, w, d, &mut out);
    agent_events(&mut rng, w, d, &mut out);
    flow_executions(w, d, &mut out);
    out.retain(|(at, _)| *at <= w.now);
    out
}

/// An event by a member from one of their usual addresses.
fn by_member(
    rng: &mut StdRng,
    w: &World,
    kind: &'static str,
    user: usize,
    details: Value,
) -> Event {
    let m = &w.members[user];
    let u = rng.random::<f64>();
    let ip = if u < 0.65 {
        m.office_ip.to_string()
    } else if u < 0.9 {
        m.home_ip.clone()
    } else {
        format!("198.51.100.{}", rng.random_range(2..60))
    };
    Event {
        kind,
        user,
        ip,
        user_agent: m.browser,
        space: None,
        entity: None,
        details,
    }
}

fn membership_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for (i, m) in w.members.iter().enumerate().skip(1) {
        if m.joined < day.start || m.joined >= day.end {
            continue;
        }
        let role = if m.admin { "admin" } else { "member" };
        let details = json!({"member_id": m.id, "email": m.email, "role": role, "department": TEAMS[m.team].name});
        let mut add = by_member(rng, w, "org_member_add", 0, details);
        add.entity = Some(m.id.clone());
        add.space = Some(m.team);
        out.push((m.joined, add));
        let first = json!({"method": "okta_saml", "mfa": true, "first_sign_in": true});
        out.push((
            m.joined + minutes(rng, 5, 90),
            by_member(rng, w, "user_sign_in", i, first),
        ));
    }
    if d == 35 {
        let details = json!({
            "organization_id": ORG_ID,
            "slack_workspace_id": "T05ACME42",
            "slack_workspace_name": ORG_NAME,
        });
        let at = business_time(rng, day);
        out.push((
            at,
            by_member(
                rng,
                w,
                "organization_slack_workspace_registration",
                0,
                details,
            ),
        ));
    }
}

fn sign_ins(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for (i, m) in w.members.iter().enumerate() {
        if m.joined >= day.end {
            continue;
        }
        for _ in 0..poisson(rng, 0.15 * m.activity * day.weight * w.per_member) {
            let at = business_time(rng, day);
            let method = if rng.random_bool(0.88) {
                "okta_saml"
            } else {
                "password"
            };
            let session = format!("ses_{:016x}", rng.random::<u64>());
            let details = json!({"method": method, "mfa": method == "okta_saml" || rng.random_bool(0.7), "session_id": session});
            if at > m.joined {
                out.push((at, by_member(rng, w, "user_sign_in", i, details)));
            }
        }
    }
}

/// Credential and file events by active members.
fn resource_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    let scale = f64::from(w.scale);
    let credential_kinds = [
        "credential_insertion",
        "credential_modification",
        "credential_retrieval",
        "credential_deletion",
    ];
    for _ in 0..poisson(rng, 0.8 * day.weight * scale) {
        let at = business_time(rng, day);
        let kind = credential_kinds[weighted(rng, &[0.4, 0.3, 0.2, 0.1])];
        let server = pick_ref(rng, SERVERS);
        let Some(user) = w.active_member(rng, at) else {
            continue;
        };
        let auth = if server.hosted { "oauth" } else { "api_key" };
        let details =
            json!({"service": server.name, "credential_type": format!("{}_{auth}", server.id)});
        let mut e = by_member(rng, w, kind, user, details);
        e.entity = Some(format!("cred_{}_{}", server.id, w.members[user].id));
        e.space = Some(w.members[user].team);
        out.push((at, e));
    }
    let file_kinds = ["file_upload", "file_download", "file_deletion"];
    for _ in 0..poisson(rng, 2.6 * day.weight * scale) {
        let at = business_time(rng, day);
        let kind = file_kinds[weighted(rng, &[0.62, 0.3, 0.08])];
        let (file, content_type) = pick(rng, &FILES);
        let Some(user) = w.active_member(rng, at) else {
            continue;
        };
        let details = json!({"file_name": file, "content_type": content_type, "size_bytes": rng.random_range(8_000..25_000_000)});
        let mut e = by_member(rng, w, kind, user, details);
        e.entity = Some(format!("file_{:08x}", rng.random::<u32>()));
        let m = &w.members[user];
        e.space = Some(if rng.random_bool(0.3) {
            m.personal
        } else {
            m.team
        });
        out.push((at, e));
    }
}

/// Creation and each new version of the agents (as the agents stream has them), their
/// triggers and knowledge sources.
fn agent_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for agent in &w.agents {
        for (k, v) in agent.versions.iter().enumerate() {
            if v.at < day.start || v.at >= day.end {
                continue;
            }
            let (kind, details) = if k == 0 {
                (
                    "agent_creation",
                    json!({"agent_name": agent.tpl.name, "operation": "create", "model": MODELS[v.model].id}),
                )
            } else {
                (
                    "agent_modification",
                    json!({"agent_name": agent.tpl.name, "operation": "version_deploy", "version": k + 1, "model": MODELS[v.model].id}),
                )
            };
            out.push((v.at, agent_event(rng, w, agent, kind, details)));
            if k == 0 && agent.tpl.channels.mix()[TRIGGERED] > 0.0 {
                let trigger = agent.tpl.channels.triggers()[0];
                let details = json!({
                    "operation": "trigger_create", "trigger_id": format!("trg_{}", agent.id),
                    "trigger_type": trigger, "trigger_name": format!("{} trigger", agent.tpl.name),
                    "active": true, "source": "ui",
                });
                out.push((
                    v.at + Duration::minutes(10),
                    agent_event(rng, w, agent, "agent_modification", details),
                ));
            }
        }
    }
    for _ in 0..poisson(rng, 0.12 * day.weight * f64::from(w.scale)) {
        let at = business_time(rng, day);
        let agent = pick_ref(rng, &w.agents);
        if agent.created < at {
            let details = json!({"agent_name": agent.tpl.name, "knowledge_source": "Google Drive folder", "folder_name": format!("{} sources", agent.tpl.name)});
            out.push((
                at,
                agent_event(rng, w, agent, "knowledge_source_attach", details),
            ));
        }
    }
}

fn agent_event(
    rng: &mut StdRng,
    w: &World,
    agent: &Agent,
    kind: &'static str,
    details: Value,
) -> Event {
    let mut e = by_member(rng, w, kind, agent.creator, details);
    e.space = Some(agent.space);
    e.entity = Some(agent.id.clone());
    e
}

/// Runs started through the platform API are audited as flow executions.
fn flow_executions(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    for run in day_runs(w, d).into_iter().filter(|r| r.trigger == "api") {
        let b = &w.workbooks[run.wb];
        let details = json!({"run_id": run.id, "workbook_name": b.tpl.name, "trigger": "api"});
        let e = Event {
            kind: "flow_execution",
            user: run.user,
            ip: format!("198.51.100.{}", 100 + run.wb % 100),
            user_agent: API_USER_AGENT,
            space: Some(b.space),
            entity: Some(b.id.clone()),
            details,
        };
        out.push((run.created, e));
    }
}

fn event_json(w: &World, at: DateTime<Utc>, e: &Event, n: u64) -> Value {
    let mut v = json!({
        "org_id": w.org_id,
        "event_id": format!("evt_{n:07}"),
        "timestamp": ts(at),
        "event_type": e.kind,
        "details": e.details,
        "user_id": w.members[e.user].id,
        "source_ip": e.ip,
        "user_agent": e.user_agent,
    });
    if let Some(s) = e.space {
        v["workspace_id"] = w.spaces[s].id.as_str().into();
    }
    if let Some(entity) = &e.entity {
        v["entity_id"] = entity.as_str().into();
    }
    v
}
