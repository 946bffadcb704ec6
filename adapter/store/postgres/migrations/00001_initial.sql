-- The initial CareBridge schema: resources, their versions, and the search
-- index of their current versions (laid out by adapter/store/internal/sqlindex).
-- Times are Unix microseconds. Text that is searched or compared is
-- COLLATE "C": byte order, which the prefix ranges of string search rely on,
-- and cheaper comparisons than a linguistic collation.

-- +goose Up

-- Every version of every resource. seq is the change sequence: unique and
-- increasing, but, as any sequence, handed out in the order transactions ask,
-- not the order they commit. txid is the writing transaction, for a
-- commit-ordered change cursor (pg_snapshot_xmin). body is the JSON exactly as
-- stored (bytea, never jsonb, which would reorder and respace it); NULL for a
-- delete tombstone.
CREATE TABLE versions (
	seq          bigserial PRIMARY KEY,
	txid         xid8    NOT NULL DEFAULT pg_current_xact_id(),
	version      bigint  NOT NULL,
	last_updated bigint  NOT NULL,
	deleted      boolean NOT NULL,
	type         text    COLLATE "C" NOT NULL,
	id           text    COLLATE "C" NOT NULL,
	method       text    NOT NULL,
	body         bytea,
	CONSTRAINT versions_version_unique UNIQUE (type, id, version)
);

-- Type-level _history, newest first.
CREATE INDEX versions_type_seq ON versions (type, seq);

-- One row per resource ever created, tombstones included. key is the
-- creation order (Resource.Key); current_seq points at the current version.
CREATE TABLE resources (
	key          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	version      bigint  NOT NULL,
	last_updated bigint  NOT NULL,
	current_seq  bigint  NOT NULL REFERENCES versions (seq),
	deleted      boolean NOT NULL,
	type         text    COLLATE "C" NOT NULL,
	id           text    COLLATE "C" NOT NULL,
	CONSTRAINT resources_id_unique UNIQUE (type, id)
);

-- Searches in creation order, and in _lastUpdated order either way.
CREATE INDEX resources_type_key ON resources (type, key);
CREATE INDEX resources_type_updated ON resources (type, last_updated, key);

-- The search index of current versions. Each table's primary key is the
-- lookup by parameter and value; the (key, param) index serves replacing a
-- resource's rows, :missing, and the identifier linkage of references.
-- Rows carry no foreign key to resources: the store writes them in the same
-- transaction as the version, and a check per row would cost more than the
-- thousand rows of a Bundle take to insert.

-- Tokens: codes, identifiers, statuses, booleans, uris.
CREATE TABLE search_token (
	key    bigint NOT NULL,
	param  text   COLLATE "C" NOT NULL,
	code   text   COLLATE "C" NOT NULL,
	system text   COLLATE "C" NOT NULL,
	type   text   COLLATE "C" NOT NULL,
	PRIMARY KEY (param, code, system, type, key)
);
CREATE INDEX search_token_key ON search_token (key, param);

-- References, one row per part: kind 'r' literal (system = target type,
-- value = target id), 'u' URL, 'i' logical (system|value identifier), ''
-- an entry with none of these.
CREATE TABLE search_reference (
	key    bigint NOT NULL,
	param  text   COLLATE "C" NOT NULL,
	kind   text   COLLATE "C" NOT NULL,
	value  text   COLLATE "C" NOT NULL,
	system text   COLLATE "C" NOT NULL,
	type   text   COLLATE "C" NOT NULL,
	PRIMARY KEY (param, kind, value, system, type, key)
);
CREATE INDEX search_reference_key ON search_reference (key, param);

-- Dates as half-open intervals [low, high).
CREATE TABLE search_date (
	key   bigint NOT NULL,
	low   bigint NOT NULL,
	high  bigint NOT NULL,
	param text   COLLATE "C" NOT NULL,
	type  text   COLLATE "C" NOT NULL,
	PRIMARY KEY (param, type, low, high, key)
);
CREATE INDEX search_date_key ON search_date (key, param);

-- Strings, normalised (lower case, no accents, single spaces).
CREATE TABLE search_string (
	key   bigint NOT NULL,
	param text   COLLATE "C" NOT NULL,
	type  text   COLLATE "C" NOT NULL,
	value text   COLLATE "C" NOT NULL,
	PRIMARY KEY (param, type, value, key)
);
CREATE INDEX search_string_key ON search_string (key, param);

-- +goose Down
DROP TABLE search_string;
DROP TABLE search_date;
DROP TABLE search_reference;
DROP TABLE search_token;
DROP TABLE resources;
DROP TABLE versions;
