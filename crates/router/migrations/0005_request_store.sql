-- The store a request was made for (a station's job names it; `X-Store-Id` on /v1 calls), so
-- the admins' views filter by store.
ALTER TABLE requests ADD COLUMN store_id TEXT;
CREATE INDEX requests_store ON requests(store_id, started_at);
