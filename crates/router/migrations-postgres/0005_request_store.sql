-- PostgreSQL twin of migrations/0005_request_store.sql.
ALTER TABLE requests ADD COLUMN store_id TEXT;
CREATE INDEX requests_store ON requests(store_id, started_at);
