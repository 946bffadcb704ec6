package sqlindex

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
)

// OutboxColumns are the columns of the outbox table, in the order
// ScanOutbox reads them and OutboxValues gives them.
const OutboxColumns = `id, subscription_id, subscription_version, resource_type, resource_id, resource_version,
created, state, attempts, next_attempt, last_error, delivered, lease_holder, lease_until`

// ScanOutbox reads outbox rows selected as OutboxColumns. Errors come back
// as the driver gave them, for the engine to translate.
func ScanOutbox(rows ResultRows) ([]store.OutboxEntry, error) {
	var out []store.OutboxEntry
	for rows.Next() {
		var e store.OutboxEntry
		var state string
		var created, next, delivered, leaseUntil int64
		if err := rows.Scan(&e.ID, &e.Subscription, &e.SubscriptionVersion, &e.Type, &e.ResourceID, &e.ResourceVersion,
			&created, &state, &e.Attempts, &next, &e.LastError, &delivered, &e.LeaseHolder, &leaseUntil); err != nil {
			return nil, err
		}
		e.State = store.OutboxState(state)
		e.Created, e.NextAttempt = Micros(created), Micros(next)
		e.Delivered, e.LeaseUntil = Micros(delivered), Micros(leaseUntil)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListOutbox returns the SELECT of the entries q selects, in id order.
func ListOutbox(d Dialect, q store.OutboxQuery) *Statement {
	st := NewStatement(d)
	st.Write(`SELECT ` + OutboxColumns + ` FROM outbox WHERE id > `)
	st.Arg(q.After)
	if q.State != "" {
		st.Write(` AND state = `)
		st.Arg(string(q.State))
	}
	if q.Subscription != "" {
		st.Write(` AND subscription_id = `)
		st.Arg(q.Subscription)
	}
	st.Write(` ORDER BY id LIMIT `)
	st.Arg(q.Count)
	return st
}

// CountOutboxSQL counts the pending and the dead entries, by state.
const CountOutboxSQL = `SELECT state, count(*) FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state`

// ScanOutboxCounts reads the result of CountOutboxSQL; states without
// entries count 0.
func ScanOutboxCounts(rows ResultRows) (map[store.OutboxState]int, error) {
	out := map[store.OutboxState]int{store.OutboxPending: 0, store.OutboxDead: 0}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[store.OutboxState(state)] = int(n)
	}
	return out, rows.Err()
}

// SortOutbox puts claimed entries in claim order: (NextAttempt, ID). An
// UPDATE ... RETURNING gives its rows in no particular order.
func SortOutbox(entries []store.OutboxEntry) {
	slices.SortFunc(entries, func(a, b store.OutboxEntry) int {
		return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.ID, b.ID))
	})
}

// SortOutboxByID puts entries in ID order, the order of listings.
func SortOutboxByID(entries []store.OutboxEntry) {
	slices.SortFunc(entries, func(a, b store.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
}

// CheckOutboxEntry refuses an entry its writer should never have built.
func CheckOutboxEntry(e *store.OutboxEntry) error {
	switch {
	case e.ID == "" || e.Subscription == "" || e.Type == "" || e.ResourceID == "":
		return errors.New("an outbox entry needs an id, a subscription and a resource")
	case e.State != store.OutboxPending && e.State != store.OutboxDelivered && e.State != store.OutboxDead:
		return errors.New("an outbox entry's state is pending, delivered or dead")
	}
	return nil
}

// CheckClaim refuses a claim without a holder or whose lease ends before
// it starts.
func CheckClaim(holder string, now, until time.Time) error {
	if holder == "" || !until.After(now) {
		return errors.New("a claim needs a holder and a lease that ends after now")
	}
	return nil
}

// CheckAttempt refuses an attempt its writer should never have built.
func CheckAttempt(a *store.OutboxAttempt) error {
	switch {
	case a.ID == "" || a.Holder == "":
		return errors.New("an attempt names its entry and its lease holder")
	case a.State != store.OutboxPending && a.State != store.OutboxDelivered && a.State != store.OutboxDead:
		return errors.New("an attempt leaves its entry pending, delivered or dead")
	}
	return nil
}

// MicrosOf returns t as stored: Unix microseconds, 0 for the zero time.
func MicrosOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Micros returns the time of stored Unix microseconds, in UTC; the zero
// time for 0.
func Micros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
