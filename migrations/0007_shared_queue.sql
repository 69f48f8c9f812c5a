-- The team's shared queue (on the router): a local task's id there once it is raised or claimed,
-- and until when the router leases it to this station. A station connected to a router lets its
-- reviewers claim only the tasks it holds (or has not raised yet).
ALTER TABLE review_tasks ADD COLUMN shared_id INTEGER;
ALTER TABLE review_tasks ADD COLUMN shared_until_ms INTEGER;
CREATE UNIQUE INDEX review_tasks_by_shared ON review_tasks(shared_id) WHERE shared_id IS NOT NULL;
