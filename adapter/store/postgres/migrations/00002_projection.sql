-- The shared-care projection: what the mapping profiles read from the current
-- version of each resource, what they could not map, and each person's
-- assembled record. The Gateway writes it in the transaction that stores the
-- resources, and can rebuild it from them (ClearProjections, ScanCurrent).
-- Absent text is '', never NULL. Text that is compared or ordered is
-- COLLATE "C", so that rows come back in byte order, as from SQLite. JSON is
-- bytea, as written (see versions.body).

-- +goose Up

-- One row per resource a profile mapped. person is the NHS number the
-- resource is about; patient_ref the Patient id it references literally, so
-- that its rows can follow when that Patient's NHS number changes.
CREATE TABLE sc_projection (
	version_id  bigint NOT NULL,
	type        text   COLLATE "C" NOT NULL,
	id          text   COLLATE "C" NOT NULL,
	person      text   COLLATE "C" NOT NULL DEFAULT '',
	org         text   COLLATE "C" NOT NULL DEFAULT '',
	patient_ref text   COLLATE "C" NOT NULL DEFAULT '',
	profile     text   COLLATE "C" NOT NULL DEFAULT '',
	facts       bytea  NOT NULL,
	CONSTRAINT sc_projection_pkey PRIMARY KEY (type, id)
);

-- The rows of a person, and the rows that reference a Patient. Most rows
-- have neither, so the indexes leave out ''; the queries repeat the
-- condition so that the planner may use them with any parameter value.
CREATE INDEX sc_projection_person ON sc_projection (person) WHERE person <> '';
CREATE INDEX sc_projection_patient_ref ON sc_projection (patient_ref) WHERE patient_ref <> '';

-- What a profile could not map in a resource, one row per item; the rows of
-- a resource are replaced with its sc_projection row. The unmapped report
-- counts the resources per (profile, what, system, code).
CREATE TABLE sc_unmapped (
	type       text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	profile    text COLLATE "C" NOT NULL DEFAULT '',
	what       text COLLATE "C" NOT NULL DEFAULT '',
	system     text COLLATE "C" NOT NULL DEFAULT '',
	code       text COLLATE "C" NOT NULL DEFAULT '',
	expression text COLLATE "C" NOT NULL DEFAULT '',
	reason     text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX sc_unmapped_resource ON sc_unmapped (type, id);

-- Each person's assembled shared-care record (JSON), by NHS number.
CREATE TABLE sc_person (
	nhs_number text  COLLATE "C" PRIMARY KEY,
	record     bytea NOT NULL
);

-- +goose Down
DROP TABLE sc_person;
DROP TABLE sc_unmapped;
DROP TABLE sc_projection;
