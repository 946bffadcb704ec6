-- Organisation-bound access and the audit trail: which organisations a
-- resource grants (written by every Put), which organisations may see a
-- person and why, the once-only keys (a client assertion's jti), and the
-- audit records. The Viewer condition of a search
-- (adapter/store/internal/sqlindex/access.go) probes resource_grant and
-- person_org by their primary keys, once per candidate.

-- +goose Up

-- The ODS codes a resource's current version grants; a delete leaves none.
CREATE TABLE resource_grant (
	key bigint NOT NULL,
	ods text   COLLATE "C" NOT NULL,
	PRIMARY KEY (key, ods)
);

-- The organisations that may see a person. The key serves the Viewer's
-- probe (person, ods), PersonOrgs (person, in ods and reason order) and
-- PutPersonOrgs's delete (person).
CREATE TABLE person_org (
	person text COLLATE "C" NOT NULL,
	ods    text COLLATE "C" NOT NULL,
	reason text COLLATE "C" NOT NULL,
	PRIMARY KEY (person, ods, reason)
);

-- Keys used once, until a time (Unix microseconds); expired ones are
-- forgotten a few at a time, oldest first.
CREATE TABLE nonce (
	key   text   COLLATE "C" PRIMARY KEY,
	until bigint NOT NULL
);
CREATE INDEX nonce_until ON nonce (until);

-- The audit trail, paged by position. recorded is Unix microseconds; body
-- is the AuditEvent as rendered. The indexes serve an auditor's usual
-- questions: a person's accesses, a client's, a period's.
CREATE TABLE audit (
	position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id       text   COLLATE "C" NOT NULL UNIQUE,
	recorded bigint NOT NULL,
	client   text   COLLATE "C" NOT NULL,
	ods      text   COLLATE "C" NOT NULL,
	action   text   COLLATE "C" NOT NULL,
	type     text   COLLATE "C" NOT NULL,
	resource text   COLLATE "C" NOT NULL,
	person   text   COLLATE "C" NOT NULL,
	outcome  text   COLLATE "C" NOT NULL,
	body     bytea  NOT NULL
);
CREATE INDEX audit_person ON audit (person, position) WHERE person <> '';
CREATE INDEX audit_client ON audit (client, position);
CREATE INDEX audit_recorded ON audit (recorded, position);

-- +goose Down
DROP TABLE audit;
DROP TABLE nonce;
DROP TABLE person_org;
DROP TABLE resource_grant;
