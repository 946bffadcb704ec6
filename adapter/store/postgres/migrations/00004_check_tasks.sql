-- The Tasks the gateway raises for the annual SMI health check, by their
-- idempotency key: one Task per key, ever. The Task itself is an ordinary
-- stored resource; this table finds it by key and by person.

-- +goose Up
CREATE TABLE hc_task (
	key     text    COLLATE "C" PRIMARY KEY,
	person  text    COLLATE "C" NOT NULL,
	task_id text    COLLATE "C" NOT NULL,
	open    boolean NOT NULL
);
CREATE INDEX hc_task_person ON hc_task (person, key);

-- +goose Down
DROP TABLE hc_task;
