package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The shared-care projection (migration 00002): sc_projection, one row per
// mapped resource; sc_unmapped, what its profile could not map; sc_person,
// each person's assembled record.
//
// Like Put's, PutProjections' statements take their rows as arrays and find
// old rows by type and an array of ids (one statement per type), which
// PostgreSQL answers from the (type, id) indexes whatever the number of rows.
//
// At READ COMMITTED, deleting a resource's rows and inserting new ones is not
// enough when two transactions replace them at once: the second one's DELETE
// of sc_unmapped may run before the first commits, and so keep the first's
// items beside its own, or its INSERT may meet the first's row. So
// PutProjections first takes a transaction-level advisory lock on each
// resource it names (lockProjectionsSQL), in key order; the second
// transaction waits for the first to end, and its statements then see what
// the first committed.

// lockProjectionsSQL takes the advisory locks of an array of keys, in the
// array's order.
const lockProjectionsSQL = `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`

// deleteProjectionsSQL and deleteUnmappedSQL remove the rows of the resources
// of one type whose ids are in an array.
const (
	deleteProjectionsSQL = `DELETE FROM sc_projection WHERE type = $1 AND id = ANY($2::text[])`
	deleteUnmappedSQL    = `DELETE FROM sc_unmapped WHERE type = $1 AND id = ANY($2::text[])`
)

// insertProjectionsSQL and insertUnmappedSQL insert rows given as column
// arrays.
const (
	insertProjectionsSQL = `INSERT INTO sc_projection (type, id, version_id, person, org, patient_ref, profile, facts)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[])`
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
	personProjectionsSQL      = projectionSelect + `p.person = $1 AND p.person <> ''` + projectionOrder
	peopleProjectionsSQL      = projectionSelect + `p.person = ANY($1::text[]) AND p.person <> ''` + ` ORDER BY p.person, p.type, p.id, u.what, u.system, u.code, u.expression, u.reason`
	referencingProjectionsSQL = projectionSelect + `p.patient_ref = $1 AND p.patient_ref <> ''` + projectionOrder
)

const (
	putRecordSQL = `INSERT INTO sc_person (nhs_number, record) VALUES ($1, $2)
ON CONFLICT (nhs_number) DO UPDATE SET record = excluded.record`
	deleteRecordSQL = `DELETE FROM sc_person WHERE nhs_number = $1`
	putRecordsSQL   = `INSERT INTO sc_person (nhs_number, record) SELECT * FROM unnest($1::text[], $2::bytea[])
ON CONFLICT (nhs_number) DO UPDATE SET record = excluded.record`
	deleteRecordsSQL = `DELETE FROM sc_person WHERE nhs_number = ANY($1::text[])`
	recordSQL        = `SELECT record FROM sc_person WHERE nhs_number = $1`
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
// their unmapped items, in one round trip: it locks each resource named,
// deletes its old rows, then inserts the rows whose Facts is not nil. When
// rows names a resource twice, the last row counts. After a failure the
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
	named := map[string][]string{} // type -> ids
	var locks []int64
	var p struct {
		types, ids, persons, orgs, patientRefs, profiles []string
		versions                                         []int64
		facts                                            [][]byte
	}
	var u [8][]string // type, id, profile, what, system, code, expression, reason
	for i := range rows {
		r := &rows[i]
		if last[[2]string{r.Type, r.ID}] != i {
			continue
		}
		named[r.Type] = append(named[r.Type], r.ID)
		locks = append(locks, advisoryKey("sc_projection\x00"+r.Type+"\x00"+r.ID))
		if r.Facts == nil {
			continue
		}
		p.types, p.ids, p.versions = append(p.types, r.Type), append(p.ids, r.ID), append(p.versions, r.VersionID)
		p.persons, p.orgs, p.patientRefs = append(p.persons, r.Person), append(p.orgs, r.Org), append(p.patientRefs, r.PatientRef)
		p.profiles, p.facts = append(p.profiles, r.Profile), append(p.facts, r.Facts)
		for _, it := range r.Unmapped {
			for j, v := range [8]string{r.Type, r.ID, r.Profile, it.What, it.System, it.Code, it.Expression, it.Reason} {
				u[j] = append(u[j], v)
			}
		}
	}
	slices.Sort(locks) // one order for every transaction, against deadlocks
	b := &pgx.Batch{}
	b.Queue(lockProjectionsSQL, locks)
	for _, typ := range slices.Sorted(maps.Keys(named)) {
		b.Queue(deleteUnmappedSQL, typ, named[typ])
		b.Queue(deleteProjectionsSQL, typ, named[typ])
	}
	if len(p.types) > 0 {
		b.Queue(insertProjectionsSQL, p.types, p.ids, p.versions, p.persons, p.orgs, p.patientRefs, p.profiles, p.facts)
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
// references Patient/patientID literally, with their unmapped items, in
// (Type, ID) order; none for "".
func (t *tx) ProjectionsReferencing(ctx context.Context, patientID string) ([]store.Projection, error) {
	if patientID == "" {
		return nil, nil
	}
	return queryProjections(ctx, t.tx, "projections referencing a patient", referencingProjectionsSQL, patientID)
}

// queryProjections runs a projectionSelect statement and gathers each row's
// unmapped items.
func queryProjections(ctx context.Context, q querier, op, sql string, args ...any) ([]store.Projection, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	defer rows.Close()
	var out []store.Projection
	for rows.Next() {
		var r sqlindex.ProjectionRow
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, translate(ctx, err, op)
		}
		out = sqlindex.AppendProjection(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, op)
	}
	return out, nil
}

// PutRecord stores a person's assembled record, replacing the one before;
// nil removes it. After a failure the transaction only rolls back.
func (t *tx) PutRecord(ctx context.Context, nhsNumber string, record []byte) error {
	if t.failed != nil {
		return t.failed
	}
	var err error
	if record == nil {
		_, err = t.tx.Exec(ctx, deleteRecordSQL, nhsNumber)
	} else {
		_, err = t.tx.Exec(ctx, putRecordSQL, nhsNumber, record)
	}
	return t.fail(translate(ctx, err, "put record"))
}

// ClearProjections removes every projection row, unmapped item and record,
// with DELETE rather than TRUNCATE: TRUNCATE would lock out readers of the
// records until the transaction ends, and empty the tables for transactions
// whose snapshots are older. After a failure the transaction only rolls
// back.
func (t *tx) ClearProjections(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	b := &pgx.Batch{}
	for _, table := range []string{"sc_unmapped", "sc_projection", "sc_person"} {
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

// Record returns a person's assembled record; fhir.NotFound when there is
// none.
func (s *Store) Record(ctx context.Context, nhsNumber string) ([]byte, error) {
	var record []byte
	if err := s.pool.QueryRow(ctx, recordSQL, nhsNumber).Scan(&record); err != nil {
		if errors.Is(err, pgx.ErrNoRows) && ctx.Err() == nil {
			return nil, errNoRecord()
		}
		return nil, translate(ctx, err, "read record")
	}
	if record == nil {
		record = []byte{}
	}
	return record, nil
}

// UnmappedReport counts, per (profile, what, system, code), the resources
// with such unmapped items: most resources first, then in that order.
func (s *Store) UnmappedReport(ctx context.Context) ([]store.UnmappedCount, error) {
	rows, err := s.pool.Query(ctx, unmappedReportSQL)
	if err != nil {
		return nil, translate(ctx, err, "unmapped report")
	}
	defer rows.Close()
	var out []store.UnmappedCount
	for rows.Next() {
		var c store.UnmappedCount
		if err := rows.Scan(&c.Profile, &c.What, &c.System, &c.Code, &c.Count); err != nil {
			return nil, translate(ctx, err, "unmapped report")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
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

// errNoRecord is the error of reading the record of a person who has none.
func errNoRecord() error {
	return fhir.Errorf(fhir.NotFound, fhir.IssueNotFound, "", "no shared-care record is known for this NHS number")
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

// PutRecords stores several people's records in one round trip; a nil
// record removes it. After a failure the transaction only rolls back.
func (t *tx) PutRecords(ctx context.Context, records map[string][]byte) error {
	if t.failed != nil {
		return t.failed
	}
	var put, del []string
	var bodies [][]byte
	for _, n := range slices.Sorted(maps.Keys(records)) {
		if records[n] == nil {
			del = append(del, n)
		} else {
			put, bodies = append(put, n), append(bodies, records[n])
		}
	}
	b := &pgx.Batch{}
	if len(del) > 0 {
		b.Queue(deleteRecordsSQL, del)
	}
	if len(put) > 0 {
		b.Queue(putRecordsSQL, put, bodies)
	}
	if b.Len() == 0 {
		return nil
	}
	return t.fail(translate(ctx, t.tx.SendBatch(ctx, b).Close(), "put records"))
}
