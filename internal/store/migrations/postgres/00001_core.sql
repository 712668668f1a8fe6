-- +goose Up
-- change_counters lets replicas notice another replica's change (e.g. region boundaries).
CREATE TABLE change_counters (
    name       TEXT PRIMARY KEY,
    value      BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE change_counters;
