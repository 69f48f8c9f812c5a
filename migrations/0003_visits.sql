-- Store visits by auditors: every photo taken on a visit belongs to it.
CREATE TABLE visits (
    id             INTEGER PRIMARY KEY,
    store_id       TEXT NOT NULL,
    store_name     TEXT NOT NULL,
    auditor        TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    ended_at       TEXT,
    -- the watched import folder (a phone/camera sync folder), when there is one
    import_folder  TEXT
);
CREATE INDEX visits_open ON visits(ended_at, id);

CREATE TABLE visit_photos (
    visit_id     INTEGER NOT NULL REFERENCES visits(id),
    item_id      INTEGER NOT NULL REFERENCES items(id),
    added_at     TEXT NOT NULL,
    source_path  TEXT NOT NULL,
    -- the visit's verdict summary (accepted / retake), JSON of the photo's verdicts
    state        TEXT NOT NULL,
    verdict_json TEXT NOT NULL,
    PRIMARY KEY (visit_id, item_id)
);
CREATE INDEX visit_photos_by_time ON visit_photos(visit_id, added_at);

-- Checks that need the cloud LLM (a shot's rules): kept until the sync client sends them.
CREATE TABLE pending_cloud (
    id          INTEGER PRIMARY KEY,
    visit_id    INTEGER NOT NULL REFERENCES visits(id),
    item_id     INTEGER NOT NULL REFERENCES items(id),
    rule        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    created_at  TEXT NOT NULL,
    UNIQUE (visit_id, item_id, rule)
);
