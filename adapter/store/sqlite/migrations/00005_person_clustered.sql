-- A person's projection rows are read together, and a full reconciliation
-- reads everyone's in NHS number order. With an index on person alone each
-- row is a random seek into the table, wherever its resource was written;
-- an index that carries the whole row keeps a person's rows side by side
-- and reads everyone in one pass. It costs the bytes of the rows again.

-- +goose Up
DROP INDEX sc_projection_person;
CREATE INDEX sc_projection_person ON sc_projection (person, type, id, version_id, org, patient_ref, profile, facts) WHERE person <> '';

-- +goose Down
DROP INDEX sc_projection_person;
CREATE INDEX sc_projection_person ON sc_projection (person) WHERE person <> '';
