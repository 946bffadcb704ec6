package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The Subscription notification outbox (migration 00007). Writers are
// serialised, so a claim, which runs on the writer connection, never races
// another: a claimed entry's lease keeps the next claims off it.

const (
	subscriptionsSQL = `SELECT ` + versionColumns + `
FROM resources r JOIN versions v ON v.seq = r.current_seq
WHERE r.type = 'Subscription' AND NOT r.deleted ORDER BY r.id`
	// addOutboxSQL inserts the entries of a JSON array of rows, each an
	// array in sqlindex.OutboxColumns order.
	addOutboxSQL = `INSERT INTO outbox (` + sqlindex.OutboxColumns + `)
SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,
	value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13
FROM json_each(?) WHERE true`
	claimOutboxSQL = `UPDATE outbox SET lease_holder = ?1, lease_until = ?2
WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= ?3 AND lease_until <= ?3
	ORDER BY next_attempt, id LIMIT ?4)
RETURNING ` + sqlindex.OutboxColumns
	anyDueSQL        = `SELECT 1 FROM outbox WHERE state = 'pending' AND next_attempt <= ?1 AND lease_until <= ?1 LIMIT 1`
	recordAttemptSQL = `UPDATE outbox SET attempts = attempts + 1, state = ?1, next_attempt = ?2, last_error = ?3,
	delivered = ?4, lease_until = 0
WHERE id = ?5 AND state = 'pending' AND lease_holder = ?6`
	redriveSQL = `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?1, lease_until = 0
WHERE state = 'dead' AND (?2 OR subscription_id = ?3 OR id IN (SELECT value FROM json_each(?4)))
RETURNING ` + sqlindex.OutboxColumns
	pruneOutboxSQL = `DELETE FROM outbox WHERE id IN (
	SELECT id FROM outbox WHERE state = 'delivered' AND delivered < ? ORDER BY delivered LIMIT ?)`
)

// Subscriptions returns the current Subscriptions that are not deleted.
func (t *tx) Subscriptions(ctx context.Context) ([]store.Resource, error) {
	rows, err := t.stmt(ctx, t.st.txSubscriptions).QueryContext(ctx)
	if err != nil {
		return nil, translate(ctx, err, "read the Subscriptions")
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r, err := scanVersion(rows.Scan)
		if err != nil {
			return nil, translate(ctx, err, "read the Subscriptions")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "read the Subscriptions")
	}
	return out, nil
}

// AddOutbox inserts new outbox entries in one statement. After a failure
// the transaction only rolls back.
func (t *tx) AddOutbox(ctx context.Context, entries []store.OutboxEntry) error {
	if t.failed != nil {
		return t.failed
	}
	if len(entries) == 0 {
		return nil
	}
	rows := make([][14]any, len(entries))
	for i := range entries {
		e := &entries[i]
		if err := sqlindex.CheckOutboxEntry(e); err != nil {
			return t.fail(fhir.Wrap(err, "add to the outbox"))
		}
		rows[i] = [14]any{e.ID, e.Subscription, e.SubscriptionVersion, e.Type, e.ResourceID, e.ResourceVersion,
			sqlindex.MicrosOf(e.Created), string(e.State), e.Attempts, sqlindex.MicrosOf(e.NextAttempt), e.LastError,
			sqlindex.MicrosOf(e.Delivered), e.LeaseHolder, sqlindex.MicrosOf(e.LeaseUntil)}
	}
	arr, err := json.Marshal(rows)
	if err != nil {
		return t.fail(fhir.Wrap(err, "add to the outbox"))
	}
	if _, err := t.tx.ExecContext(ctx, addOutboxSQL, arr); err != nil {
		return t.fail(translate(ctx, err, "add to the outbox"))
	}
	return nil
}

// RecordAttempt records a delivery attempt on an entry a.Holder claimed.
func (t *tx) RecordAttempt(ctx context.Context, a store.OutboxAttempt) (bool, error) {
	if t.failed != nil {
		return false, t.failed
	}
	if err := sqlindex.CheckAttempt(&a); err != nil {
		return false, t.fail(fhir.Wrap(err, "record a delivery attempt"))
	}
	var delivered int64
	if a.State == store.OutboxDelivered {
		delivered = sqlindex.MicrosOf(a.At)
	}
	res, err := t.tx.ExecContext(ctx, recordAttemptSQL, string(a.State), sqlindex.MicrosOf(a.NextAttempt), a.Error, delivered, a.ID, a.Holder)
	if err != nil {
		return false, t.fail(translate(ctx, err, "record a delivery attempt"))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.fail(translate(ctx, err, "record a delivery attempt"))
	}
	return n == 1, nil
}

// Redrive makes the selected dead entries pending again.
func (t *tx) Redrive(ctx context.Context, sel store.OutboxSelection, now time.Time) ([]store.OutboxEntry, error) {
	if t.failed != nil {
		return nil, t.failed
	}
	ids, err := json.Marshal(append([]string{}, sel.IDs...))
	if err != nil {
		return nil, t.fail(fhir.Wrap(err, "redrive"))
	}
	subscription := sel.Subscription
	if subscription == "" {
		subscription = "\x00" // no Subscription id has it
	}
	out, err := queryOutbox(ctx, t.tx, "redrive", redriveSQL, sqlindex.MicrosOf(now), sel.All, subscription, ids)
	if err != nil {
		return nil, t.fail(err)
	}
	sqlindex.SortOutboxByID(out)
	return out, nil
}

// ClaimOutbox leases due pending entries to holder, on the writer
// connection, when a reader sees any.
func (s *Store) ClaimOutbox(ctx context.Context, holder string, now, until time.Time, limit int) ([]store.OutboxEntry, error) {
	if limit < 1 {
		return nil, nil
	}
	if err := sqlindex.CheckClaim(holder, now, until); err != nil {
		return nil, fhir.Wrap(err, "claim from the outbox")
	}
	// Most looks find nothing due: they ask a reader, and leave the one
	// writer to the writes.
	var due int
	err := s.reader.QueryRowContext(ctx, anyDueSQL, sqlindex.MicrosOf(now)).Scan(&due)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(ctx, err, "claim from the outbox")
	}
	out, err := queryOutbox(ctx, s.writer, "claim from the outbox", claimOutboxSQL, holder, sqlindex.MicrosOf(until), sqlindex.MicrosOf(now), limit)
	if err != nil {
		return nil, err
	}
	sqlindex.SortOutbox(out)
	return out, nil
}

// ListOutbox returns the entries q selects, in id order.
func (s *Store) ListOutbox(ctx context.Context, q store.OutboxQuery) ([]store.OutboxEntry, error) {
	if q.Count < 1 {
		return nil, nil
	}
	st := sqlindex.ListOutbox(sqlindex.SQLite, q)
	return queryOutbox(ctx, s.reader, "list the outbox", st.SQL(), st.Args()...)
}

// CountOutbox counts the pending and the dead entries.
func (s *Store) CountOutbox(ctx context.Context) (map[store.OutboxState]int, error) {
	rows, err := s.reader.QueryContext(ctx, sqlindex.CountOutboxSQL)
	if err != nil {
		return nil, translate(ctx, err, "count the outbox")
	}
	defer rows.Close()
	out, err := sqlindex.ScanOutboxCounts(rows)
	if err != nil {
		return nil, translate(ctx, err, "count the outbox")
	}
	return out, nil
}

// PruneOutbox deletes up to limit entries delivered before before.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	res, err := s.writer.ExecContext(ctx, pruneOutboxSQL, sqlindex.MicrosOf(before), limit)
	if err != nil {
		return 0, translate(ctx, err, "prune the outbox")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(ctx, err, "prune the outbox")
	}
	return int(n), nil
}

// queryOutbox runs a statement that returns outbox rows, as
// sqlindex.OutboxColumns.
func queryOutbox(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, op, query string, args ...any) ([]store.OutboxEntry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	defer rows.Close()
	out, err := sqlindex.ScanOutbox(rows)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	return out, nil
}
