-- Every export orders its rows by (time, id) so that rows with equal times come out in the
-- same order every time. The (org_id, time) indexes left that tie-break to a sort on every
-- read (on PostgreSQL an Incremental Sort, about a quarter of the server's work for an
-- export). Widening each time index by the type's id lets the index deliver the full order.
-- Same number of indexes, so ingest keeps one index insert per index.
DROP INDEX workflow_runs_time;
CREATE INDEX workflow_runs_time ON workflow_runs (org_id, pl_run_created_ts, run_id);
DROP INDEX agent_versions_time;
CREATE INDEX agent_versions_time ON agent_versions (org_id, agent_created_ts, agent_id);
DROP INDEX agent_interactions_time;
CREATE INDEX agent_interactions_time ON agent_interactions (org_id, interaction_created_ts, interaction_id);
DROP INDEX credit_logs_time;
CREATE INDEX credit_logs_time ON credit_logs (org_id, "timestamp", log_id);
DROP INDEX audit_logs_time;
CREATE INDEX audit_logs_time ON audit_logs (org_id, "timestamp", event_id);
DROP INDEX tool_calls_time;
CREATE INDEX tool_calls_time ON tool_calls (org_id, created_at, tool_call_id);
