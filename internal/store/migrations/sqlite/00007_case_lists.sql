-- +goose Up
-- Case lists (issue 3, "Reading"): the time a stage's traffic light turns yellow, so that the
-- light is plain SQL on (stage_warn_at, stage_deadline, now), and the indexes the lists,
-- inboxes, maps and delta sync need at a million cases (docs/case-lists.md has the figures).

-- stage_warn_at: when 80 % of the running stage's limit is used (worktime.Calendar.WarnAt for
-- the same start and limit as stage_deadline); NULL when no clock runs. The light is
-- green before it, yellow from it to stage_deadline, red after stage_deadline.
ALTER TABLE cases ADD COLUMN stage_warn_at TIMESTAMP NULL;

-- Rows written before this column existed get 80 % of the wall time between the stage's start
-- (the dispatch, for handling) and its deadline: exact for urgent hours and natural days, close
-- for work-time limits. Every action from now on stores the calendar's exact instant. The
-- result is written in the store's fixed-width layout (2006-01-02T15:04:05.000000Z).
UPDATE cases
   SET stage_warn_at = strftime('%Y-%m-%dT%H:%M:%f',
         julianday(CASE WHEN stage = 'handle' AND dispatched_at IS NOT NULL THEN dispatched_at ELSE stage_started_at END)
         + 0.8 * (julianday(stage_deadline)
                  - julianday(CASE WHEN stage = 'handle' AND dispatched_at IS NOT NULL THEN dispatched_at ELSE stage_started_at END))) || '000Z'
 WHERE stage_deadline IS NOT NULL AND stage <> 'none';

-- Indexes, chosen from plans at a million cases on PostgreSQL and 200,000 here (cmd/loadgen;
-- docs/case-lists.md):
--
-- cases_clock: the running clocks only (about 7 % of the cases), ordered by deadline, with the
-- scope's paths: overdue and light filters, the supervisor's inbox, sort=stage_deadline. It
-- replaces cases_stage_deadline, which held a NULL for every closed case.
DROP INDEX cases_stage_deadline;
CREATE INDEX cases_clock ON cases (stage_deadline, region_path, desk_region_path)
    WHERE stage_deadline IS NOT NULL;

-- cases_lat_lng: map points in a box.
CREATE INDEX cases_lat_lng ON cases (lat, lng);

-- Free text (q) stays a LIKE over every case in scope here: an FTS5 trigram table would serve
-- it, at the price of a second copy of the text and tables PostgreSQL does not have.

-- +goose Down
DROP INDEX cases_lat_lng;
DROP INDEX cases_clock;
CREATE INDEX cases_stage_deadline ON cases (stage_deadline);
ALTER TABLE cases DROP COLUMN stage_warn_at;
