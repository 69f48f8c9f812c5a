-- Content-addressed blobs: the bytes live in <data>/blobs/<aa>/<sha256>; this row records them.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    byte_len    INTEGER NOT NULL,
    media_type  TEXT,
    created_at  TEXT NOT NULL
);

-- One row per distinct file content that was offered to the station, analyzed or not.
CREATE TABLE items (
    id              INTEGER PRIMARY KEY,
    -- NULL only when the file was refused before it was read (over the byte limit).
    blob_sha256     TEXT REFERENCES blobs(sha256),
    file_name       TEXT NOT NULL,
    source_path     TEXT NOT NULL,
    byte_len        INTEGER NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'photo',
    -- 'analyzed' or 'error'
    status          TEXT NOT NULL CHECK (status IN ('analyzed', 'error')),
    -- 'pass' / 'fail' for analyzed items, NULL for errors
    verdict         TEXT CHECK (verdict IN ('pass', 'fail')),
    error_code      TEXT,
    error_message   TEXT,
    format          TEXT,
    width           INTEGER,
    height          INTEGER,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX items_by_blob ON items(blob_sha256) WHERE blob_sha256 IS NOT NULL;
CREATE INDEX items_by_created ON items(created_at, id);
CREATE INDEX items_by_verdict ON items(status, verdict, created_at, id);

-- Every engine run over an item; append-only.
CREATE TABLE analyses (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES items(id),
    analyzer        TEXT NOT NULL,
    engine_version  TEXT NOT NULL,
    verdict         TEXT,
    result_json     TEXT NOT NULL,
    latency_ms      REAL NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX analyses_by_item ON analyses(item_id, id);
