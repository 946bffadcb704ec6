package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The Task change feed (migration 00006): task_feed rows keyed by (owner,
// seq). Writers are serialised, so versions.seq is commit-ordered and is
// the whole cursor (ChangeCursor.Txid stays 0); a read transaction sees a
// prefix of the seqs, so its highest seq is its horizon.

const (
	// putTaskFeedSQL inserts the rows of a JSON array of [owner, id,
	// version, status] arrays, each at the seq of its version. A version
	// that is not there leaves seq NULL, which the table refuses.
	putTaskFeedSQL = `INSERT INTO task_feed (owner, seq, status)
SELECT value->>0, (SELECT v.seq FROM versions v WHERE v.type = 'Task' AND v.id = value->>1 AND v.version = value->>2), value->>3
FROM json_each(?)`
	// feedHorizonSQL is the highest seq a read transaction sees.
	feedHorizonSQL = `SELECT coalesce(max(seq), 0) FROM versions`
	// taskFeedSQL and taskFeedByStatusSQL read one owner's rows after a
	// seq, in seq order: one range scan of the primary key, and a lookup of
	// each row's version. The second keeps the statuses of a JSON array.
	taskFeedSQL         = taskFeedSelect + ` ORDER BY f.seq LIMIT ?`
	taskFeedByStatusSQL = taskFeedSelect + ` AND f.status IN (SELECT value FROM json_each(?)) ORDER BY f.seq LIMIT ?`
	taskFeedSelect      = `SELECT f.status, ` + versionColumns + `
FROM task_feed f JOIN versions v ON v.seq = f.seq JOIN resources r ON r.type = v.type AND r.id = v.id
WHERE f.owner = ? AND f.seq > ?`
	// indexEntriesSQL reads the token and reference rows under a JSON
	// array of params of the resources of one type named in a JSON array.
	indexEntriesSQL = `SELECT r.id, '` + sqlindex.EntryReference + `', s.param, s.kind, s.system, s.value
FROM resources r JOIN search_reference s ON s.key = r.key
WHERE r.type = ?1 AND r.id IN (SELECT value FROM json_each(?2)) AND s.param IN (SELECT value FROM json_each(?3))
UNION ALL
SELECT r.id, '` + sqlindex.EntryToken + `', t.param, '', t.system, t.code
FROM resources r JOIN search_token t ON t.key = r.key
WHERE r.type = ?1 AND r.id IN (SELECT value FROM json_each(?2)) AND t.param IN (SELECT value FROM json_each(?3))`
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
	vals := make([][4]any, len(rows))
	for i, r := range rows {
		if r.Owner == "" || r.ID == "" || r.VersionID < 1 {
			return t.fail(fhir.Wrap(errors.New("sqlite: a Task feed row needs an owner, a Task id and a version"), "put task feed"))
		}
		vals[i] = [4]any{sqlindex.FeedOwner(r.Owner), r.ID, r.VersionID, r.Status}
	}
	return t.execJSON(ctx, t.st.putTaskFeed, vals, "put task feed")
}

// IndexEntries returns the token and reference entries under params of the
// current versions of the named resources of typ.
func (t *tx) IndexEntries(ctx context.Context, typ string, ids []string, params []string) (map[string]*fhir.Index, error) {
	if len(ids) == 0 || len(params) == 0 {
		return map[string]*fhir.Index{}, nil
	}
	idArr, err := json.Marshal(ids)
	if err != nil {
		return nil, fhir.Wrap(err, "index entries")
	}
	paramArr, err := json.Marshal(params)
	if err != nil {
		return nil, fhir.Wrap(err, "index entries")
	}
	rows, err := t.stmt(ctx, t.st.indexEntries).QueryContext(ctx, typ, idArr, paramArr)
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

// TaskFeed returns a page of one owner's rows of the Task change feed. The
// rows and the horizon come from one read transaction, so the horizon
// covers exactly what the rows could include.
func (s *Store) TaskFeed(ctx context.Context, q store.TaskFeedQuery) (store.TaskFeedPage, error) {
	if err := q.Check(); err != nil {
		return store.TaskFeedPage{}, err
	}
	st, err := s.prepared(ctx)
	if err != nil {
		return store.TaskFeedPage{}, err
	}
	rtx, err := s.reader.BeginTx(ctx, nil)
	if err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	defer rtx.Rollback()
	var horizon store.ChangeCursor
	if err := rtx.StmtContext(ctx, st.feedHorizon).QueryRowContext(ctx).Scan(&horizon.Seq); err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	var rows *sql.Rows
	owner := sqlindex.FeedOwner(q.Owner)
	if len(q.Statuses) == 0 {
		rows, err = rtx.StmtContext(ctx, st.taskFeed).QueryContext(ctx, owner, q.After.Seq, q.Count+1)
	} else {
		var statuses []byte
		if statuses, err = json.Marshal(q.Statuses); err != nil {
			return store.TaskFeedPage{}, fhir.Wrap(err, "task feed")
		}
		rows, err = rtx.StmtContext(ctx, st.taskFeedByStatus).QueryContext(ctx, owner, q.After.Seq, statuses, q.Count+1)
	}
	if err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	defer rows.Close()
	entries := make([]store.TaskFeedEntry, 0, min(q.Count+1, 64))
	for rows.Next() {
		var e store.TaskFeedEntry
		var err error
		e.Version, err = scanVersion(func(dst ...any) error { return rows.Scan(append([]any{&e.Status}, dst...)...) })
		if err != nil {
			return store.TaskFeedPage{}, translate(ctx, err, "task feed")
		}
		e.At = store.ChangeCursor{Seq: e.Version.Seq}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return store.TaskFeedPage{}, translate(ctx, err, "task feed")
	}
	return sqlindex.FeedPage(entries, q, horizon), nil
}
