//! Agent interactions: each day's agent sessions on their channels, their token usage and
//! charges, and their records.

use super::calendar::business_time;
use super::facts::{CREDITS_PER_USD, MODELS, Model, PLATFORM_FEE, S_CHATS, TOOL_CALL_CREDITS};
use super::random::{lognormal, pick, poisson, rng_for, round4, round6, seconds, weighted};
use super::ts;
use super::world::World;
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

pub(super) const KINDS: [&str; 4] = ["chat", "slack", "api", "triggered"];
const CHAT: usize = 0;
pub(super) const API: usize = 2;
pub(super) const TRIGGERED: usize = 3;

/// A chat session with an agent.
#[derive(Debug)]
pub(super) struct Chat {
    pub(super) id: String,
    pub(super) agent: usize,
    pub(super) version: usize,
    pub(super) user: usize,
    pub(super) kind: usize,
    pub(super) trigger: Option<&'static str>,
    pub(super) source: &'static str,
    key: Option<usize>,
    pub(super) at: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) name: String,
    messages: u32,
    /// Prompt, completion, cached prompt and cache-creation tokens.
    tokens: [u64; 4],
    cost_usd: f64,
    llm: f64,
    pub(super) tool: f64,
    flow: f64,
    pub(super) cost: f64,
    pub(super) charges: Vec<(DateTime<Utc>, &'static str, f64)>,
    pub(super) tool_calls: u32,
    pub(super) sub_seed: u64,
}

pub(super) fn chat_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Chat)> {
    day_chats(w, d).into_iter().map(|c| (c.at, c)).collect()
}

pub(super) fn day_chats(w: &World, d: usize) -> Vec<Chat> {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_CHATS, d as u64);
    let mut chats = Vec::new();
    for (a, agent) in w.agents.iter().enumerate() {
        if agent.created >= day.end {
            continue;
        }
        for _ in 0..poisson(&mut rng, agent.rate * day.weight) {
            let at = business_time(&mut rng, day);
            let chat = make_chat(&mut rng, w, a, at);
            if at > agent.created && at <= w.now {
                chats.push(chat);
            }
        }
    }
    chats.sort_by_key(|c| c.at);
    let date = day.date.format("%Y%m%d").to_string();
    for (k, c) in chats.iter_mut().enumerate() {
        c.id = format!("int_{date}_{:05}", k + 1);
    }
    chats
}

fn make_chat(rng: &mut StdRng, w: &World, a: usize, at: DateTime<Utc>) -> Chat {
    let agent = &w.agents[a];
    let version = agent.version_at(at);
    let v = &agent.versions[version];
    let (kind, user, key) = chat_channel(rng, w, a, at);
    let source = match kind {
        CHAT if rng.random_bool(0.14) => "MOBILE",
        CHAT => "WEB",
        API => "API",
        TRIGGERED => "TRIGGER",
        _ => "SLACK",
    };
    let trigger = (kind == TRIGGERED).then(|| pick(rng, agent.tpl.channels.triggers()));
    let topic = pick(rng, agent.tpl.topics);
    let name = match (kind, trigger) {
        (TRIGGERED, Some(t)) => format!("{topic} ({t})"),
        (API, _) => format!("API: {topic}"),
        _ => topic.to_string(),
    };
    let turns = 1 + poisson(rng, [2.6, 1.3, 0.8, 0.5][kind]);
    let messages = (2 * turns).min(60);
    let tool_calls = if v.servers.is_empty() {
        0
    } else {
        poisson(rng, agent.tool_rate * f64::from(turns)).min(12)
    };
    let (tokens, cost_usd) = usage(rng, &MODELS[v.model], turns, v.servers.len(), tool_calls);
    let flow = if agent.flow_p > 0.0 && rng.random_bool(agent.flow_p) {
        round4(lognormal(rng, 3.0, 0.6))
    } else {
        0.0
    };
    let end = (at + seconds(f64::from(messages) * lognormal(rng, 40.0, 0.5))).min(w.now);
    let mut chat = Chat {
        id: String::new(),
        agent: a,
        version,
        user,
        kind,
        trigger,
        source,
        key,
        at,
        end,
        name,
        messages,
        tokens,
        cost_usd,
        llm: round4(cost_usd * CREDITS_PER_USD),
        tool: round4(f64::from(tool_calls) * TOOL_CALL_CREDITS),
        flow,
        cost: 0.0,
        charges: Vec::new(),
        tool_calls,
        sub_seed: rng.random(),
    };
    chat_charges(&mut chat);
    chat
}

/// Ledger rows of a session: the turns, the summarisation of long conversations (part of the
/// model cost) and the platform fee of sessions outside the web app.
fn chat_charges(c: &mut Chat) {
    let compaction = if c.messages >= 16 {
        round4(c.llm * 0.18)
    } else {
        0.0
    };
    c.charges
        .push((c.end, "step", round4(c.llm - compaction + c.tool + c.flow)));
    if compaction > 0.0 {
        c.charges
            .push((c.at + (c.end - c.at) / 2, "compaction", compaction));
    }
    if c.kind != CHAT {
        c.charges.push((c.at, "platform_fee", PLATFORM_FEE));
    }
    c.cost = round4(c.charges.iter().map(|x| x.2).sum());
}

/// The channel of a session and who started it: API sessions run under a key's owner,
/// triggered ones under the agent's creator.
fn chat_channel(
    rng: &mut StdRng,
    w: &World,
    a: usize,
    at: DateTime<Utc>,
) -> (usize, usize, Option<usize>) {
    let agent = &w.agents[a];
    let personal = agent.tpl.team.is_empty();
    let mut kind = weighted(rng, &agent.tpl.channels.mix());
    if personal && kind == API {
        kind = CHAT;
    }
    let key = if kind == API {
        w.key_for(rng, agent.space, at)
    } else {
        None
    };
    if kind == API && key.is_none() {
        kind = CHAT;
    }
    let user = match (kind, key) {
        (API, Some(k)) => w.keys[k].owner,
        (TRIGGERED, _) => agent.creator,
        _ if personal => agent.creator,
        _ if rng.random_bool(0.65) => {
            let (when, m) = w.member_at(rng, agent.space, at);
            if when == at { m } else { agent.creator }
        }
        _ => w.active_member(rng, at).unwrap_or(agent.creator),
    };
    (kind, user, key)
}

/// Token counts and provider cost of a session: every turn resends the growing history, most
/// of which the provider serves from its cache.
fn usage(
    rng: &mut StdRng,
    m: &Model,
    turns: u32,
    servers: usize,
    tool_calls: u32,
) -> ([u64; 4], f64) {
    let base = 2_200.0 + 650.0 * servers as f64;
    let (mut prompt, mut first, mut completion) = (0.0, 0.0, 0.0);
    for t in 0..turns {
        let p = base + 900.0 * f64::from(t) + lognormal(rng, 500.0, 0.6);
        if t == 0 {
            first = p;
        }
        prompt += p;
        completion += lognormal(rng, 380.0, 0.6);
    }
    prompt += 1_300.0 * f64::from(tool_calls);
    let cached = (prompt - first) * rng.random_range(0.6..0.92);
    let written = if m.write > 0.0 {
        first * rng.random_range(0.7..0.95)
    } else {
        0.0
    };
    let fresh = prompt - cached - written;
    let usd =
        (fresh * m.input + cached * m.cached + written * m.write + completion * m.output) / 1e6;
    let tokens = [
        prompt.round() as u64,
        completion.round() as u64,
        cached.round() as u64,
        written.round() as u64,
    ];
    (tokens, round6(usd))
}

pub(super) fn chat_json(w: &World, c: &Chat) -> Value {
    let agent = &w.agents[c.agent];
    let space = &w.spaces[agent.space];
    let user = &w.members[c.user];
    let mut v = json!({
        "org_id": w.org_id,
        "interaction_id": c.id,
        "agent_id": agent.id,
        "agent_name": agent.tpl.name,
        "interaction_type": KINDS[c.kind],
        "interaction_name": c.name,
        "interaction_created_ts": ts(c.at),
        "message_count": c.messages,
        "user_id": user.id,
        "user_email": user.email,
        "credit_cost": c.cost,
        "llm_credit_cost": c.llm,
        "tool_credit_cost": c.tool,
        "flow_credit_cost": c.flow,
        "model": MODELS[agent.versions[c.version].model].id,
        "source": c.source,
        "prompt_tokens": c.tokens[0],
        "completion_tokens": c.tokens[1],
        "cached_prompt_tokens": c.tokens[2],
        "cache_creation_tokens": c.tokens[3],
        "cost_usd": c.cost_usd,
        "workspace_id": space.id,
        "workspace_name": space.name,
    });
    if let Some(t) = c.trigger {
        v["trigger_type"] = t.into();
    }
    if let Some(k) = c.key {
        v["api_key_id"] = w.keys[k].id.as_str().into();
    }
    v
}
