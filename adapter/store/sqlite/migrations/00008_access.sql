-- Organisation-bound access and the audit trail: which organisations a
-- resource grants (written by every Put), which organisations may see a
-- person and why, the once-only keys (a client assertion's jti), and the
-- audit records. The Viewer condition of a search
-- (adapter/store/internal/sqlindex/access.go) probes resource_grant and
-- person_org by their primary keys, once per candidate.

-- +goose Up

-- The ODS codes a resource's current version grants; a delete leaves none.
CREATE TABLE resource_grant (
	key INTEGER NOT NULL,
	ods TEXT    NOT NULL,
	PRIMARY KEY (key, ods)
) STRICT, WITHOUT ROWID;

-- The organisations that may see a person. The key serves the Viewer's
-- probe (person, ods), PersonOrgs (person, in ods and reason order) and
-- PutPersonOrgs's delete (person).
CREATE TABLE person_org (
	person TEXT NOT NULL,
	ods    TEXT NOT NULL,
	reason TEXT NOT NULL,
	PRIMARY KEY (person, ods, reason)
) STRICT, WITHOUT ROWID;

-- Keys used once, until a time (Unix microseconds); expired ones are
-- forgotten a few at a time, oldest first.
CREATE TABLE nonce (
	key   TEXT    NOT NULL PRIMARY KEY,
	until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX nonce_until ON nonce (until);

-- The audit trail, paged by position (the rowid; AUTOINCREMENT never reuses
-- one). recorded is Unix microseconds; body is the AuditEvent as rendered.
-- The indexes serve an auditor's usual questions: a person's accesses, a
-- client's, a period's; each ends with the position (the rowid).
CREATE TABLE audit (
	position INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT    NOT NULL UNIQUE,
	recorded INTEGER NOT NULL,
	client   TEXT    NOT NULL,
	ods      TEXT    NOT NULL,
	action   TEXT    NOT NULL,
	type     TEXT    NOT NULL,
	resource TEXT    NOT NULL,
	person   TEXT    NOT NULL,
	outcome  TEXT    NOT NULL,
	body     BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_person ON audit (person) WHERE person <> '';
CREATE INDEX audit_client ON audit (client);
CREATE INDEX audit_recorded ON audit (recorded);

-- +goose Down
DROP TABLE audit;
DROP TABLE nonce;
DROP TABLE person_org;
DROP TABLE resource_grant;
