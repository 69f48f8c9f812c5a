-- Documents (PDF) have pages; photos have a category verdict against an expected category.
ALTER TABLE items ADD COLUMN page_count INTEGER;
ALTER TABLE items ADD COLUMN expected_category TEXT;
-- Latest category verdict (match / wrong_category / uncertain / irrelevant / predicted), for lists.
ALTER TABLE items ADD COLUMN category_verdict TEXT;

-- Which execution provider and which model packages produced an analysis; the page it covers.
ALTER TABLE analyses ADD COLUMN provider TEXT;
ALTER TABLE analyses ADD COLUMN model_versions TEXT;
ALTER TABLE analyses ADD COLUMN page INTEGER;
CREATE INDEX analyses_by_item_page ON analyses(item_id, analyzer, page, id);

-- Category-gate embeddings, cached by content and model: reference photos and items alike are
-- embedded once per model file.
CREATE TABLE embeddings (
    blob_sha256   TEXT NOT NULL CHECK (length(blob_sha256) = 64),
    model_sha256  TEXT NOT NULL,
    -- little-endian f32 × 1280, L2-normalized
    vector        BLOB NOT NULL,
    -- JSON [[class index, probability], …] of the top ImageNet classes
    imagenet_top  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (blob_sha256, model_sha256)
);
