-- +goose Up
-- Exact time (issue 4): each city's work calendar, stage limits and supervision rules as its
-- admins edit them; on each case, the state of its handling clock (the original limit, the
-- approved extensions, the one suspension's pause) and its open supervisions; the requests
-- for extension (延期) and suspension (挂账), the supervisions (督办), and the timers that
-- have fired (so that a timer run twice acts once).

-- calendars: one work calendar per region (normally the city), plus region_code 'default'.
CREATE TABLE calendars (
    id                INTEGER PRIMARY KEY,
    region_code       TEXT NOT NULL UNIQUE, -- regions.code, or 'default'
    zone              TEXT NOT NULL,        -- IANA zone, e.g. Asia/Shanghai
    windows           TEXT NOT NULL,        -- work windows: "08:30-12:00,13:30-17:30"
    weekend           TEXT NOT NULL,        -- weekly days off, 0 = Sunday: "0,6"; '' for none
    stage_limits      TEXT NULL,            -- JSON {stage: {unit, value, minutes}}: the stages the city overrides
    supervision_rules TEXT NULL,            -- JSON [{stage, trigger, after, level}]; NULL: the defaults
    version           INTEGER NOT NULL DEFAULT 1,
    updated_at        TIMESTAMP NOT NULL,
    updated_by        INTEGER NULL REFERENCES users (id) ON DELETE SET NULL
);

-- calendar_exceptions: the yearly table of holidays (节假日) and make-up workdays (调休上班).
CREATE TABLE calendar_exceptions (
    calendar_id INTEGER NOT NULL REFERENCES calendars (id) ON DELETE CASCADE,
    day         TEXT NOT NULL, -- YYYY-MM-DD in the calendar's zone (text order = date order)
    kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name        TEXT NOT NULL,
    PRIMARY KEY (calendar_id, day)
);

-- The handling clock of the current dispatch: its original limit (an extension adds one of
-- it), how many extensions apply to it, and the case's counts (at most two extensions and one
-- suspension per case). suspended_at … resumed_at is the pause of the one suspension
-- (suspended_until its planned end while it runs).
ALTER TABLE cases ADD COLUMN handle_limit_unit TEXT NULL;
ALTER TABLE cases ADD COLUMN handle_limit_value INTEGER NULL;
ALTER TABLE cases ADD COLUMN handle_limit_minutes INTEGER NULL;
ALTER TABLE cases ADD COLUMN handle_extensions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN extension_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN suspensions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN suspension_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE cases ADD COLUMN suspended_at TIMESTAMP NULL;
ALTER TABLE cases ADD COLUMN suspended_until TIMESTAMP NULL;
ALTER TABLE cases ADD COLUMN resumed_at TIMESTAMP NULL;
ALTER TABLE cases ADD COLUMN open_supervisions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN supervision_level TEXT NULL; -- the highest open level
CREATE INDEX cases_supervision_level ON cases (supervision_level) WHERE supervision_level IS NOT NULL;

-- case_requests: extension and suspension requests and their decisions. At most one request
-- of a kind waits per case (the case's row lock decides; the index backs it up).
CREATE TABLE case_requests (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    kind            TEXT NOT NULL CHECK (kind IN ('extension', 'suspension')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'lapsed')),
    reason          TEXT NOT NULL,
    suspend_until   TIMESTAMP NULL, -- suspension: the end asked for
    requested_by    INTEGER NULL REFERENCES users (id),
    requested_at    TIMESTAMP NOT NULL,
    decided_by      INTEGER NULL REFERENCES users (id),
    decided_at      TIMESTAMP NULL,
    decision_note   TEXT NULL
);
CREATE UNIQUE INDEX case_requests_pending ON case_requests (case_id, kind) WHERE status = 'pending';
CREATE INDEX case_requests_case ON case_requests (case_id, id);

-- case_supervisions: urges (督办) to the lead department, by a supervisor or by a rule, each
-- waiting for the department's reply.
CREATE TABLE case_supervisions (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    level         TEXT NOT NULL CHECK (level IN ('normal', 'yellow', 'red')),
    source        TEXT NOT NULL CHECK (source IN ('manual', 'auto')),
    rule          TEXT NULL, -- the rule that raised it ("sign after 1 work_days → yellow")
    note          TEXT NOT NULL,
    department_id INTEGER NULL REFERENCES departments (id), -- who must reply
    created_by    INTEGER NULL REFERENCES users (id),       -- NULL: a rule
    created_at    TIMESTAMP NOT NULL,
    reply         TEXT NULL,
    replied_by    INTEGER NULL REFERENCES users (id),
    replied_at    TIMESTAMP NULL
);
CREATE INDEX case_supervisions_case ON case_supervisions (case_id, id);
CREATE INDEX case_supervisions_open ON case_supervisions (department_id, created_at) WHERE replied_at IS NULL;

-- case_timer_fires: every timer that acted, by its key; a timer run again finds its key and
-- does nothing.
CREATE TABLE case_timer_fires (
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    timer_key TEXT NOT NULL,
    fired_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, timer_key)
);

-- +goose Down
DROP TABLE case_timer_fires;
DROP TABLE case_supervisions;
DROP TABLE case_requests;
DROP INDEX cases_supervision_level;
ALTER TABLE cases DROP COLUMN supervision_level;
ALTER TABLE cases DROP COLUMN open_supervisions;
ALTER TABLE cases DROP COLUMN resumed_at;
ALTER TABLE cases DROP COLUMN suspended_until;
ALTER TABLE cases DROP COLUMN suspended_at;
ALTER TABLE cases DROP COLUMN suspension_pending;
ALTER TABLE cases DROP COLUMN suspensions;
ALTER TABLE cases DROP COLUMN extension_pending;
ALTER TABLE cases DROP COLUMN extensions;
ALTER TABLE cases DROP COLUMN handle_extensions;
ALTER TABLE cases DROP COLUMN handle_limit_minutes;
ALTER TABLE cases DROP COLUMN handle_limit_value;
ALTER TABLE cases DROP COLUMN handle_limit_unit;
DROP TABLE calendar_exceptions;
DROP TABLE calendars;
