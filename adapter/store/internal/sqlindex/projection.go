package sqlindex

import "github.com/carebridge/carebridge/adapter/store"

// ProjectionRow is one result row of the engines' projection select: a
// projection row joined with one of its unmapped items (HasItem false when
// it has none). Dest gives the scan targets in the select's column order.
type ProjectionRow struct {
	P       store.Projection
	U       store.Unmapped
	HasItem bool
}

// Dest returns the scan targets, in the order of the projection select's
// columns: type, id, version_id, person, org, patient_ref, profile, facts,
// has_item, what, system, code, expression, reason.
func (r *ProjectionRow) Dest() []any {
	p, u := &r.P, &r.U
	return []any{&p.Type, &p.ID, &p.VersionID, &p.Person, &p.Org, &p.PatientRef, &p.Profile, &p.Facts,
		&r.HasItem, &u.What, &u.System, &u.Code, &u.Expression, &u.Reason}
}

// AppendProjection adds a scanned row to out: a new projection when it
// starts one (rows arrive grouped by type and id), and its unmapped item,
// if any, to the last projection.
func AppendProjection(out []store.Projection, r *ProjectionRow) []store.Projection {
	if n := len(out); n == 0 || out[n-1].Type != r.P.Type || out[n-1].ID != r.P.ID {
		p := r.P
		if p.Facts == nil {
			p.Facts = []byte{} // a row's Facts is never nil: nil means no row
		}
		p.Unmapped = nil
		out = append(out, p)
	}
	if r.HasItem {
		last := &out[len(out)-1]
		last.Unmapped = append(last.Unmapped, r.U)
	}
	return out
}

// Fresh names the resources a transaction created that have had no
// projection row put yet: PutProjections need not look for their old rows,
// as there cannot be any (a concurrent creation of the same resource fails
// on the resources table's key).
type Fresh map[[2]string]bool

// Mark records that the transaction created typ/id.
func (f *Fresh) Mark(typ, id string) {
	if *f == nil {
		*f = Fresh{}
	}
	(*f)[[2]string{typ, id}] = true
}

// Take reports whether typ/id is fresh, and forgets it: once its row is put
// it may have one.
func (f Fresh) Take(typ, id string) bool {
	key := [2]string{typ, id}
	if f[key] {
		delete(f, key)
		return true
	}
	return false
}

// ResultRows is what both engines' query results offer: database/sql's *sql.Rows
// and pgx's Rows.
type ResultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanProjections reads the result of a projection select into projection
// rows with their unmapped items. Errors come back as the driver gave them,
// for the engine to translate.
func ScanProjections(rows ResultRows) ([]store.Projection, error) {
	var out []store.Projection
	for rows.Next() {
		var r ProjectionRow
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, err
		}
		out = AppendProjection(out, &r)
	}
	return out, rows.Err()
}

// ScanUnmappedReport reads the result of an engine's unmapped report query
// (profile, what, system, code, count). Errors come back as the driver gave
// them, for the engine to translate.
func ScanUnmappedReport(rows ResultRows) ([]store.UnmappedCount, error) {
	var out []store.UnmappedCount
	for rows.Next() {
		var c store.UnmappedCount
		if err := rows.Scan(&c.Profile, &c.What, &c.System, &c.Code, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
