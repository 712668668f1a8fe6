-- +goose Up
-- Regions: one hierarchy city → district → street → community → grid (GB/T 2260-style codes),
-- never deleted: valid_to retires a region (a merger, a redrawn grid) so old cases keep their
-- place. Each grid has a team (grid_members, 多元共治) and a responsibility list
-- (grid_responsibilities, 责任清单).
CREATE TABLE regions (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
    parent_code TEXT NULL REFERENCES regions (code),
    -- "/" + ancestor codes + own code joined by "/" + "/"; a subtree is a prefix. Byte order
    -- (SQLite's default BINARY collation) so that prefix ranges use the index.
    path        TEXT NOT NULL,
    boundary    TEXT NULL, -- GeoJSON Polygon or MultiPolygon, WGS-84
    coord_sys   TEXT NOT NULL DEFAULT 'wgs84' CHECK (coord_sys IN ('wgs84', 'gcj02', 'bd09')), -- what the boundary was sent in
    min_lng     REAL NULL,
    min_lat     REAL NULL,
    max_lng     REAL NULL,
    max_lat     REAL NULL,
    center_lng  REAL NULL,
    center_lat  REAL NULL,
    valid_from  TIMESTAMP NOT NULL,
    valid_to    TIMESTAMP NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX regions_path ON regions (path);
CREATE INDEX regions_parent_code ON regions (parent_code, code);
CREATE INDEX regions_level_path ON regions (level, path);

CREATE TABLE grid_members (
    id          INTEGER PRIMARY KEY,
    grid_code   TEXT NOT NULL REFERENCES regions (code),
    user_id     INTEGER NULL REFERENCES users (id) ON DELETE SET NULL, -- staff; NULL for volunteers and the like
    name        TEXT NOT NULL,
    phone       TEXT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('full_time_worker', 'part_time_worker', 'grid_leader', 'volunteer',
                                                    'property_manager', 'party_member', 'police_officer', 'other')),
    role_note   TEXT NULL, -- e.g. 楼栋长
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX grid_members_grid_code ON grid_members (grid_code);
CREATE UNIQUE INDEX grid_members_grid_user ON grid_members (grid_code, user_id);
CREATE INDEX grid_members_user_id ON grid_members (user_id);

CREATE TABLE grid_responsibilities (
    id            INTEGER PRIMARY KEY,
    grid_code     TEXT NOT NULL REFERENCES regions (code),
    category_code TEXT NOT NULL, -- a case category (小类) or class (大类); no FK: categories come later
    department_id INTEGER NULL REFERENCES departments (id),
    user_id       INTEGER NULL REFERENCES users (id),
    note          TEXT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (grid_code, category_code),
    CHECK ((department_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX grid_responsibilities_department_id ON grid_responsibilities (department_id);
CREATE INDEX grid_responsibilities_user_id ON grid_responsibilities (user_id);

-- +goose Down
DROP TABLE grid_responsibilities;
DROP TABLE grid_members;
DROP TABLE regions;
