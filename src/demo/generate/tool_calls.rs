//! Tool calls: MCP tool calls made inside runs and sessions, and from members' own clients,
//! and their records.

use super::agents::server;
use super::calendar::business_time;
use super::facts::{GENERIC_ERRORS, S_EXTERNAL, SERVERS, Server};
use super::interactions::{Chat, day_chats};
use super::random::{fraction, lognormal, pick, pick_ref, poisson, rng_for};
use super::runs::{Run, day_runs};
use super::ts;
use super::world::World;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

#[derive(Debug)]
pub(super) struct Call {
    pub(super) id: String,
    pub(super) at: DateTime<Utc>,
    pub(super) server: &'static Server,
    pub(super) tool: &'static str,
    pub(super) status: &'static str,
    latency_ms: i64,
    error: Option<String>,
    pub(super) caller: Caller,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Caller {
    pub(super) source: &'static str,
    pub(super) user: usize,
    pub(super) agent: Option<usize>,
    pub(super) space: usize,
}

pub(super) fn call_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Call)> {
    let mut calls = Vec::new();
    for run in day_runs(w, d).iter().filter(|r| r.tool_calls > 0) {
        run_calls(w, run, &mut calls);
    }
    for chat in day_chats(w, d).iter().filter(|c| c.tool_calls > 0) {
        chat_calls(w, chat, &mut calls);
    }
    calls.extend(external_calls(w, d));
    calls.into_iter().map(|c| (c.at, c)).collect()
}

fn run_calls(w: &World, run: &Run, out: &mut Vec<Call>) {
    let mut rng = StdRng::seed_from_u64(run.sub_seed);
    let b = &w.workbooks[run.wb];
    let span = run.finished.unwrap_or(w.now) - run.created;
    let caller = Caller {
        source: "workflow",
        user: run.user,
        agent: None,
        space: b.space,
    };
    for k in 0..run.tool_calls {
        let at = run.created + fraction(span, f64::from(k + 1) / f64::from(run.tool_calls + 1));
        let server = server(pick(&mut rng, b.tpl.servers));
        out.push(make_call(
            &mut rng,
            format!("tc_{}_{}", run.id, k + 1),
            at,
            server,
            caller,
        ));
    }
}

fn chat_calls(w: &World, chat: &Chat, out: &mut Vec<Call>) {
    let mut rng = StdRng::seed_from_u64(chat.sub_seed);
    let agent = &w.agents[chat.agent];
    let servers = &agent.versions[chat.version].servers;
    let caller = Caller {
        source: "agent",
        user: chat.user,
        agent: Some(chat.agent),
        space: agent.space,
    };
    for k in 0..chat.tool_calls {
        let at = chat.at
            + fraction(
                chat.end - chat.at,
                f64::from(k + 1) / f64::from(chat.tool_calls + 1),
            );
        let server = server(pick(&mut rng, servers));
        out.push(make_call(
            &mut rng,
            format!("tc_{}_{}", chat.id, k + 1),
            at,
            server,
            caller,
        ));
    }
}

/// Calls from members' own MCP clients through the gateway; these are charged to the ledger.
pub(super) fn external_calls(w: &World, d: usize) -> Vec<Call> {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_EXTERNAL, d as u64);
    let mut calls = Vec::new();
    for _ in 0..poisson(&mut rng, w.external_rate * day.weight) {
        let at = business_time(&mut rng, day);
        let user = pick(&mut rng, &w.external_users);
        let server = pick_ref(&mut rng, SERVERS);
        let caller = Caller {
            source: "external_client",
            user,
            agent: None,
            space: w.members[user].team,
        };
        let call = make_call(&mut rng, String::new(), at, server, caller);
        if at <= w.now && w.members[user].joined < at {
            calls.push(call);
        }
    }
    calls.sort_by_key(|c| c.at);
    let date = day.date.format("%Y%m%d").to_string();
    for (k, c) in calls.iter_mut().enumerate() {
        c.id = format!("tc_ext_{date}_{:05}", k + 1);
    }
    calls
}

fn make_call(
    rng: &mut StdRng,
    id: String,
    at: DateTime<Utc>,
    server: &'static Server,
    caller: Caller,
) -> Call {
    let tool = pick(rng, server.tools);
    let u = rng.random::<f64>();
    let (status, error) = if u < 0.93 {
        ("success", None)
    } else if u < 0.98 {
        let text = if rng.random_bool(0.5) {
            server.error
        } else {
            pick(rng, &GENERIC_ERRORS)
        };
        ("error", Some(text.to_string()))
    } else {
        let text = format!(
            "Permission denied: your role may not call {}.{tool}",
            server.id
        );
        ("permission_denied", Some(text))
    };
    let timed_out = error.as_deref() == Some(GENERIC_ERRORS[0]);
    let latency = if timed_out {
        30_000.0 + rng.random_range(0.0..40.0)
    } else {
        lognormal(rng, server.latency_ms, 0.55)
    };
    Call {
        id,
        at,
        server,
        tool,
        status,
        latency_ms: latency.round() as i64,
        error,
        caller,
    }
}

pub(super) fn call_json(w: &World, c: &Call) -> Value {
    let user = &w.members[c.caller.user];
    let mut v = json!({
        "org_id": w.org_id,
        "tool_call_id": c.id,
        "created_at": ts(c.at),
        "server_id": c.server.id,
        "server_name": c.server.name,
        "tool_name": c.tool,
        "status": c.status,
        "latency_ms": c.latency_ms,
        "source": c.caller.source,
        "user_id": user.id,
        "user_email": user.email,
        "workspace_id": w.spaces[c.caller.space].id,
    });
    if let Some(e) = &c.error {
        v["error"] = e.as_str().into();
    }
    if let Some(a) = c.caller.agent {
        v["agent_id"] = w.agents[a].id.as_str().into();
    }
    v
}
