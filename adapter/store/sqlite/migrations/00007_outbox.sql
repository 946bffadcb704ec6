-- The Subscription notification outbox: one row per notification, written in
-- the transaction of the change it is about and kept until it is delivered
-- (then pruned after a retention period) or, given up, on the dead-letter
-- list until redriven. Times are Unix microseconds; lease_until 0 is no lease.

-- +goose Up
CREATE TABLE outbox (
	id                   TEXT    PRIMARY KEY,
	subscription_id      TEXT    NOT NULL,
	subscription_version INTEGER NOT NULL,
	resource_type        TEXT    NOT NULL,
	resource_id          TEXT    NOT NULL,
	resource_version     INTEGER NOT NULL,
	created              INTEGER NOT NULL,
	state                TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts             INTEGER NOT NULL DEFAULT 0,
	next_attempt         INTEGER NOT NULL,
	last_error           TEXT    NOT NULL DEFAULT '',
	delivered            INTEGER NOT NULL DEFAULT 0,
	lease_holder         TEXT    NOT NULL DEFAULT '',
	lease_until          INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- Claiming: the due pending entries, soonest first.
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE state = 'pending';
-- Listing and counting by state, and redriving a Subscription's entries.
CREATE INDEX outbox_state ON outbox (state, id);
CREATE INDEX outbox_subscription ON outbox (subscription_id, state, id);
-- Pruning delivered entries, oldest first.
CREATE INDEX outbox_delivered ON outbox (delivered) WHERE state = 'delivered';

-- +goose Down
DROP TABLE outbox;
