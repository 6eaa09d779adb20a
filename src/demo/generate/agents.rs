//! Agents: one record per agent version.

use super::facts::{MODELS, SERVERS, Server};
use super::interactions::{API, KINDS};
use super::ts;
use super::world::World;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn agent_records(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let mut rows: Vec<(DateTime<Utc>, usize, usize)> = w
        .agents
        .iter()
        .enumerate()
        .flat_map(|(a, agent)| {
            agent
                .versions
                .iter()
                .enumerate()
                .map(move |(k, v)| (v.at, a, k))
        })
        .collect();
    // Version order per agent is what the store numbers versions by.
    rows.sort();
    Box::new(rows.into_iter().map(move |(_, a, k)| agent_json(&w, a, k)))
}

fn agent_json(w: &World, a: usize, k: usize) -> Value {
    let agent = &w.agents[a];
    let v = &agent.versions[k];
    let space = &w.spaces[agent.space];
    let tools: Vec<Value> = v
        .servers
        .iter()
        .map(|s| {
            let server = server(s);
            json!({"server_id": server.id, "server_name": server.name, "tools": server.tools})
        })
        .collect();
    let personal = agent.tpl.team.is_empty();
    // Personal agents have no API channel: keys belong to teams (see `chat_channel`).
    let channels: Vec<&str> = (0..4)
        .filter(|&i| agent.tpl.channels.mix()[i] > 0.0 && !(personal && i == API))
        .map(|i| KINDS[i])
        .collect();
    let mut out = json!({
        "org_id": w.org_id,
        "agent_id": agent.id,
        "agent_name": agent.tpl.name,
        "agent_description": agent.tpl.about,
        "agent_created_ts": ts(agent.created),
        "agent_updated_ts": ts(v.at),
        "agent_model": MODELS[v.model].id,
        "agent_system_prompt": v.prompt,
        "agent_tools": tools,
        "agent_metadata": {
            "temperature": v.temperature,
            "max_steps": 25,
            "channels": channels,
            "visibility": if personal { "private" } else { "team" },
        },
        "agent_evaluations_enabled": v.evaluations,
        "creator_email": w.members[agent.creator].email,
        "workspace_id": space.id,
        "workspace_name": space.name,
    });
    if let Some((folder_id, folder_name)) = &agent.folder {
        out["folder_id"] = folder_id.as_str().into();
        out["folder_name"] = (*folder_name).into();
    }
    out
}

pub(super) fn server(id: &str) -> &'static Server {
    SERVERS.iter().find(|s| s.id == id).unwrap_or(&SERVERS[0])
}
