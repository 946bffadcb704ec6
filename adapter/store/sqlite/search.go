package sqlite

import (
	"context"
	"database/sql"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// querier is what a search runs on: the reader pool, a read transaction or
// the write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Search returns one page of the current, undeleted resources matching q
// that viewer may see (all of them when viewer is nil).
func (s *Store) Search(ctx context.Context, q *fhir.Query, viewer *store.Viewer) (store.SearchResult, error) {
	if !wantsTotal(q) {
		return search(ctx, s.reader, q, viewer)
	}
	tx, err := s.reader.BeginTx(ctx, nil) // one snapshot for the total and the page
	if err != nil {
		return store.SearchResult{}, translate(ctx, err, "search")
	}
	defer tx.Rollback()
	return search(ctx, tx, q, viewer)
}

func wantsTotal(q *fhir.Query) bool { return q.Total || q.Count <= 0 }

func search(ctx context.Context, db querier, q *fhir.Query, viewer *store.Viewer) (store.SearchResult, error) {
	res := store.SearchResult{Total: -1}
	if q.Count <= 0 {
		return res, count(ctx, db, q, viewer, &res)
	}
	st, err := sqlindex.SearchStatement(sqlindex.SQLite, q, viewer, versionColumns)
	if err != nil {
		return store.SearchResult{}, err
	}
	rows, err := db.QueryContext(ctx, st.SQL(), st.Args()...)
	if err != nil {
		return store.SearchResult{}, translate(ctx, err, "search")
	}
	defer rows.Close()
	res.Resources = make([]store.Resource, 0, min(q.Count+1, 64))
	for rows.Next() {
		r, err := scanVersion(rows.Scan)
		if err != nil {
			return store.SearchResult{}, translate(ctx, err, "search")
		}
		res.Resources = append(res.Resources, r)
	}
	if err := rows.Err(); err != nil {
		return store.SearchResult{}, translate(ctx, err, "search")
	}
	if len(res.Resources) > q.Count {
		res.Resources = res.Resources[:q.Count]
		last := res.Resources[q.Count-1]
		res.Next = &fhir.PageToken{LastUpdated: last.LastUpdated.UnixMicro(), Key: last.Key}
	}
	if !q.Total || sqlindex.TotalFromPage(q, &res) {
		return res, nil
	}
	return res, count(ctx, db, q, viewer, &res)
}

// count sets res.Total to the number of resources matching q that viewer
// may see.
func count(ctx context.Context, db querier, q *fhir.Query, viewer *store.Viewer, res *store.SearchResult) error {
	st, err := sqlindex.CountStatement(sqlindex.SQLite, q, viewer)
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, st.SQL(), st.Args()...).Scan(&res.Total); err != nil {
		return translate(ctx, err, "search")
	}
	return nil
}

// Visible reports whether v may see typ/id.
func (s *Store) Visible(ctx context.Context, typ, id string, v store.Viewer) (bool, error) {
	return visible(ctx, s.reader, typ, id, v)
}

func visible(ctx context.Context, db querier, typ, id string, v store.Viewer) (bool, error) {
	st := sqlindex.VisibleStatement(sqlindex.SQLite, typ, id, v)
	var ok bool
	if err := db.QueryRowContext(ctx, st.SQL(), st.Args()...).Scan(&ok); err != nil {
		return false, translate(ctx, err, "visible")
	}
	return ok, nil
}
