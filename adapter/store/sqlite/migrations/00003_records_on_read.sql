-- Less to write per resource. People's shared-care records are assembled
-- from their sc_projection rows when read, so sc_person, which kept a copy of
-- each record, goes: a write that touches a person no longer rewrites the
-- record.

-- +goose Up
DROP TABLE sc_person;

-- Rows that reference a Patient are found, when that Patient changes, among
-- the rows of its person (sc_projection_person) and the rows still waiting
-- for a person: only those need an index of their own.
DROP INDEX sc_projection_patient_ref;
CREATE INDEX sc_projection_unresolved ON sc_projection (patient_ref) WHERE person = '' AND patient_ref <> '';

-- +goose Down
DROP INDEX sc_projection_unresolved;
CREATE INDEX sc_projection_patient_ref ON sc_projection (patient_ref) WHERE patient_ref <> '';

-- The records come back empty; `carebridge reindex` fills them.
CREATE TABLE sc_person (
	nhs_number TEXT NOT NULL PRIMARY KEY,
	record     BLOB NOT NULL
) STRICT;
