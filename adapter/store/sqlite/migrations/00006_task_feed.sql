-- The Task change feed: one row per Task version per owner key, in commit
-- order, for loss-free polling (adapter/taskfeed.go decides the rows).
-- owner is the owner reference normalised ("system|value" for an
-- identifier, "Type/id" for a literal reference); seq is the version's
-- versions.seq, which is commit-ordered because writers are serialised, so
-- the feed's cursor is seq. status is the version's status (for a delete,
-- that of the version it deletes). A poll is one range scan of the primary
-- key.

-- +goose Up
CREATE TABLE task_feed (
	owner  TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	status TEXT    NOT NULL,
	PRIMARY KEY (owner, seq)
) STRICT, WITHOUT ROWID;

-- Tasks stored before the feed existed enter it with their current
-- version, under the keys of its owner reference and, for a literal
-- reference, the identifiers its target has now (as the Gateway writes
-- them), so that a poller starting from the beginning sees every Task.
INSERT OR IGNORE INTO task_feed (owner, seq, status)
SELECT CASE o.kind WHEN 'r' THEN o.system || '/' || o.value WHEN 'i' THEN o.system || '|' || o.value ELSE o.value END,
	r.current_seq,
	coalesce((SELECT s.code FROM search_token s WHERE s.key = r.key AND s.param = 'status'), '')
FROM resources r JOIN search_reference o ON o.key = r.key AND o.param = 'owner' AND o.kind IN ('r', 'i', 'u')
WHERE r.type = 'Task' AND NOT r.deleted
UNION
SELECT i.system || '|' || i.code,
	r.current_seq,
	coalesce((SELECT s.code FROM search_token s WHERE s.key = r.key AND s.param = 'status'), '')
FROM resources r
JOIN search_reference o ON o.key = r.key AND o.param = 'owner' AND o.kind = 'r'
JOIN resources x ON x.type = o.system AND x.id = o.value AND NOT x.deleted
JOIN search_token i ON i.key = x.key AND i.param = 'identifier'
WHERE r.type = 'Task' AND NOT r.deleted;

-- +goose Down
DROP TABLE task_feed;
