package postgres

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The shared-care projection (migration 00002): sc_projection, one row per
// mapped resource; sc_unmapped, what its profile could not map. People's
// records are assembled from their rows when read.
//
// PutProjections takes its rows as arrays, like Put, and sends its
// statements in one round trip: it upserts the rows that have facts (plain
// inserts for resources the transaction has just created, which have no
// row), deletes the rows that go, then replaces the unmapped items of every
// resource named (those just created have none to delete).
//
// The row statements come first because they lock each named resource's
// sc_projection row (the upsert, also when it inserts: a second insert of
// the key waits for the first transaction to end). At READ COMMITTED a
// second transaction replacing the same rows therefore waits for the first
// to commit, and its later statements, each with a new snapshot, see and
// replace the first's unmapped items instead of keeping them beside its own.
// Rows are sent in (type, id) order, so that two transactions lock shared
// rows in one order; the deadlock left (one upserting what the other
// deletes) is retried by Transact.
const (
	insertProjectionsSQL = `INSERT INTO sc_projection (type, id, version_id, person, org, patient_ref, profile, facts)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[])`
	upsertProjectionsSQL = insertProjectionsSQL + `
ON CONFLICT (type, id) DO UPDATE SET version_id = excluded.version_id, person = excluded.person, org = excluded.org,
	patient_ref = excluded.patient_ref, profile = excluded.profile, facts = excluded.facts`
	deleteProjectionsSQL = `DELETE FROM sc_projection p USING unnest($1::text[], $2::text[]) AS d (type, id)
WHERE p.type = d.type AND p.id = d.id`
	deleteUnmappedSQL = `DELETE FROM sc_unmapped u USING unnest($1::text[], $2::text[]) AS d (type, id)
WHERE u.type = d.type AND u.id = d.id`
	insertUnmappedSQL = `INSERT INTO sc_unmapped (type, id, profile, what, system, code, expression, reason)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`
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

	projectionSQL = projectionSelect + `p.type = $1 AND p.id = $2` + projectionOrder
	// The conditions on '' let the planner use the partial indexes in a
	// generic plan too.
	personProjectionsSQL = projectionSelect + `p.person = $1 AND p.person <> ''` + projectionOrder
	peopleProjectionsSQL = projectionSelect + `p.person = ANY($1::text[]) AND p.person <> ''` + ` ORDER BY p.person, p.type, p.id, u.what, u.system, u.code, u.expression, u.reason`
	// A Patient's rows are found through the person index, the rows
	// waiting for a person through the small sc_projection_unresolved; the
	// ORDER BY is projectionOrder's, by result column.
	referencingProjectionsSQL = projectionSelect + `p.person = $2 AND p.person <> '' AND p.patient_ref = $1
UNION ALL ` + projectionSelect + `p.person = '' AND p.patient_ref = $1 AND p.patient_ref <> ''
ORDER BY 1, 2, 10, 11, 12, 13, 14`
)

// unmappedReportSQL counts, per (profile, what, system, code), the
// resources with at least one such item.
const unmappedReportSQL = `SELECT profile, what, system, code, count(*) AS resources
FROM (SELECT DISTINCT profile, what, system, code, type, id FROM sc_unmapped) u
GROUP BY profile, what, system, code
ORDER BY resources DESC, profile, what, system, code`

// scanCurrentSQL pages through the current, undeleted resources in key
// order.
const scanCurrentSQL = `SELECT ` + versionColumns + `
FROM resources r JOIN versions v ON v.seq = r.current_seq
WHERE r.key > $1 AND NOT r.deleted
ORDER BY r.key LIMIT $2`

// PutProjections replaces the projection rows of the named resources, and
// their unmapped items, in one round trip. When rows names a resource twice,
// the last row counts. After a failure the transaction only rolls back.
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
	order := slices.SortedFunc(maps.Keys(last), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	var named, gone [2][]string // type, id
	var fresh, replaced projectionColumns
	var u [8][]string // type, id, profile, what, system, code, expression, reason
	for _, key := range order {
		r := &rows[last[key]]
		isFresh := t.fresh.Take(r.Type, r.ID)
		if !isFresh {
			named[0], named[1] = append(named[0], r.Type), append(named[1], r.ID)
		}
		if r.Facts == nil {
			gone[0], gone[1] = append(gone[0], r.Type), append(gone[1], r.ID)
			continue
		}
		if isFresh {
			fresh.add(r)
		} else {
			replaced.add(r)
		}
		for _, it := range r.Unmapped {
			for j, v := range [8]string{r.Type, r.ID, r.Profile, it.What, it.System, it.Code, it.Expression, it.Reason} {
				u[j] = append(u[j], v)
			}
		}
	}
	b := &pgx.Batch{}
	if len(replaced.types) > 0 {
		b.Queue(upsertProjectionsSQL, replaced.args()...)
	}
	if len(fresh.types) > 0 {
		b.Queue(insertProjectionsSQL, fresh.args()...)
	}
	if len(gone[0]) > 0 {
		b.Queue(deleteProjectionsSQL, gone[0], gone[1])
	}
	if len(named[0]) > 0 {
		b.Queue(deleteUnmappedSQL, named[0], named[1])
	}
	if len(u[0]) > 0 {
		b.Queue(insertUnmappedSQL, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7])
	}
	br := t.tx.SendBatch(ctx, b)
	var err error
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			err = translate(ctx, err, "put projections")
			break
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = translate(ctx, cerr, "put projections")
	}
	return err
}

// projectionColumns are projection rows as the column arrays of
// insertProjectionsSQL and upsertProjectionsSQL.
type projectionColumns struct {
	types, ids, persons, orgs, patientRefs, profiles []string
	versions                                         []int64
	facts                                            [][]byte
}

func (c *projectionColumns) add(r *store.Projection) {
	c.types, c.ids, c.versions = append(c.types, r.Type), append(c.ids, r.ID), append(c.versions, r.VersionID)
	c.persons, c.orgs, c.patientRefs = append(c.persons, r.Person), append(c.orgs, r.Org), append(c.patientRefs, r.PatientRef)
	c.profiles, c.facts = append(c.profiles, r.Profile), append(c.facts, r.Facts)
}

// args returns the arrays in the statements' parameter order.
func (c *projectionColumns) args() []any {
	return []any{c.types, c.ids, c.versions, c.persons, c.orgs, c.patientRefs, c.profiles, c.facts}
}

// checkProjection refuses a row its caller should never have built.
func checkProjection(r *store.Projection) error {
	if r.Type == "" || r.ID == "" {
		return fhir.Wrap(errors.New("postgres: a projection row needs a type and an id"), "put projections")
	}
	return nil
}

// Projection returns a resource's projection row, with its unmapped items,
// as the transaction sees it; false when it has none.
func (t *tx) Projection(ctx context.Context, typ, id string) (store.Projection, bool, error) {
	rows, err := queryProjections(ctx, t.tx, "projection", projectionSQL, typ, id)
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
	return queryProjections(ctx, t.tx, "projections of a person", personProjectionsSQL, nhsNumber)
}

// ProjectionsReferencing returns the projection rows whose resource
// references Patient/patientID literally and that are about person or no
// one, with their unmapped items, in (Type, ID) order; none for "".
func (t *tx) ProjectionsReferencing(ctx context.Context, patientID, person string) ([]store.Projection, error) {
	if patientID == "" {
		return nil, nil
	}
	return queryProjections(ctx, t.tx, "projections referencing a patient", referencingProjectionsSQL, patientID, person)
}

// queryProjections runs a projectionSelect statement and gathers each row's
// unmapped items.
func queryProjections(ctx context.Context, q querier, op, sql string, args ...any) ([]store.Projection, error) {
	rows, err := q.Query(ctx, sql, args...)
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

// ClearProjections removes every projection row and unmapped item, with
// DELETE rather than TRUNCATE: TRUNCATE would lock out readers of the rows
// until the transaction ends, and empty the tables for transactions
// whose snapshots are older. After a failure the transaction only rolls
// back.
func (t *tx) ClearProjections(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	b := &pgx.Batch{}
	for _, table := range []string{"sc_unmapped", "sc_projection"} {
		b.Queue(`DELETE FROM ` + table)
	}
	br := t.tx.SendBatch(ctx, b)
	var err error
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return t.fail(translate(ctx, err, "clear projections"))
}

// ProjectionsOfPerson returns the committed projection rows about a person,
// with their unmapped items, in (Type, ID) order; none for "".
func (s *Store) ProjectionsOfPerson(ctx context.Context, nhsNumber string) ([]store.Projection, error) {
	if nhsNumber == "" {
		return nil, nil
	}
	return queryProjections(ctx, s.pool, "projections of a person", personProjectionsSQL, nhsNumber)
}

// UnmappedReport counts, per (profile, what, system, code), the resources
// with such unmapped items: most resources first, then in that order.
func (s *Store) UnmappedReport(ctx context.Context) ([]store.UnmappedCount, error) {
	rows, err := s.pool.Query(ctx, unmappedReportSQL)
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
	rows, err := s.pool.Query(ctx, scanCurrentSQL, afterKey, limit)
	if err != nil {
		return nil, translate(ctx, err, "scan resources")
	}
	defer rows.Close()
	out := make([]store.Resource, 0, min(limit, 512))
	for rows.Next() {
		r, err := scanVersion(rows)
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

// ProjectionsOfPeople returns the projection rows of several people, with
// their unmapped items, in (Person, Type, ID) order, in one query.
func (t *tx) ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]store.Projection, error) {
	people := slices.DeleteFunc(slices.Clone(nhsNumbers), func(s string) bool { return s == "" })
	if len(people) == 0 {
		return nil, nil
	}
	return queryProjections(ctx, t.tx, "projections of people", peopleProjectionsSQL, people)
}

// ProjectionsOfPeople returns the committed projection rows of several
// people, with their unmapped items, in (Person, Type, ID) order.
func (s *Store) ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]store.Projection, error) {
	people := sqlindex.CleanPeople(nhsNumbers)
	if len(people) == 0 {
		return nil, nil
	}
	return queryProjections(ctx, s.pool, "projections of people", peopleProjectionsSQL, people)
}
