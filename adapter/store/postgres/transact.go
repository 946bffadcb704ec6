package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// Transact runs fn in one READ COMMITTED transaction and commits when fn
// returns nil. When the transaction loses a race (store.ErrVersionRace, a
// serialization failure, a deadlock), it rolls back, waits a few
// milliseconds (jittered, growing with each attempt) and runs fn again, up to
// store.MaxTransactAttempts times. Any other error from fn is returned as is.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.transactOnce(ctx, fn)
		if err == nil || attempt >= store.MaxTransactAttempts || !retryable(err) {
			return err
		}
		pause := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			pause.Stop()
			return fhir.Wrap(ctx.Err(), "transaction")
		case <-pause.C:
		}
	}
}

// backoff returns the pause before attempt+1: random, below 2ms doubled per
// attempt, at most 100ms.
func backoff(attempt int) time.Duration {
	limit := min(2*time.Millisecond<<attempt, 100*time.Millisecond)
	return rand.N(limit)
}

// retryable reports whether running fn again may succeed.
func retryable(err error) bool {
	return errors.Is(err, store.ErrVersionRace) || errors.Is(err, errSerialization)
}

func (s *Store) transactOnce(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return translate(ctx, err, "begin transaction")
	}
	t := &tx{tx: ptx}
	defer t.end(ctx)
	if err := fn(ctx, t); err != nil {
		return err
	}
	if t.failed != nil {
		// fn went on after a failed write: what the write did in part
		// must not be committed.
		return t.failed
	}
	if err := ctx.Err(); err != nil {
		return fhir.Wrap(err, "transaction")
	}
	t.done = true
	if err := ptx.Commit(ctx); err != nil {
		return translate(ctx, err, "commit")
	}
	return nil
}

// tx is a store.Tx on one pooled connection. After a write (Put,
// PutProjections, ClearProjections) fails the transaction can only
// roll back.
type tx struct {
	tx     pgx.Tx
	failed error // the error of a failed write
	done   bool
	fresh  sqlindex.Fresh
}

// fail records err, when not nil, as the failure of a write, and returns it.
func (t *tx) fail(err error) error {
	if err != nil && t.failed == nil {
		t.failed = err
	}
	return err
}

// end rolls the transaction back unless it committed. It does so even when
// ctx has ended, so that the connection goes back to the pool clean.
func (t *tx) end(ctx context.Context) {
	if t.done {
		return
	}
	t.done = true
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	t.tx.Rollback(rctx)
}

// Current returns the current version of each named resource that exists,
// deleted ones included. It locks their rows until the transaction ends
// (FOR UPDATE, in id order), since the caller reads them to write their next
// versions: a concurrent writer of the same resources waits here, then reads
// what the first committed, instead of racing it to a version conflict.
func (t *tx) Current(ctx context.Context, typ string, ids []string) (map[string]store.Current, error) {
	out := make(map[string]store.Current, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT id, version, last_updated, deleted FROM resources
		WHERE type = $1 AND id = ANY($2) ORDER BY id FOR UPDATE`, typ, ids)
	if err != nil {
		return nil, translate(ctx, err, "current versions")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c store.Current
		var lastUpdated int64
		if err := rows.Scan(&id, &c.VersionID, &lastUpdated, &c.Deleted); err != nil {
			return nil, translate(ctx, err, "current versions")
		}
		c.LastUpdated = time.UnixMicro(lastUpdated).UTC()
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "current versions")
	}
	return out, nil
}

// Read returns the current version of a resource, as the transaction sees it.
func (t *tx) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	return readCurrent(ctx, t.tx, typ, id)
}

// Search runs q inside the transaction: it sees the transaction's writes.
func (t *tx) Search(ctx context.Context, q *fhir.Query, viewer *store.Viewer) (store.SearchResult, error) {
	return search(ctx, t.tx, q, viewer)
}

// Visible reports whether v may see typ/id, as the transaction sees them.
func (t *tx) Visible(ctx context.Context, typ, id string, v store.Viewer) (bool, error) {
	return visible(ctx, t.tx, typ, id, v)
}

// Lock takes pg_advisory_xact_lock on a 64-bit FNV-1a hash of key, held until
// the transaction ends. Two keys may share a hash; they then merely wait for
// each other.
func (t *tx) Lock(ctx context.Context, keys ...string) error {
	switch len(keys) {
	case 0:
		return nil
	case 1:
		if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryKey(keys[0])); err != nil {
			return translate(ctx, err, "lock")
		}
		return nil
	}
	b := &pgx.Batch{}
	queueLocks(b, keys)
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return translate(ctx, err, "lock")
	}
	return nil
}

// queueLocks queues on b the advisory locks of keys, in hash order, each
// hash once.
func queueLocks(b *pgx.Batch, keys []string) {
	hashes := make([]int64, len(keys))
	for i, k := range keys {
		hashes[i] = advisoryKey(k)
	}
	slices.Sort(hashes)
	for _, h := range slices.Compact(hashes) {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, h)
	}
}

// advisoryKey returns the advisory lock key of key: its 64-bit FNV-1a hash.
func advisoryKey(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64())
}
