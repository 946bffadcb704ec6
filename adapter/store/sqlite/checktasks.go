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

// The health check Tasks (migration 00004): hc_task, one row per
// idempotency key, found by key and by person.

const (
	// checkTasksSQL reads the rows of the people in a JSON array.
	checkTasksSQL = `SELECT key, person, task_id, open FROM hc_task
WHERE person IN (SELECT value FROM json_each(?)) ORDER BY person, key`
	// putCheckTasksSQL upserts the rows of a JSON array of
	// [key, person, task_id, open] arrays.
	putCheckTasksSQL = `INSERT INTO hc_task (key, person, task_id, open)
SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?) WHERE true
ON CONFLICT (key) DO UPDATE SET person = excluded.person, task_id = excluded.task_id, open = excluded.open`
	// peopleSQL and taskPeopleSQL page through the people with projection
	// rows and with Tasks, in order.
	peopleSQL      = `SELECT DISTINCT person FROM sc_projection WHERE person > ? AND person <> '' ORDER BY person LIMIT ?`
	countPeopleSQL = `SELECT count(*) FROM (SELECT person FROM sc_projection WHERE person <> '' UNION SELECT person FROM hc_task) AS people`
	taskPeopleSQL  = `SELECT DISTINCT person FROM hc_task WHERE person > ? ORDER BY person LIMIT ?`
	// peopleProjectionsSQL reads the rows of the people in a JSON array.
	peopleProjectionsSQL = projectionSelect + `p.person IN (SELECT value FROM json_each(?)) AND p.person <> ''
ORDER BY p.person, p.type, p.id, u.what, u.system, u.code, u.expression, u.reason`
)

// CheckTasks returns the health check Tasks of the people, in (Person, Key)
// order, as the transaction sees them.
func (t *tx) CheckTasks(ctx context.Context, nhsNumbers []string) ([]store.CheckTask, error) {
	return queryCheckTasks(ctx, t.stmt(ctx, t.st.txCheckTasks), nhsNumbers)
}

// CheckTasks returns the committed health check Tasks of the people, in
// (Person, Key) order.
func (s *Store) CheckTasks(ctx context.Context, nhsNumbers []string) ([]store.CheckTask, error) {
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	return queryCheckTasks(ctx, st.checkTasks, nhsNumbers)
}

func queryCheckTasks(ctx context.Context, stmt *sql.Stmt, nhsNumbers []string) ([]store.CheckTask, error) {
	people := sqlindex.CleanPeople(nhsNumbers)
	if len(people) == 0 {
		return nil, nil
	}
	arr, err := json.Marshal(people)
	if err != nil {
		return nil, fhir.Wrap(err, "health check tasks")
	}
	rows, err := stmt.QueryContext(ctx, arr)
	if err != nil {
		return nil, translate(ctx, err, "health check tasks")
	}
	defer rows.Close()
	out, err := sqlindex.ScanCheckTasks(rows)
	if err != nil {
		return nil, translate(ctx, err, "health check tasks")
	}
	return out, nil
}

// PutCheckTasks inserts the health check Tasks, or replaces those whose key
// is known, in one statement. After a failure the transaction only rolls
// back.
func (t *tx) PutCheckTasks(ctx context.Context, tasks []store.CheckTask) error {
	if t.failed != nil {
		return t.failed
	}
	if len(tasks) == 0 {
		return nil
	}
	rows := make([][4]any, len(tasks))
	for i, c := range tasks {
		if c.Key == "" || c.Person == "" || c.TaskID == "" {
			return t.fail(fhir.Wrap(errors.New("sqlite: a health check task needs a key, a person and a task id"), "put health check tasks"))
		}
		rows[i] = [4]any{c.Key, c.Person, c.TaskID, boolInt(c.Open)}
	}
	return t.execJSON(ctx, t.st.putCheckTasks, rows, "put health check tasks")
}

// execJSON runs a write statement whose one parameter is v as JSON. A
// failure fails the transaction.
func (t *tx) execJSON(ctx context.Context, stmt *sql.Stmt, v any, op string) error {
	arr, err := json.Marshal(v)
	if err != nil {
		return t.fail(fhir.Wrap(err, op))
	}
	if _, err := t.stmt(ctx, stmt).ExecContext(ctx, arr); err != nil {
		return t.fail(translate(ctx, err, op))
	}
	return nil
}

// ProjectionsOfPeople returns the projection rows of several people, with
// their unmapped items, in (Person, Type, ID) order, in one query.
func (t *tx) ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]store.Projection, error) {
	return queryPeopleProjections(ctx, t.stmt(ctx, t.st.txPeopleProjections), nhsNumbers)
}

// ProjectionsOfPeople returns the committed projection rows of several
// people, with their unmapped items, in (Person, Type, ID) order.
func (s *Store) ProjectionsOfPeople(ctx context.Context, nhsNumbers []string) ([]store.Projection, error) {
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	return queryPeopleProjections(ctx, st.peopleProjections, nhsNumbers)
}

func queryPeopleProjections(ctx context.Context, stmt *sql.Stmt, nhsNumbers []string) ([]store.Projection, error) {
	people := sqlindex.CleanPeople(nhsNumbers)
	if len(people) == 0 {
		return nil, nil
	}
	arr, err := json.Marshal(people)
	if err != nil {
		return nil, fhir.Wrap(err, "projections of people")
	}
	return queryProjections(ctx, stmt, "projections of people", arr)
}

// People returns up to limit NHS numbers after after, in order, of the
// people with projection rows or health check Tasks.
func (s *Store) People(ctx context.Context, after string, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	st, err := s.prepared(ctx)
	if err != nil {
		return nil, err
	}
	var lists [2][]string
	for i, stmt := range []*sql.Stmt{st.people, st.taskPeople} {
		rows, err := stmt.QueryContext(ctx, after, limit)
		if err != nil {
			return nil, translate(ctx, err, "people")
		}
		lists[i], err = sqlindex.ScanStrings(rows)
		rows.Close()
		if err != nil {
			return nil, translate(ctx, err, "people")
		}
	}
	return sqlindex.MergePeople(lists[0], lists[1], limit), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CountPeople counts the people with projection rows or health check
// Tasks.
func (s *Store) CountPeople(ctx context.Context) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, countPeopleSQL).Scan(&n); err != nil {
		return 0, translate(ctx, err, "count people")
	}
	return n, nil
}
