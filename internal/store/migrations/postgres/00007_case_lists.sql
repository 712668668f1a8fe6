-- +goose Up
-- Case lists (issue 3, "Reading"): the time a stage's traffic light turns yellow, so that the
-- light is plain SQL on (stage_warn_at, stage_deadline, now), and the indexes the lists,
-- inboxes, maps and delta sync need at a million cases (docs/case-lists.md has the figures).

-- stage_warn_at: when 80 % of the running stage's limit is used (worktime.Calendar.WarnAt for
-- the same start and limit as stage_deadline); NULL when no clock runs. The light is
-- green before it, yellow from it to stage_deadline, red after stage_deadline.
ALTER TABLE cases ADD COLUMN stage_warn_at TIMESTAMPTZ NULL;

-- Rows written before this column existed get 80 % of the wall time between the stage's start
-- (the dispatch, for handling) and its deadline: exact for urgent hours and natural days, close
-- for work-time limits. Every action from now on stores the calendar's exact instant.
UPDATE cases
   SET stage_warn_at = s.start + (cases.stage_deadline - s.start) * 0.8
  FROM (SELECT id, CASE WHEN stage = 'handle' AND dispatched_at IS NOT NULL THEN dispatched_at ELSE stage_started_at END AS start
          FROM cases) s
 WHERE s.id = cases.id AND cases.stage_deadline IS NOT NULL AND cases.stage <> 'none';

-- Indexes, chosen from plans at a million cases (cmd/loadgen; docs/case-lists.md):
--
-- cases_clock: the running clocks only (about 7 % of the cases), ordered by deadline and
-- carrying the scope columns. It serves overdue and light filters, the supervisor's inbox in
-- deadline order, sort=stage_deadline for a desk, and counts them without reading the table.
-- It replaces cases_stage_deadline, which held a NULL for every closed case and drew the planner
-- into scanning the whole deadline order for a narrow scope (0.9 s → 5 ms).
DROP INDEX cases_stage_deadline;
CREATE INDEX cases_clock ON cases (stage_deadline)
    INCLUDE (region_path, desk_region_path, grid_code, reporter_user_id, assignee_user_id)
    WHERE stage_deadline IS NOT NULL;

-- cases_lat_lng: map points in a box (a 2 × 2 km box was a parallel scan of every case).
CREATE INDEX cases_lat_lng ON cases (lat, lng);

-- cases_text_trgm: free text (q) is ILIKE '%…%' on the description, address and number as one
-- string (store.textSQL); trigrams find a three-character or longer text without reading every
-- case (2.1 s → 0.4 ms for a rare one). pg_trgm ships with PostgreSQL (contrib) and is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_text_trgm ON cases
    USING gin ((description || ' ' || COALESCE(address, '') || ' ' || number) gin_trgm_ops);

-- +goose Down
DROP INDEX cases_text_trgm;
DROP INDEX cases_lat_lng;
DROP INDEX cases_clock;
CREATE INDEX cases_stage_deadline ON cases (stage_deadline);
ALTER TABLE cases DROP COLUMN stage_warn_at;
