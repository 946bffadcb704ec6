-- The Task change feed: one row per Task version per owner key, for
-- loss-free polling (adapter/taskfeed.go decides the rows). owner is the
-- owner reference normalised ("system|value" for an identifier, "Type/id"
-- for a literal reference); seq is the version's versions.seq; status the
-- version's status (for a delete, that of the version it deletes).
--
-- A sequence hands out numbers in the order transactions ask, not the order
-- they commit, so seq alone is no cursor: a reader past seq 11 would never
-- see seq 10 committing after it. The feed is ordered by (txid, seq) instead,
-- txid being the writing transaction, and a poll only returns rows whose
-- txid is below the xmin of its own snapshot: every transaction below it
-- has ended, so no row will ever appear below that horizon again. A poll is
-- one range scan of the primary key.

-- +goose Up
CREATE TABLE task_feed (
	owner  text   COLLATE "C" NOT NULL,
	txid   xid8   NOT NULL DEFAULT pg_current_xact_id(),
	seq    bigint NOT NULL,
	status text   COLLATE "C" NOT NULL,
	PRIMARY KEY (owner, txid, seq)
);

-- Tasks stored before the feed existed enter it with their current
-- version, under the keys of its owner reference and, for a literal
-- reference, the identifiers its target has now (as the Gateway writes
-- them), so that a poller starting from the beginning sees every Task.
INSERT INTO task_feed (owner, txid, seq, status)
SELECT DISTINCT k.owner, v.txid, r.current_seq,
	coalesce((SELECT s.code FROM search_token s WHERE s.key = r.key AND s.param = 'status' LIMIT 1), '')
FROM resources r
JOIN versions v ON v.seq = r.current_seq
JOIN search_reference o ON o.key = r.key AND o.param = 'owner' AND o.kind IN ('r', 'i', 'u')
CROSS JOIN LATERAL (
	SELECT CASE o.kind WHEN 'r' THEN o.system || '/' || o.value WHEN 'i' THEN o.system || '|' || o.value ELSE o.value END
	UNION
	SELECT i.system || '|' || i.code
	FROM resources x JOIN search_token i ON i.key = x.key AND i.param = 'identifier'
	WHERE o.kind = 'r' AND x.type = o.system AND x.id = o.value AND NOT x.deleted
) AS k (owner)
WHERE r.type = 'Task' AND NOT r.deleted;

-- +goose Down
DROP TABLE task_feed;
