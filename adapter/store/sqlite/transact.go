package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// Transact runs fn in one write transaction (BEGIN IMMEDIATE on the writer
// connection) and commits when fn returns nil. When fn fails with
// store.ErrVersionRace it runs fn again, up to store.MaxTransactAttempts
// times; any other error from fn is returned as is, after rolling back.
func (s *Store) Transact(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	var err error
	for attempt := 1; attempt <= store.MaxTransactAttempts; attempt++ {
		err = s.transactOnce(ctx, fn)
		if err == nil || !errors.Is(err, store.ErrVersionRace) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (s *Store) transactOnce(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	st, err := s.prepared(ctx)
	if err != nil {
		return err
	}
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return translate(ctx, err, "begin transaction")
	}
	t := &tx{tx: sqlTx, st: st}
	defer t.end()
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
	if err := sqlTx.Commit(); err != nil {
		return translate(ctx, err, "commit")
	}
	return nil
}

// tx is a store.Tx on the writer connection. After a write (Put,
// PutProjections, ClearProjections) fails the transaction can only
// roll back.
type tx struct {
	tx     *sql.Tx
	st     *statements
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

func (t *tx) end() {
	if !t.done {
		t.done = true
		t.tx.Rollback()
	}
}

// stmt returns a prepared statement bound to the transaction.
func (t *tx) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt { return t.tx.StmtContext(ctx, s) }

// Current returns the current version of each named resource that exists,
// deleted ones included.
func (t *tx) Current(ctx context.Context, typ string, ids []string) (map[string]store.Current, error) {
	out := make(map[string]store.Current, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(id))
	}
	b.WriteByte(']')
	rows, err := t.stmt(ctx, t.st.current).QueryContext(ctx, typ, b.String())
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

const currentSQL = `SELECT id, version, last_updated, deleted FROM resources
WHERE type = ? AND id IN (SELECT value FROM json_each(?))`

// Read returns the current version of a resource, as the transaction sees it.
func (t *tx) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	return readCurrent(ctx, t.stmt(ctx, t.st.txRead), typ, id)
}

// Search runs q inside the transaction: it sees the transaction's writes.
func (t *tx) Search(ctx context.Context, q *fhir.Query, viewer *store.Viewer) (store.SearchResult, error) {
	return search(ctx, t.tx, q, viewer)
}

// Visible reports whether v may see typ/id, as the transaction sees them.
func (t *tx) Visible(ctx context.Context, typ, id string, v store.Viewer) (bool, error) {
	return visible(ctx, t.tx, typ, id, v)
}

// Lock does nothing but check ctx: SQLite write transactions already run one
// at a time.
func (t *tx) Lock(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return fhir.Wrap(err, "lock")
	}
	return nil
}
