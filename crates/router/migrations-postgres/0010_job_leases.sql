-- Replicas: a running job is held by the replica running it until lease_until_ms (renewed
-- while the call runs); another replica takes it over only once the lease has lapsed.
-- NULL: written by a router without replicas (the one process resumes all at its start).
ALTER TABLE jobs ADD COLUMN lease_until_ms BIGINT;
CREATE INDEX jobs_running ON jobs(id) WHERE state = 'running';
