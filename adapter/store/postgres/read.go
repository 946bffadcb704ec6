package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// versionColumns are the columns scanVersion reads, from versions v joined
// with resources r.
const versionColumns = `v.seq, v.type, v.id, v.version, v.last_updated, v.method, v.deleted, v.body, r.key`

func scanVersion(row pgx.Row) (store.Resource, error) {
	var r store.Resource
	var lastUpdated int64
	err := row.Scan(&r.Seq, &r.Type, &r.ID, &r.VersionID, &lastUpdated, &r.Method, &r.Deleted, &r.Body, &r.Key)
	r.LastUpdated = time.UnixMicro(lastUpdated).UTC()
	return r, err
}

const readSQL = `SELECT ` + versionColumns + `
FROM resources r JOIN versions v ON v.seq = r.current_seq
WHERE r.type = $1 AND r.id = $2`

const vreadSQL = `SELECT ` + versionColumns + `
FROM versions v JOIN resources r ON r.type = v.type AND r.id = v.id
WHERE v.type = $1 AND v.id = $2 AND v.version = $3`

// Read returns the current version of a resource: fhir.NotFound when it never
// existed, fhir.Gone with the tombstone when it was deleted.
func (s *Store) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	return readCurrent(ctx, s.pool, typ, id)
}

func readCurrent(ctx context.Context, q querier, typ, id string) (store.Resource, error) {
	r, err := scanVersion(q.QueryRow(ctx, readSQL, typ, id))
	if err != nil {
		return store.Resource{}, translate(ctx, err, "read")
	}
	if r.Deleted {
		return r, errGone()
	}
	return r, nil
}

// VRead returns one version of a resource, a tombstone included;
// fhir.NotFound when it does not exist.
func (s *Store) VRead(ctx context.Context, typ, id string, version int64) (store.Resource, error) {
	r, err := scanVersion(s.pool.QueryRow(ctx, vreadSQL, typ, id, version))
	if err != nil {
		return store.Resource{}, translate(ctx, err, "vread")
	}
	return r, nil
}

// History returns versions newest first: of one resource when q.ID is set,
// of one type otherwise (of every type when q.Type is empty too), of the
// resources q.Viewer may see now when it is set. q.Count 0 returns the total
// only. The total and the page come from one snapshot.
func (s *Store) History(ctx context.Context, q store.HistoryQuery) (store.HistoryResult, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.HistoryResult{}, translate(ctx, err, "history")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	countSt, pageSt := sqlindex.HistoryStatements(sqlindex.Postgres, q, versionColumns)
	var res store.HistoryResult
	if err := tx.QueryRow(ctx, countSt.SQL(), countSt.Args()...).Scan(&res.Total); err != nil {
		return store.HistoryResult{}, translate(ctx, err, "history")
	}
	if q.Count <= 0 {
		return res, nil
	}
	rows, err := tx.Query(ctx, pageSt.SQL(), pageSt.Args()...)
	if err != nil {
		return store.HistoryResult{}, translate(ctx, err, "history")
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanVersion(rows)
		if err != nil {
			return store.HistoryResult{}, translate(ctx, err, "history")
		}
		res.Versions = append(res.Versions, r)
	}
	if err := rows.Err(); err != nil {
		return store.HistoryResult{}, translate(ctx, err, "history")
	}
	if len(res.Versions) > q.Count {
		res.Versions = res.Versions[:q.Count]
		res.Next = res.Versions[q.Count-1].Seq
	}
	return res, nil
}

// errGone is the error of reading a deleted resource.
func errGone() error {
	return fhir.Errorf(fhir.Gone, fhir.IssueDeleted, "", "the resource has been deleted")
}
