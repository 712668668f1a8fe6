-- +goose Up
-- attachments: the photos of cases (before, after, evidence). A staged upload (case_id NULL)
-- waits for a case action to bind it; what is stored is what is served: re-encoded without
-- EXIF (HEIC with its metadata items zeroed). The photo's own EXIF time and point are kept here
-- before they are stripped, next to the time and point the phone sent (in WGS-84).
CREATE TABLE attachments (
    id                     INTEGER PRIMARY KEY,
    case_id                BIGINT NULL REFERENCES cases (id),
    event_id               BIGINT NULL REFERENCES case_events (id),
    kind                   TEXT NOT NULL CHECK (kind IN ('before', 'after', 'evidence')),
    content_type           TEXT NOT NULL,
    size_bytes             BIGINT NOT NULL CHECK (size_bytes >= 0),
    width                  INTEGER NOT NULL,
    height                 INTEGER NOT NULL,
    sha256                 TEXT NOT NULL, -- hex digest of the served bytes (the ETag)
    blob_key               TEXT NOT NULL UNIQUE, -- random: not guessable from the id or the content
    thumb_key              TEXT NULL UNIQUE, -- NULL: no thumbnail (HEIC)
    original_name          TEXT NULL,
    taken_at               TIMESTAMP NULL, -- as the phone said
    lat                    REAL NULL, -- as the phone said, converted to WGS-84
    lng                    REAL NULL,
    coord_sys              TEXT NULL, -- the system lat/lng were sent in
    exif_taken_at          TIMESTAMP NULL, -- as the photo's own EXIF said
    exif_lat               REAL NULL,
    exif_lng               REAL NULL,
    uploaded_by_user_id    BIGINT NULL REFERENCES users (id),
    uploaded_by_api_key_id BIGINT NULL REFERENCES api_keys (id),
    created_at             TIMESTAMP NOT NULL,
    CHECK (event_id IS NULL OR case_id IS NOT NULL),
    CHECK (uploaded_by_user_id IS NULL OR uploaded_by_api_key_id IS NULL)
);
CREATE INDEX attachments_case_kind ON attachments (case_id, kind, created_at);
CREATE INDEX attachments_event ON attachments (event_id);
CREATE INDEX attachments_staged ON attachments (created_at) WHERE case_id IS NULL;

-- +goose Down
DROP TABLE attachments;
