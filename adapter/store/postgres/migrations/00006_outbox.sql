-- The Subscription notification outbox: one row per notification, written in
-- the transaction of the change it is about and kept until it is delivered
-- (then pruned after a retention period) or, given up, on the dead-letter
-- list until redriven. Gateways claim due rows with FOR UPDATE SKIP LOCKED
-- and a lease, so that two never deliver one row at once. Times are Unix
-- microseconds; lease_until 0 is no lease.

-- +goose Up
CREATE TABLE outbox (
	id                   text    COLLATE "C" PRIMARY KEY,
	subscription_id      text    COLLATE "C" NOT NULL,
	subscription_version bigint  NOT NULL,
	resource_type        text    COLLATE "C" NOT NULL,
	resource_id          text    COLLATE "C" NOT NULL,
	resource_version     bigint  NOT NULL,
	created              bigint  NOT NULL,
	state                text    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts             integer NOT NULL DEFAULT 0,
	next_attempt         bigint  NOT NULL,
	last_error           text    NOT NULL DEFAULT '',
	delivered            bigint  NOT NULL DEFAULT 0,
	lease_holder         text    NOT NULL DEFAULT '',
	lease_until          bigint  NOT NULL DEFAULT 0
);

-- Claiming: the due pending entries, soonest first.
CREATE INDEX outbox_due ON outbox (next_attempt, id) WHERE state = 'pending';
-- Listing and counting by state, and redriving a Subscription's entries.
CREATE INDEX outbox_state ON outbox (state, id);
CREATE INDEX outbox_subscription ON outbox (subscription_id, state, id);
-- Pruning delivered entries, oldest first.
CREATE INDEX outbox_delivered ON outbox (delivered) WHERE state = 'delivered';

-- +goose Down
DROP TABLE outbox;
