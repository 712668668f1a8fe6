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

-- +goose Down
ALTER TABLE cases DROP COLUMN stage_warn_at;
