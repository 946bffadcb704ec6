package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The audit trail (migration 00007). Positions come from an identity
// column: unique and increasing, but, like versions.seq, handed out in the
// order transactions ask, not the order they commit, so a page read while a
// transaction that audits is running may miss a record that commits later
// with a lower position. An auditor's search reads the past; it is not a
// change feed.

// addAuditSQL inserts records given as column arrays, in their order.
const addAuditSQL = `INSERT INTO audit (` + sqlindex.AuditColumns + `)
SELECT ` + sqlindex.AuditColumns + ` FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
	$6::text[], $7::text[], $8::text[], $9::text[], $10::bytea[])
	WITH ORDINALITY AS a (` + sqlindex.AuditColumns + `, ord)
ORDER BY ord`

// AddAudit stores audit records with the transaction's change. After a
// failure the transaction only rolls back.
func (t *tx) AddAudit(ctx context.Context, records []store.AuditRecord) error {
	if t.failed != nil {
		return t.failed
	}
	return t.fail(addAudit(ctx, t.tx, records))
}

// AddAudit stores audit records in one statement, a transaction of its own.
func (s *Store) AddAudit(ctx context.Context, records []store.AuditRecord) error {
	return addAudit(ctx, s.pool, records)
}

// execer is what addAudit runs on: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func addAudit(ctx context.Context, db execer, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	if err := sqlindex.CheckAudit(records); err != nil {
		return fhir.Wrap(err, "add audit records")
	}
	n := len(records)
	var text [8][]string // id, client, ods, action, type, resource, person, outcome
	recorded, bodies := make([]int64, n), make([][]byte, n)
	for i := range records {
		r := &records[i]
		for j, v := range [8]string{r.ID, r.Client, r.ODS, r.Action, r.Type, r.Resource, r.Person, r.Outcome} {
			text[j] = append(text[j], v)
		}
		recorded[i], bodies[i] = sqlindex.MicrosOf(r.Recorded), sqlindex.AuditBody(r)
	}
	_, err := db.Exec(ctx, addAuditSQL, text[0], recorded, text[1], text[2], text[3], text[4], text[5], text[6], text[7], bodies)
	if err != nil {
		return translate(ctx, err, "add audit records")
	}
	return nil
}

// Audit returns the page of audit records q selects, oldest first.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) (store.AuditPage, error) {
	st, err := sqlindex.AuditStatement(sqlindex.Postgres, q)
	if err != nil {
		return store.AuditPage{}, fhir.Wrap(err, "audit")
	}
	rows, err := s.pool.Query(ctx, st.SQL(), st.Args()...)
	if err != nil {
		return store.AuditPage{}, translate(ctx, err, "audit")
	}
	defer rows.Close()
	page, err := sqlindex.ScanAudit(rows, q)
	if err != nil {
		return store.AuditPage{}, translate(ctx, err, "audit")
	}
	return page, nil
}
