package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The shared-care projection (migrations 00002 and 00003): sc_projection,
// one row per mapped resource; sc_unmapped, what its profile could not map.
// People's records are assembled from their rows when read.

// deleteProjectionsSQL and deleteUnmappedSQL remove the rows of the resources
// of one type whose ids are in a JSON array, as currentSQL reads them.
const (
	deleteProjectionsSQL = `DELETE FROM sc_projection WHERE type = ? AND id IN (SELECT value FROM json_each(?))`
	deleteUnmappedSQL    = `DELETE FROM sc_unmapped WHERE type = ? AND id IN (SELECT value FROM json_each(?))`
)

// projectionSelect reads projection rows with their unmapped items: one
// result row per item, or one with has_item false for a row without any.
// projectionOrder keeps a row's items together, in a fixed order.
const (
	projectionSelect = `SELECT p.type, p.id, p.version_id, p.person, p.org, p.patient_ref, p.profile, p.facts,
	u.type IS NOT NULL AS has_item, coalesce(u.what, ''), coalesce(u.system, ''), coalesce(u.code, ''),
	coalesce(u.expression, ''), coalesce(u.reason, '')
FROM sc_projection p LEFT JOIN sc_unmapped u ON u.type = p.type AND u.id = p.id
WHERE `
	projectionOrder = ` ORDER BY p.type, p.id, u.what, u.system, u.code, u.expression, u.reason`

	projectionSQL = projectionSelect + `p.type = ? AND p.id = ?` + projectionOrder
	// The conditions on '' let the planner use the partial indexes.
	personProjectionsSQL = projectionSelect + `p.person = ? AND p.person <> ''` + projectionOrder
	// A Patient's rows are found through the person index, the rows
	// waiting for a person through the small sc_projection_unresolved; the
	// ORDER BY is projectionOrder's, by result column.
	referencingProjectionsSQL = projectionSelect + `p.person = ?2 AND p.person <> '' AND p.patient_ref = ?1
UNION ALL ` + projectionSelect + `p.person = '' AND p.patient_ref = ?1 AND p.patient_ref <> ''
ORDER BY 1, 2, 10, 11, 12, 13, 14`
)

// unmappedReportSQL counts, per (profile, what, system, code), the
// resources with at least one such item.
const unmappedReportSQL = `SELECT profile, what, system, code, count(*) AS resources
FROM (SELECT DISTINCT profile, what, system, code, type, id FROM sc_unmapped)
GROUP BY profile, what, system, code
ORDER BY resources DESC, profile, what, system, code`

// scanCurrentSQL pages through the current, undeleted resources in key
// order.
const scanCurrentSQL = `SELECT ` + versionColumns + `
FROM resources r JOIN versions v ON v.seq = r.current_seq
WHERE r.key > ? AND NOT r.deleted
ORDER BY r.key LIMIT ?`

// PutProjections replaces the projection rows of the named resources, and
// their unmapped items: it deletes the old rows of each resource named
// (except those the transaction has just created, which have none), then
// inserts the rows whose Facts is not nil, with multi-row INSERTs. When rows
// names a resource twice, the last row counts. After a failure the
// transaction only rolls back.
func (t *tx) PutProjections(ctx context.Context, rows []store.Projection) error {
	if t.failed != nil {
		return t.failed
	}
	return t.fail(t.putProjections(ctx, rows))
}

func (t *tx) putProjections(ctx context.Context, rows []store.Projection) error {
	if len(rows) == 0 {
		return nil
	}
	last := make(map[[2]string]int, len(rows)) // (type, id) -> index of its last row
	for i := range rows {
		if err := checkProjection(&rows[i]); err != nil {
			return err
		}
		last[[2]string{rows[i].Type, rows[i].ID}] = i
	}
	named := map[string][]byte{} // type -> JSON array of ids
	var prow, urow []any         // column values of the new rows, in table column order
	for i := range rows {
		r := &rows[i]
		if last[[2]string{r.Type, r.ID}] != i {
			continue
		}
		if !t.fresh.Take(r.Type, r.ID) {
			ids := named[r.Type]
			if ids == nil {
				ids = append(ids, '[')
			} else {
				ids = append(ids, ',')
			}
			named[r.Type] = appendJSONString(ids, r.ID)
		}
		if r.Facts == nil {
			continue
		}
		prow = append(prow, r.Type, r.ID, r.VersionID, r.Person, r.Org, r.PatientRef, r.Profile, r.Facts)
		for _, u := range r.Unmapped {
			urow = append(urow, r.Type, r.ID, r.Profile, u.What, u.System, u.Code, u.Expression, u.Reason)
		}
	}
	delP, delU := t.stmt(ctx, t.st.deleteProjections), t.stmt(ctx, t.st.deleteUnmapped)
	for _, typ := range slices.Sorted(maps.Keys(named)) {
		ids := string(append(named[typ], ']'))
		if _, err := delU.ExecContext(ctx, typ, ids); err != nil {
			return translate(ctx, err, "put projections")
		}
		if _, err := delP.ExecContext(ctx, typ, ids); err != nil {
			return translate(ctx, err, "put projections")
		}
	}
	if err := t.st.insertProjections.exec(ctx, t.tx, prow); err != nil {
		return translate(ctx, err, "put projections")
	}
	if err := t.st.insertUnmapped.exec(ctx, t.tx, urow); err != nil {
		return translate(ctx, err, "put projections")
	}
	return nil
}

// checkProjection refuses a row its caller should never have built.
func checkProjection(r *store.Projection) error {
	if r.Type == "" || r.ID == "" {
		return fhir.Wrap(errors.New("sqlite: a projection row needs a type and an id"), "put projections")
	}
	return nil
}

// Projection returns a resource's projection row, with its unmapped items,
// as the transaction sees it; false when it has none.
func (t *tx) Projection(ctx context.Context, typ, id string) (store.Projection, bool, error) {
	rows, err := queryProjections(ctx, t.stmt(ctx, t.st.txProjection), "projection", typ, id)
	if err != nil || len(rows) == 0 {
		return store.Projection{}, false, err
	}
	return rows[0], true, nil
}

// ProjectionsOfPerson returns the projection rows about a person, with their
// unmapped items, in (Type, ID) order; none for "", which is no person.
func (t *tx) ProjectionsOfPerson(ctx context.Context, nhsNumber string) ([]store.Projection, error) {
	if nhsNumber == "" {
		return nil, nil
	}
	return queryProjections(ctx, t.stmt(ctx, t.st.txPersonProjections), "projections of a person", nhsNumber)
}

// ProjectionsReferencing returns the projection rows whose resource
// references Patient/patientID literally and that are about person or no
// one, with their unmapped items, in (Type, ID) order; none for "".
func (t *tx) ProjectionsReferencing(ctx context.Context, patientID, person string) ([]store.Projection, error) {
	if patientID == "" {
		return nil, nil
	}
	return queryProjections(ctx, t.stmt(ctx, t.st.txReferencingProjections), "projections referencing a patient", patientID, person)
}

// queryProjections runs a projectionSelect statement and gathers each row's
// unmapped items.
func queryProjections(ctx context.Context, stmt *sql.Stmt, op string, args ...any) ([]store.Projection, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	defer rows.Close()
	out, err := sqlindex.ScanProjections(rows)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	return out, nil
}

// ClearProjections removes every projection row and unmapped item. After a
// failure the transaction only rolls back.
func (t *tx) ClearProjections(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	for _, table := range []string{"sc_unmapped", "sc_projection"} {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return t.fail(translate(ctx, err, "clear projections"))
		}
	}
	return nil
}

// ProjectionsOfPerson returns the committed projection rows about a person,
// with their unmapped items, in (Type, ID) order; none for "".
func (s *Store) ProjectionsOfPerson(ctx context.Context, nhsNumber string) ([]store.Projection, error) {
	if nhsNumber == "" {
		return nil, nil
	}
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	return queryProjections(ctx, st.personProjections, "projections of a person", nhsNumber)
}

// UnmappedReport counts, per (profile, what, system, code), the resources
// with such unmapped items: most resources first, then in that order.
func (s *Store) UnmappedReport(ctx context.Context) ([]store.UnmappedCount, error) {
	rows, err := s.reader.QueryContext(ctx, unmappedReportSQL)
	if err != nil {
		return nil, translate(ctx, err, "unmapped report")
	}
	defer rows.Close()
	out, err := sqlindex.ScanUnmappedReport(rows)
	if err != nil {
		return nil, translate(ctx, err, "unmapped report")
	}
	return out, nil
}

// ScanCurrent returns up to limit current, undeleted resources with a key
// greater than afterKey, in key order; nothing when limit < 1.
func (s *Store) ScanCurrent(ctx context.Context, afterKey int64, limit int) ([]store.Resource, error) {
	if limit < 1 {
		return nil, nil
	}
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.scanCurrent.QueryContext(ctx, afterKey, limit)
	if err != nil {
		return nil, translate(ctx, err, "scan resources")
	}
	defer rows.Close()
	out := make([]store.Resource, 0, min(limit, 512))
	for rows.Next() {
		r, err := scanVersion(rows.Scan)
		if err != nil {
			return nil, translate(ctx, err, "scan resources")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "scan resources")
	}
	return out, nil
}
