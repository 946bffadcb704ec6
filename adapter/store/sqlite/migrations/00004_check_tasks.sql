-- The Tasks the gateway raises for the annual SMI health check, by their
-- idempotency key: one Task per key, ever. The Task itself is an ordinary
-- stored resource; this table finds it by key and by person.

-- +goose Up
CREATE TABLE hc_task (
	key     TEXT NOT NULL PRIMARY KEY,
	person  TEXT NOT NULL,
	task_id TEXT NOT NULL,
	open    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX hc_task_person ON hc_task (person, key);

-- +goose Down
DROP TABLE hc_task;
