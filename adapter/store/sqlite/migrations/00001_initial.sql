-- The initial CareBridge schema: resources, their versions, and the search
-- index of their current versions (laid out by adapter/store/internal/sqlindex).
-- Times are Unix microseconds; booleans are 0 and 1.

-- +goose Up

-- Every version of every resource. seq is the change sequence: AUTOINCREMENT
-- never reuses a value, and writers are serialised, so seq order is commit
-- order. body is the JSON exactly as stored; NULL for a delete tombstone.
CREATE TABLE versions (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	type         TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	version      INTEGER NOT NULL,
	last_updated INTEGER NOT NULL,
	method       TEXT    NOT NULL,
	deleted      INTEGER NOT NULL,
	body         BLOB,
	UNIQUE (type, id, version)
) STRICT;

-- Type-level _history, newest first (seq is the rowid, which every index
-- ends with).
CREATE INDEX versions_type ON versions (type);

-- One row per resource ever created, tombstones included. key is the
-- creation order (Resource.Key); current_seq points at the current version.
CREATE TABLE resources (
	key          INTEGER PRIMARY KEY AUTOINCREMENT,
	type         TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	version      INTEGER NOT NULL,
	last_updated INTEGER NOT NULL,
	deleted      INTEGER NOT NULL,
	current_seq  INTEGER NOT NULL REFERENCES versions (seq),
	UNIQUE (type, id)
) STRICT;

-- Searches in creation order, and in _lastUpdated order either way. key is
-- the rowid, which every index ends with: naming it again would make the
-- planner treat it as a second column.
CREATE INDEX resources_type ON resources (type);
CREATE INDEX resources_type_updated ON resources (type, last_updated);

-- The search index of current versions. Each table's primary key is the
-- lookup by parameter and value; the (key, param) index serves replacing a
-- resource's rows, :missing, and the identifier linkage of references.
-- Rows carry no foreign key to resources: the store maintains them in the
-- same statements that write the version, and a check per row would cost
-- more than the thousand rows of a Bundle take to insert.

-- Tokens: codes, identifiers, statuses, booleans, uris.
CREATE TABLE search_token (
	param  TEXT    NOT NULL,
	code   TEXT    NOT NULL,
	system TEXT    NOT NULL,
	type   TEXT    NOT NULL,
	key    INTEGER NOT NULL,
	PRIMARY KEY (param, code, system, type, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_token_key ON search_token (key, param);

-- References, one row per part: kind 'r' literal (system = target type,
-- value = target id), 'u' URL, 'i' logical (system|value identifier), ''
-- an entry with none of these.
CREATE TABLE search_reference (
	param  TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	value  TEXT    NOT NULL,
	system TEXT    NOT NULL,
	type   TEXT    NOT NULL,
	key    INTEGER NOT NULL,
	PRIMARY KEY (param, kind, value, system, type, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_reference_key ON search_reference (key, param);

-- Dates as half-open intervals [low, high).
CREATE TABLE search_date (
	param TEXT    NOT NULL,
	type  TEXT    NOT NULL,
	low   INTEGER NOT NULL,
	high  INTEGER NOT NULL,
	key   INTEGER NOT NULL,
	PRIMARY KEY (param, type, low, high, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_date_key ON search_date (key, param);

-- Strings, normalised (lower case, no accents, single spaces).
CREATE TABLE search_string (
	param TEXT    NOT NULL,
	type  TEXT    NOT NULL,
	value TEXT    NOT NULL,
	key   INTEGER NOT NULL,
	PRIMARY KEY (param, type, value, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX search_string_key ON search_string (key, param);

-- +goose Down
DROP TABLE search_string;
DROP TABLE search_date;
DROP TABLE search_reference;
DROP TABLE search_token;
DROP TABLE resources;
DROP TABLE versions;
