package postgres

import (
	"context"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The Subscription notification outbox (migration 00006). A claim is one
// UPDATE whose subquery locks the due rows it picks FOR UPDATE SKIP LOCKED:
// gateways claiming at the same moment take different rows, and a row
// another gateway leased after this statement's snapshot is re-checked
// under its lock (READ COMMITTED re-evaluates the subquery's conditions on
// the newest row version) and left alone.

const (
	addOutboxSQL = `INSERT INTO outbox (` + sqlindex.OutboxColumns + `)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
	$7::bigint[], $8::text[], $9::integer[], $10::bigint[], $11::text[], $12::bigint[], $13::text[], $14::bigint[])`
	claimOutboxSQL = `UPDATE outbox SET lease_holder = $1, lease_until = $2
WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= $3 AND lease_until <= $3
	ORDER BY next_attempt, id LIMIT $4 FOR UPDATE SKIP LOCKED)
RETURNING ` + sqlindex.OutboxColumns
	subscriptionsSQL = `SELECT ` + versionColumns + `
FROM resources r JOIN versions v ON v.seq = r.current_seq
WHERE r.type = 'Subscription' AND NOT r.deleted ORDER BY r.id`
	recordAttemptSQL = `UPDATE outbox SET attempts = attempts + 1, state = $1, next_attempt = $2, last_error = $3,
	delivered = $4, lease_until = 0
WHERE id = $5 AND state = 'pending' AND lease_holder = $6`
	redriveSQL = `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = $1, lease_until = 0
WHERE state = 'dead' AND ($2 OR subscription_id = $3 OR id = ANY($4::text[]))
RETURNING ` + sqlindex.OutboxColumns
	pruneOutboxSQL = `DELETE FROM outbox WHERE id IN (
	SELECT id FROM outbox WHERE state = 'delivered' AND delivered < $1 ORDER BY delivered LIMIT $2)`
)

// Subscriptions returns the current Subscriptions that are not deleted.
func (t *tx) Subscriptions(ctx context.Context) ([]store.Resource, error) {
	rows, err := t.tx.Query(ctx, subscriptionsSQL)
	if err != nil {
		return nil, translate(ctx, err, "read the Subscriptions")
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r, err := scanVersion(rows)
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
	var (
		ids, subs, types, resIDs, states, errs, holders []string
		subVersions, resVersions, created, next, done   []int64
		until                                           []int64
		attempts                                        []int32
	)
	for i := range entries {
		e := &entries[i]
		if err := sqlindex.CheckOutboxEntry(e); err != nil {
			return t.fail(fhir.Wrap(err, "add to the outbox"))
		}
		ids, subs, subVersions = append(ids, e.ID), append(subs, e.Subscription), append(subVersions, e.SubscriptionVersion)
		types, resIDs, resVersions = append(types, e.Type), append(resIDs, e.ResourceID), append(resVersions, e.ResourceVersion)
		created, states, attempts = append(created, sqlindex.MicrosOf(e.Created)), append(states, string(e.State)), append(attempts, int32(e.Attempts))
		next, errs, done = append(next, sqlindex.MicrosOf(e.NextAttempt)), append(errs, e.LastError), append(done, sqlindex.MicrosOf(e.Delivered))
		holders, until = append(holders, e.LeaseHolder), append(until, sqlindex.MicrosOf(e.LeaseUntil))
	}
	if _, err := t.tx.Exec(ctx, addOutboxSQL, ids, subs, subVersions, types, resIDs, resVersions,
		created, states, attempts, next, errs, done, holders, until); err != nil {
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
	tag, err := t.tx.Exec(ctx, recordAttemptSQL, string(a.State), sqlindex.MicrosOf(a.NextAttempt), a.Error, delivered, a.ID, a.Holder)
	if err != nil {
		return false, t.fail(translate(ctx, err, "record a delivery attempt"))
	}
	return tag.RowsAffected() == 1, nil
}

// Redrive makes the selected dead entries pending again.
func (t *tx) Redrive(ctx context.Context, sel store.OutboxSelection, now time.Time) ([]store.OutboxEntry, error) {
	if t.failed != nil {
		return nil, t.failed
	}
	subscription := sel.Subscription
	if subscription == "" {
		subscription = "\x01" // no Subscription id has it
	}
	out, err := queryOutbox(ctx, t.tx, "redrive", redriveSQL, sqlindex.MicrosOf(now), sel.All, subscription, append([]string{}, sel.IDs...))
	if err != nil {
		return nil, t.fail(err)
	}
	sqlindex.SortOutboxByID(out)
	return out, nil
}

// ClaimOutbox leases due pending entries to holder.
func (s *Store) ClaimOutbox(ctx context.Context, holder string, now, until time.Time, limit int) ([]store.OutboxEntry, error) {
	if limit < 1 {
		return nil, nil
	}
	if err := sqlindex.CheckClaim(holder, now, until); err != nil {
		return nil, fhir.Wrap(err, "claim from the outbox")
	}
	out, err := queryOutbox(ctx, s.pool, "claim from the outbox", claimOutboxSQL, holder, sqlindex.MicrosOf(until), sqlindex.MicrosOf(now), limit)
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
	st := sqlindex.ListOutbox(sqlindex.Postgres, q)
	return queryOutbox(ctx, s.pool, "list the outbox", st.SQL(), st.Args()...)
}

// CountOutbox counts the pending and the dead entries.
func (s *Store) CountOutbox(ctx context.Context) (map[store.OutboxState]int, error) {
	rows, err := s.pool.Query(ctx, sqlindex.CountOutboxSQL)
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
	tag, err := s.pool.Exec(ctx, pruneOutboxSQL, sqlindex.MicrosOf(before), limit)
	if err != nil {
		return 0, translate(ctx, err, "prune the outbox")
	}
	return int(tag.RowsAffected()), nil
}

// queryOutbox runs a statement that returns outbox rows, as
// sqlindex.OutboxColumns.
func queryOutbox(ctx context.Context, q querier, op, query string, args ...any) ([]store.OutboxEntry, error) {
	rows, err := q.Query(ctx, query, args...)
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
