-- +goose Up
-- Cases: the category catalogue, the cases themselves, their co-handling departments, their
-- immutable event log (流转记录), idempotency keys for retried requests, and the daily
-- sequence of case numbers.

-- categories are the small classes (小类) of GB/T 30428.2: code = C|E + 大类 + 小类.
CREATE TABLE categories (
    code                    TEXT PRIMARY KEY,
    type                    TEXT NOT NULL CHECK (type IN ('component', 'event')),
    major_code              TEXT NOT NULL,
    major_name              TEXT NOT NULL,
    name                    TEXT NOT NULL,
    filing_condition        TEXT NOT NULL DEFAULT '',
    closing_condition       TEXT NOT NULL DEFAULT '',
    default_department_code TEXT NULL, -- departments.code; checked by the service, not an FK, so a catalogue may load before its departments
    normal_limit_unit       TEXT NOT NULL,
    normal_limit_value      INTEGER NOT NULL,
    normal_limit_minutes    INTEGER NOT NULL DEFAULT 0,
    urgent_limit_unit       TEXT NULL,
    urgent_limit_value      INTEGER NULL,
    urgent_limit_minutes    INTEGER NULL,
    check_required          BOOLEAN NOT NULL DEFAULT TRUE,
    self_handle_allowed     BOOLEAN NOT NULL DEFAULT FALSE,
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    keywords                TEXT NOT NULL DEFAULT '', -- comma-separated
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL
);
CREATE INDEX categories_type_major ON categories (type, major_code);

-- cases: one row per case, changed only under a row lock with version + 1 and an event.
-- Region paths compare as bytes (SQLite's default BINARY collation): a subtree is a byte range.
CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    number              TEXT NOT NULL UNIQUE,
    state               TEXT NOT NULL CHECK (state IN ('reported', 'verifying', 'filed', 'dispatched', 'handling', 'suspended', 'handled', 'checked', 'closed', 'rejected', 'cancelled')),
    version             BIGINT NOT NULL DEFAULT 1,
    category_code       TEXT NULL REFERENCES categories (code),
    urgency             TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent')),
    description         TEXT NOT NULL,
    address             TEXT NULL,
    lat                 REAL NULL, -- WGS-84
    lng                 REAL NULL,
    orig_lat            REAL NULL, -- as sent, in orig_coord_sys
    orig_lng            REAL NULL,
    orig_coord_sys      TEXT NULL,
    grid_code           TEXT NULL, -- NULL: the point is outside every grid (a desk places it)
    region_path         TEXT NULL, -- the grid's path, for scope
    desk_region_code    TEXT NULL, -- whose desk holds it (escalate/hand-down move it)
    desk_region_path    TEXT NULL,
    source              TEXT NOT NULL CHECK (source IN ('grid_worker', 'resident', 'hotline', 'video', 'integrator', 'leader')),
    reporter_user_id    BIGINT NULL REFERENCES users (id),
    reporter_api_key_id BIGINT NULL REFERENCES api_keys (id),
    external_ref        TEXT NULL,
    occurred_at         TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    filed_at            TIMESTAMP NULL,
    dispatched_at       TIMESTAMP NULL,
    closed_at           TIMESTAMP NULL,
    lead_department_id  BIGINT NULL REFERENCES departments (id),
    assignee_user_id    BIGINT NULL REFERENCES users (id),
    duplicate_of        BIGINT NULL REFERENCES cases (id),
    self_handled        BOOLEAN NOT NULL DEFAULT FALSE,
    verified            BOOLEAN NULL,
    rework_count        INTEGER NOT NULL DEFAULT 0,
    return_count        INTEGER NOT NULL DEFAULT 0,
    reopen_count        INTEGER NOT NULL DEFAULT 0,
    stage               TEXT NOT NULL CHECK (stage IN ('accept', 'verify', 'dispatch', 'sign', 'handle', 'check', 'close', 'none')),
    stage_started_at    TIMESTAMP NOT NULL,
    stage_deadline      TIMESTAMP NULL,
    stage_limit_unit    TEXT NULL,
    stage_limit_value   INTEGER NULL,
    stage_limit_minutes INTEGER NULL,
    handle_deadline     TIMESTAMP NULL,
    satisfaction        INTEGER NULL CHECK (satisfaction BETWEEN 1 AND 5),
    evaluation_comment  TEXT NULL,
    evaluated_at        TIMESTAMP NULL,
    deleted_at          TIMESTAMP NULL -- tombstone: cancelled or merged, for delta sync
);
CREATE INDEX cases_state ON cases (state);
CREATE INDEX cases_grid_code ON cases (grid_code);
CREATE INDEX cases_region_path ON cases (region_path);
CREATE INDEX cases_desk_region_path ON cases (desk_region_path);
CREATE INDEX cases_lead_department_state ON cases (lead_department_id, state);
CREATE INDEX cases_updated ON cases (updated_at, id);
CREATE INDEX cases_created ON cases (created_at, id);
CREATE INDEX cases_category_lat ON cases (category_code, lat);
CREATE INDEX cases_assignee_state ON cases (assignee_user_id, state);
CREATE INDEX cases_stage_deadline ON cases (stage_deadline);
CREATE INDEX cases_reporter_user ON cases (reporter_user_id);
CREATE INDEX cases_duplicate_of ON cases (duplicate_of);
CREATE UNIQUE INDEX cases_external_ref ON cases (reporter_api_key_id, external_ref)
    WHERE reporter_api_key_id IS NOT NULL AND external_ref IS NOT NULL;

-- case_co_handlers: the co-handling departments (协办) of a dispatch; active = now, inactive =
-- before (a return or redispatch), so a former co-handler keeps reading the case.
CREATE TABLE case_co_handlers (
    case_id       BIGINT NOT NULL REFERENCES cases (id),
    department_id BIGINT NOT NULL REFERENCES departments (id),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    added_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, department_id)
);
CREATE INDEX case_co_handlers_department ON case_co_handlers (department_id, case_id);

-- case_events: one immutable row per action, appended in the action's transaction.
CREATE TABLE case_events (
    id                   INTEGER PRIMARY KEY,
    case_id              BIGINT NOT NULL REFERENCES cases (id),
    seq                  INTEGER NOT NULL,
    action               TEXT NOT NULL,
    from_state           TEXT NULL, -- NULL for the report that created the case
    to_state             TEXT NOT NULL,
    stage                TEXT NULL, -- the stage left (time_used_seconds and overdue are about it)
    actor_user_id        BIGINT NULL REFERENCES users (id),
    actor_api_key_id     BIGINT NULL REFERENCES api_keys (id),
    actor_role           TEXT NOT NULL,
    target_department_id BIGINT NULL REFERENCES departments (id),
    target_region_code   TEXT NULL,
    target_user_id       BIGINT NULL REFERENCES users (id),
    note                 TEXT NOT NULL DEFAULT '',
    reason               TEXT NULL,
    visibility           TEXT NOT NULL DEFAULT 'internal' CHECK (visibility IN ('internal', 'public')),
    data                 TEXT NULL, -- JSON extras
    time_used_seconds    BIGINT NOT NULL DEFAULT 0,
    overdue              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           TIMESTAMP NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE INDEX case_events_target_department ON case_events (target_department_id, case_id);
CREATE INDEX case_events_actor_user ON case_events (actor_user_id, created_at);
CREATE INDEX case_events_created ON case_events (created_at, action);

-- +goose StatementBegin
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case events are immutable');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case events are immutable');
END;
-- +goose StatementEnd

-- idempotency_keys: the first response to a request sent with an Idempotency-Key, per caller.
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL, -- "user:<id>" or "api_key:<id>"
    key          TEXT NOT NULL,
    operation    TEXT NOT NULL, -- "report", "case:<id>:<action>"
    request_hash TEXT NOT NULL,
    case_id      BIGINT NULL REFERENCES cases (id),
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- case_number_days: the last sequence number given out on each day (GC20260314-000123).
CREATE TABLE case_number_days (
    day  TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- +goose Down
DROP TABLE case_number_days;
DROP TABLE idempotency_keys;
DROP TRIGGER case_events_no_delete;
DROP TRIGGER case_events_no_update;
DROP TABLE case_events;
DROP TABLE case_co_handlers;
DROP TABLE cases;
DROP TABLE categories;
