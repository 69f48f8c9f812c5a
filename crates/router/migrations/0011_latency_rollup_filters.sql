-- The dashboard filtered by a device or a store reads the per-store, per-device latency
-- histograms of its window only: without these it reads every store's and device's rows of
-- the window (at 10M ledger rows on PostgreSQL, 0.46 s for a week by hour; BENCHMARKS.md).
CREATE INDEX latency_rollup_client ON latency_rollup(width_s, client_id, start_s);
CREATE INDEX latency_rollup_store ON latency_rollup(width_s, store_id, start_s);
