package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// Search returns one page of the current, undeleted resources matching q.
// When q asks for the total, the total and the page come from one snapshot.
func (s *Store) Search(ctx context.Context, q *fhir.Query) (store.SearchResult, error) {
	if !wantsTotal(q) {
		return search(ctx, s.pool, q)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.SearchResult{}, translate(ctx, err, "search")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return search(ctx, tx, q)
}

func wantsTotal(q *fhir.Query) bool { return q.Total || q.Count <= 0 }

func search(ctx context.Context, db querier, q *fhir.Query) (store.SearchResult, error) {
	res := store.SearchResult{Total: -1}
	if q.Count <= 0 {
		return res, count(ctx, db, q, &res)
	}
	st := sqlindex.NewStatement(sqlindex.Postgres)
	st.Write(`SELECT ` + versionColumns + ` FROM resources r JOIN versions v ON v.seq = r.current_seq WHERE `)
	if err := sqlindex.Where(st, q); err != nil {
		return store.SearchResult{}, err
	}
	sqlindex.After(st, q)
	sqlindex.OrderBy(st, q)
	st.Write(` LIMIT `)
	st.Arg(q.Count + 1)
	rows, err := db.Query(ctx, st.SQL(), st.Args()...)
	if err != nil {
		return store.SearchResult{}, translate(ctx, err, "search")
	}
	defer rows.Close()
	res.Resources = make([]store.Resource, 0, min(q.Count+1, 64))
	for rows.Next() {
		r, err := scanVersion(rows)
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
	return res, count(ctx, db, q, &res)
}

// count sets res.Total to the number of resources matching q.
func count(ctx context.Context, db querier, q *fhir.Query, res *store.SearchResult) error {
	st, err := sqlindex.CountStatement(sqlindex.Postgres, q)
	if err != nil {
		return err
	}
	if err := db.QueryRow(ctx, st.SQL(), st.Args()...).Scan(&res.Total); err != nil {
		return translate(ctx, err, "search")
	}
	return nil
}
