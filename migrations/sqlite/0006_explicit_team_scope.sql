-- Team scopes become explicit: {org_teams, personal, ids} instead of {all, personal, ids}.
-- Drains and export jobs stored before keep what they were promised at creation: `all` meant
-- every team and personal space, and a scope naming no team at all (a drain or export by
-- entity ids alone) had no team condition, so both become org_teams and personal.
-- Only rows still in the old shape are touched, so the migration is safe to repeat.
UPDATE drains SET scope = json_set(
    json_remove(scope, '$.teams.all'),
    '$.teams.org_teams',
    json(CASE WHEN json_extract(scope, '$.teams.all')
              OR (NOT json_extract(scope, '$.teams.personal')
                  AND json_array_length(scope, '$.teams.ids') = 0)
         THEN 'true' ELSE 'false' END),
    '$.teams.personal',
    json(CASE WHEN json_extract(scope, '$.teams.all')
              OR json_extract(scope, '$.teams.personal')
              OR json_array_length(scope, '$.teams.ids') = 0
         THEN 'true' ELSE 'false' END)
)
WHERE json_type(scope, '$.teams.all') IS NOT NULL;

UPDATE export_jobs SET spec = json_set(
    json_remove(spec, '$.teams.all'),
    '$.teams.org_teams',
    json(CASE WHEN json_extract(spec, '$.teams.all')
              OR (NOT json_extract(spec, '$.teams.personal')
                  AND json_array_length(spec, '$.teams.ids') = 0)
         THEN 'true' ELSE 'false' END),
    '$.teams.personal',
    json(CASE WHEN json_extract(spec, '$.teams.all')
              OR json_extract(spec, '$.teams.personal')
              OR json_array_length(spec, '$.teams.ids') = 0
         THEN 'true' ELSE 'false' END)
)
WHERE json_type(spec, '$.teams.all') IS NOT NULL;
