-- Team scopes become explicit: {org_teams, personal, ids} instead of {all, personal, ids}.
-- Drains and export jobs stored before keep what they were promised at creation: `all` meant
-- every team and personal space, and a scope naming no team at all (a drain or export by
-- entity ids alone) had no team condition, so both become org_teams and personal.
-- Only rows still in the old shape are touched, so the migration is safe to repeat.
UPDATE drains SET scope = jsonb_set(scope, '{teams}', jsonb_build_object(
    'org_teams', (scope #>> '{teams,all}')::boolean
        OR (NOT (scope #>> '{teams,personal}')::boolean
            AND jsonb_array_length(scope #> '{teams,ids}') = 0),
    'personal', (scope #>> '{teams,all}')::boolean
        OR (scope #>> '{teams,personal}')::boolean
        OR jsonb_array_length(scope #> '{teams,ids}') = 0,
    'ids', scope #> '{teams,ids}'))
WHERE scope #> '{teams,all}' IS NOT NULL;

UPDATE export_jobs SET spec = jsonb_set(spec, '{teams}', jsonb_build_object(
    'org_teams', (spec #>> '{teams,all}')::boolean
        OR (NOT (spec #>> '{teams,personal}')::boolean
            AND jsonb_array_length(spec #> '{teams,ids}') = 0),
    'personal', (spec #>> '{teams,all}')::boolean
        OR (spec #>> '{teams,personal}')::boolean
        OR jsonb_array_length(spec #> '{teams,ids}') = 0,
    'ids', spec #> '{teams,ids}'))
WHERE spec #> '{teams,all}' IS NOT NULL;
