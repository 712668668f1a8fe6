-- +goose Up
-- The published event feed and webhooks (issue 4, "Events and webhooks").
--
-- case_events is immutable (00004), so publishing never touches it: a trigger puts every new
-- event's id into event_outbox in the event's own transaction, and the publisher (one at a
-- time: it writes under SQLite's write lock) moves outbox rows into event_feed, numbering them
-- 1, 2, 3 … in the order it publishes them, so a poller reading "seq > cursor" never skips an
-- event.
CREATE TABLE event_outbox (
    event_id INTEGER PRIMARY KEY REFERENCES case_events (id)
);

-- +goose StatementBegin
CREATE TRIGGER case_events_outbox AFTER INSERT ON case_events
BEGIN
    INSERT INTO event_outbox (event_id) VALUES (NEW.id);
END;
-- +goose StatementEnd
INSERT INTO event_outbox (event_id) SELECT id FROM case_events;

CREATE TABLE event_feed (
    seq          INTEGER PRIMARY KEY, -- 1, 2, 3 … in publish order, no gaps
    event_id     INTEGER NOT NULL UNIQUE REFERENCES case_events (id),
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    published_at TIMESTAMP NOT NULL
);
CREATE INDEX event_feed_case ON event_feed (case_id, seq);

-- webhook_endpoints: where events are pushed (admins register them).
CREATE TABLE webhook_endpoints (
    id                         INTEGER PRIMARY KEY,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    -- the signing secret ("whsec_…"), sealed with AES-256-GCM under the server's webhook key
    -- (GRIDCASE_WEBHOOK_SECRET_KEY); never stored in clear, shown to the admin once.
    secret                     TEXT NOT NULL,
    -- the secret before the last rotation, still signed with until it expires
    previous_secret            TEXT NULL,
    previous_secret_expires_at TIMESTAMP NULL,
    event_types                TEXT NOT NULL DEFAULT '', -- comma-separated filter; empty: every type
    region_code                TEXT NULL REFERENCES regions (code), -- scope: cases in this subtree
    region_path                TEXT NULL,
    active                     BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason            TEXT NULL, -- why it was switched off (e.g. the receiver answered 410 Gone)
    created_by                 INTEGER NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at                 TIMESTAMP NOT NULL,
    updated_at                 TIMESTAMP NOT NULL
);

-- webhook_deliveries: one message (one webhook-id) to one endpoint, tried until it succeeds
-- or its retries run out; a replay starts a new round of attempts for the same message.
CREATE TABLE webhook_deliveries (
    id                    INTEGER PRIMARY KEY,
    endpoint_id           INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    feed_seq              INTEGER NULL REFERENCES event_feed (seq), -- NULL for a ping
    event_type            TEXT NOT NULL,
    webhook_id            TEXT NOT NULL UNIQUE, -- the webhook-id header, stable across retries and replays
    payload               TEXT NOT NULL,        -- the exact body sent (signed anew on each attempt)
    replays               INTEGER NOT NULL DEFAULT 0,
    attempts              INTEGER NOT NULL DEFAULT 0,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    last_status_code      INTEGER NULL,
    last_latency_ms       INTEGER NULL,
    last_error            TEXT NULL,
    last_response_excerpt TEXT NULL,
    next_attempt_at       TIMESTAMP NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_endpoint_feed ON webhook_deliveries (endpoint_id, feed_seq);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- webhook_attempts: every HTTP attempt of a delivery, for the log.
CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL, -- 1, 2, … across rounds
    url              TEXT NOT NULL,
    status_code      INTEGER NULL,
    latency_ms       INTEGER NOT NULL,
    error            TEXT NULL,
    response_excerpt TEXT NULL,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (delivery_id, attempt)
);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE event_feed;
DROP TRIGGER case_events_outbox;
DROP TABLE event_outbox;
