package sqlite

import (
	"context"
	"database/sql"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The audit trail (migration 00008): records go in with multi-row INSERTs,
// and are read in position (rowid) order.

// AddAudit stores audit records with the transaction's change. After a
// failure the transaction only rolls back.
func (t *tx) AddAudit(ctx context.Context, records []store.AuditRecord) error {
	if t.failed != nil {
		return t.failed
	}
	return t.fail(addAudit(ctx, t.tx, t.st, records))
}

// AddAudit stores audit records in a write transaction of their own. Like
// every write it waits for a transaction in progress; a Transact fn must not
// call it (it has Tx.AddAudit).
func (s *Store) AddAudit(ctx context.Context, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	st, err := s.prepared(ctx)
	if err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return translate(ctx, err, "add audit records")
	}
	defer tx.Rollback()
	if err := addAudit(ctx, tx, st, records); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return translate(ctx, err, "add audit records")
	}
	return nil
}

func addAudit(ctx context.Context, tx *sql.Tx, st *statements, records []store.AuditRecord) error {
	if err := sqlindex.CheckAudit(records); err != nil {
		return fhir.Wrap(err, "add audit records")
	}
	vals := make([]any, 0, len(records)*len(auditTable.columns))
	for i := range records {
		v := sqlindex.AuditValues(&records[i])
		vals = append(vals, v[:]...)
	}
	if err := st.insertAudit.exec(ctx, tx, vals); err != nil {
		return translate(ctx, err, "add audit records")
	}
	return nil
}

// Audit returns the page of audit records q selects, oldest first.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) (store.AuditPage, error) {
	st, err := sqlindex.AuditStatement(sqlindex.SQLite, q)
	if err != nil {
		return store.AuditPage{}, fhir.Wrap(err, "audit")
	}
	rows, err := s.reader.QueryContext(ctx, st.SQL(), st.Args()...)
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
