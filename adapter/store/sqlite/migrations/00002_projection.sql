-- The shared-care projection: what the mapping profiles read from the current
-- version of each resource, what they could not map, and each person's
-- assembled record. The Gateway writes it in the transaction that stores the
-- resources, and can rebuild it from them (ClearProjections, ScanCurrent).
-- Absent text is '', never NULL.

-- +goose Up

-- One row per resource a profile mapped. facts is the profile's JSON, as
-- written. person is the NHS number the resource is about; patient_ref the
-- Patient id it references literally, so that its rows can follow when that
-- Patient's NHS number changes.
CREATE TABLE sc_projection (
	type        TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	version_id  INTEGER NOT NULL,
	person      TEXT    NOT NULL DEFAULT '',
	org         TEXT    NOT NULL DEFAULT '',
	patient_ref TEXT    NOT NULL DEFAULT '',
	profile     TEXT    NOT NULL DEFAULT '',
	facts       BLOB    NOT NULL,
	PRIMARY KEY (type, id)
) STRICT;

-- The rows of a person, and the rows that reference a Patient. Most rows
-- have neither, so the indexes leave out ''; the queries repeat the
-- condition so that the planner may use them.
CREATE INDEX sc_projection_person ON sc_projection (person) WHERE person <> '';
CREATE INDEX sc_projection_patient_ref ON sc_projection (patient_ref) WHERE patient_ref <> '';

-- What a profile could not map in a resource, one row per item; the rows of
-- a resource are replaced with its sc_projection row. The unmapped report
-- counts the resources per (profile, what, system, code).
CREATE TABLE sc_unmapped (
	type       TEXT NOT NULL,
	id         TEXT NOT NULL,
	profile    TEXT NOT NULL DEFAULT '',
	what       TEXT NOT NULL DEFAULT '',
	system     TEXT NOT NULL DEFAULT '',
	code       TEXT NOT NULL DEFAULT '',
	expression TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sc_unmapped_resource ON sc_unmapped (type, id);

-- Each person's assembled shared-care record (JSON), by NHS number.
CREATE TABLE sc_person (
	nhs_number TEXT NOT NULL PRIMARY KEY,
	record     BLOB NOT NULL
) STRICT;

-- +goose Down
DROP TABLE sc_person;
DROP TABLE sc_unmapped;
DROP TABLE sc_projection;
