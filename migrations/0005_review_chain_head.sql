-- The audit chain's head: how many decisions the chain holds and the hash it ends in, kept by
-- a trigger in the same transaction as each insert. Deleting rows from the end of the chain
-- leaves every remaining link intact; the head is what tells that rows are missing.
CREATE TABLE review_chain_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    decisions INTEGER NOT NULL,
    last_id   INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO review_chain_head (id, decisions, last_id, last_hash)
SELECT 1, COUNT(*), COALESCE(MAX(id), 0),
       COALESCE((SELECT hash FROM review_decisions ORDER BY id DESC LIMIT 1),
                '0000000000000000000000000000000000000000000000000000000000000000')
FROM review_decisions;
CREATE TRIGGER review_chain_head_follows AFTER INSERT ON review_decisions
BEGIN
    UPDATE review_chain_head SET decisions = decisions + 1, last_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
END;

-- "Due time" order of the queue (tasks without a due time last): the index holds the order's
-- own expressions, so a claim or a page never sorts the open tasks.
CREATE INDEX review_tasks_open_due ON review_tasks(state, due_at IS NULL, due_at, confidence, id);
