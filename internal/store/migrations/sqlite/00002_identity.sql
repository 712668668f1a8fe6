-- +goose Up
-- Identity: departments, users and their data scopes, sessions (refresh tokens), sign-in
-- failure counters shared by replicas, and integrators' API keys.

-- departments are the functional departments cases are dispatched to (城管, 市场监管 …).
CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NULL,
    region_code TEXT NULL, -- the level it belongs to; no FK: regions may be imported later
    phone       TEXT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX departments_region_code ON departments (region_code);
CREATE INDEX departments_kind ON departments (kind);

-- users: one role and one data scope each (all | region | department | grids).
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE, -- stored lower case
    display_name        TEXT NOT NULL,
    phone               TEXT NULL,
    password_hash       TEXT NOT NULL,        -- argon2id, PHC string
    role                TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'handler', 'supervisor', 'grid_worker')),
    scope_kind          TEXT NOT NULL CHECK (scope_kind IN ('all', 'region', 'department', 'grids')),
    scope_region_code   TEXT NULL,
    scope_department_id INTEGER NULL REFERENCES departments (id),
    worker_kind         TEXT NULL CHECK (worker_kind IN ('full_time', 'part_time')),
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);
CREATE INDEX users_role ON users (role);
CREATE INDEX users_scope_region_code ON users (scope_region_code);
CREATE INDEX users_scope_department_id ON users (scope_department_id);

-- user_grids are the grids of a grid-scoped user (a grid worker patrols one or a few).
CREATE TABLE user_grids (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grid_code TEXT NOT NULL,
    PRIMARY KEY (user_id, grid_code)
);
CREATE INDEX user_grids_grid_code ON user_grids (grid_code);

-- refresh_tokens: opaque tokens kept as SHA-256 hashes; one family per sign-in.
CREATE TABLE refresh_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    family_id   TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP NULL,
    revoked_at  TIMESTAMP NULL,
    replaced_by INTEGER NULL -- the token this one was rotated into
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id, expires_at);

-- login_failures: one row per failed sign-in, per account and per client address (keys are
-- hashes), so that every replica counts the same failures.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    limit_key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (limit_key, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- api_keys: integrators' keys (gk_…); only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    prefix            TEXT NOT NULL,
    key_hash          TEXT NOT NULL UNIQUE,
    scopes            TEXT NOT NULL, -- space-separated, e.g. "cases:read cases:write"
    scope_region_code TEXT NULL,
    created_by        INTEGER NULL REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL,
    last_used_at      TIMESTAMP NULL,
    expires_at        TIMESTAMP NULL,
    revoked_at        TIMESTAMP NULL
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE user_grids;
DROP TABLE users;
DROP TABLE departments;
