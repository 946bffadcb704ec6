package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The Task change feed (migration 00005): task_feed rows keyed by (owner,
// txid, seq), read in (txid, seq) order up to the horizon of the reading
// statement's snapshot.
//
// The horizon is pg_snapshot_xmin(pg_current_snapshot()): every
// transaction with a lower id has ended, so the set of rows below it is
// final, and a cursor that only moves through final rows never passes a row
// that commits later. It must be the xmin of the snapshot the rows are read
// with: pg_current_snapshot() returns the active snapshot, which in a READ
// COMMITTED statement is the statement's own, so the one statement below
// reads its horizon and its rows from one snapshot. (A horizon read in a
// statement of its own could be newer than the rows' snapshot, and a row
// committed in between would fall behind the next cursor.)

const (
	// putTaskFeedSQL inserts rows given as arrays, each at the seq of its
	// version, found by a scalar subquery so that each is one index probe
	// however many rows there are. A version that is not there leaves seq
	// NULL, which the table refuses. txid is the transaction's.
	putTaskFeedSQL = `INSERT INTO task_feed (owner, seq, status)
SELECT o.owner, (SELECT v.seq FROM versions v WHERE v.type = 'Task' AND v.id = o.id AND v.version = o.version), o.status
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS o (owner, id, version, status)`

	// taskFeedSQL reads the horizon, then up to $4 of owner $1's rows after
	// the cursor ($2, $3) and below the horizon, in (txid, seq) order: a
	// range scan of the primary key, and a lookup of each row's version. It
	// returns one row with NULL columns when there are none. $5 holds the
	// statuses to keep, or is empty.
	taskFeedSQL = `WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT h.xmin::text::bigint, c.txid IS NOT NULL, coalesce(c.txid, 0), coalesce(c.status, ''),
	coalesce(c.seq, 0), coalesce(c.type, ''), coalesce(c.id, ''), coalesce(c.version, 0), coalesce(c.last_updated, 0),
	coalesce(c.method, ''), coalesce(c.deleted, false), c.body, coalesce(c.key, 0)
FROM h LEFT JOIN LATERAL (
	SELECT f.txid::text::bigint AS txid, f.status, ` + versionColumns + `
	FROM task_feed f JOIN versions v ON v.seq = f.seq JOIN resources r ON r.type = v.type AND r.id = v.id
	WHERE f.owner = $1 AND (f.txid, f.seq) > ($2::text::xid8, $3) AND f.txid < h.xmin
		AND (cardinality($5::text[]) = 0 OR f.status = ANY($5::text[]))
	ORDER BY f.txid, f.seq
	LIMIT $4
) c ON TRUE
ORDER BY c.txid, c.seq`

	// indexEntriesSQL reads the token and reference rows under params $3
	// of the resources of type $1 named in $2.
	indexEntriesSQL = `SELECT r.id, '` + sqlindex.EntryReference + `', s.param, s.kind, s.system, s.value
FROM resources r JOIN search_reference s ON s.key = r.key
WHERE r.type = $1 AND r.id = ANY($2::text[]) AND s.param = ANY($3::text[])
UNION ALL
SELECT r.id, '` + sqlindex.EntryToken + `', t.param, '', t.system, t.code
FROM resources r JOIN search_token t ON t.key = r.key
WHERE r.type = $1 AND r.id = ANY($2::text[]) AND t.param = ANY($3::text[])`
)

// PutTaskFeed adds rows to the Task change feed, in one statement. After a
// failure the transaction only rolls back.
func (t *tx) PutTaskFeed(ctx context.Context, rows []store.TaskFeedRow) error {
	if t.failed != nil {
		return t.failed
	}
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	owners, ids, statuses, versions := make([]string, n), make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range rows {
		if r.Owner == "" || r.ID == "" || r.VersionID < 1 {
			return t.fail(fhir.Wrap(errors.New("postgres: a Task feed row needs an owner, a Task id and a version"), "put task feed"))
		}
		owners[i], ids[i], versions[i], statuses[i] = sqlindex.FeedOwner(r.Owner), r.ID, r.VersionID, r.Status
	}
	if _, err := t.tx.Exec(ctx, putTaskFeedSQL, owners, ids, versions, statuses); err != nil {
		return t.fail(translate(ctx, err, "put task feed"))
	}
	return nil
}

// IndexEntries returns the token and reference entries under params of the
// current versions of the named resources of typ.
func (t *tx) IndexEntries(ctx context.Context, typ string, ids []string, params []string) (map[string]*fhir.Index, error) {
	if len(ids) == 0 || len(params) == 0 {
		return map[string]*fhir.Index{}, nil
	}
	rows, err := t.tx.Query(ctx, indexEntriesSQL, typ, ids, params)
	if err != nil {
		return nil, translate(ctx, err, "index entries")
	}
	defer rows.Close()
	out, err := sqlindex.ScanIndexEntries(rows)
	if err != nil {
		return nil, translate(ctx, err, "index entries")
	}
	return out, nil
}

// TaskFeed returns a page of one owner's rows of the Task change feed, in
// one statement.
func (s *Store) TaskFeed(ctx context.Context, q store.TaskFeedQuery) (store.TaskFeedPage, error) {
	if err := q.Check(); err != nil {
		return store.TaskFeedPage{}, err
	}
	statuses := q.Statuses
	if statuses == nil {
		statuses = []string{}
	}
	rows, err := s.pool.Query(ctx, taskFeedSQL, sqlindex.FeedOwner(q.Owner), strconv.FormatUint(q.After.Txid, 10), q.After.Seq, q.Count+1, statuses)
	if err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	defer rows.Close()
	var horizon, txid int64
	var found bool
	var e store.TaskFeedEntry
	head := prefixed{rows, []any{&horizon, &found, &txid, &e.Status}}
	entries := make([]store.TaskFeedEntry, 0, min(q.Count+1, 64))
	for rows.Next() {
		e.Version, err = scanVersion(head)
		if err != nil {
			return store.TaskFeedPage{}, translate(ctx, err, "task feed")
		}
		if found { // otherwise the one row says there are none, and gives the horizon
			e.At = store.ChangeCursor{Txid: uint64(txid), Seq: e.Version.Seq}
			entries = append(entries, e)
		}
	}
	if err := rows.Err(); err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	return sqlindex.FeedPage(entries, q, store.ChangeCursor{Txid: uint64(horizon)}), nil
}

// prefixed is a row whose first columns go to head, and the rest to the
// destinations Scan is given: it lets scanVersion read a version that
// follows other columns.
type prefixed struct {
	rows pgx.Rows
	head []any
}

func (p prefixed) Scan(dst ...any) error {
	return p.rows.Scan(append(p.head[:len(p.head):len(p.head)], dst...)...)
}
