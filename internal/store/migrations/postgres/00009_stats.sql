-- +goose Up
-- Statistics (考核统计) read the event log by period. Two indexes serve the search for a
-- period's cases: the events of the period, and the handling deadlines recorded in the events'
-- data (a case is due when its deadline passes, even if nobody touched it). The deadline index
-- is partial: only events that record one are in it, so that the JSON is only ever parsed
-- there. Queries must repeat the predicate and the expression exactly (store/stats.go).
CREATE INDEX case_events_created_case ON case_events (created_at, case_id);
CREATE INDEX case_events_handle_deadline ON case_events (((data::jsonb ->> 'handle_deadline') COLLATE "C"))
    WHERE data LIKE '%"handle_deadline"%';

-- +goose Down
DROP INDEX case_events_handle_deadline;
DROP INDEX case_events_created_case;
