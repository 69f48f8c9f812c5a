-- The audit chain's seal (issue 18): each decision's hash and the chain's head, HMAC-SHA-256'd
-- with a key the database never holds (the station keeps it in the OS keyring), so whoever
-- holds only this file cannot insert a row, rewrite the head or recompute the chain unseen.
-- NULL: written while the station had no audit key (before it made one, or with no keyring).
ALTER TABLE review_decisions ADD COLUMN seal TEXT;
ALTER TABLE review_chain_head ADD COLUMN seal TEXT;
