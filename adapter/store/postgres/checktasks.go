package postgres

import (
	"context"
	"errors"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/internal/sqlindex"
	"github.com/carebridge/carebridge/fhir"
)

// The health check Tasks (migration 00004): hc_task, one row per
// idempotency key, found by key and by person.

const (
	checkTasksSQL = `SELECT key, person, task_id, open FROM hc_task
WHERE person = ANY($1::text[]) ORDER BY person, key`
	// putCheckTasksSQL upserts the rows given as parallel arrays.
	putCheckTasksSQL = `INSERT INTO hc_task (key, person, task_id, open)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])
ON CONFLICT (key) DO UPDATE SET person = excluded.person, task_id = excluded.task_id, open = excluded.open`
	// peopleSQL and taskPeopleSQL page through the people with projection
	// rows and with Tasks, in order.
	peopleSQL      = `SELECT DISTINCT person FROM sc_projection WHERE person > $1 AND person <> '' ORDER BY person LIMIT $2`
	countPeopleSQL = `SELECT count(*) FROM (SELECT person FROM sc_projection WHERE person <> '' UNION SELECT person FROM hc_task) AS people`
	taskPeopleSQL  = `SELECT DISTINCT person FROM hc_task WHERE person > $1 ORDER BY person LIMIT $2`
)

// CheckTasks returns the health check Tasks of the people, in (Person, Key)
// order, as the transaction sees them.
func (t *tx) CheckTasks(ctx context.Context, nhsNumbers []string) ([]store.CheckTask, error) {
	return queryCheckTasks(ctx, t.tx, nhsNumbers)
}

// CheckTasks returns the committed health check Tasks of the people, in
// (Person, Key) order.
func (s *Store) CheckTasks(ctx context.Context, nhsNumbers []string) ([]store.CheckTask, error) {
	return queryCheckTasks(ctx, s.pool, nhsNumbers)
}

func queryCheckTasks(ctx context.Context, q querier, nhsNumbers []string) ([]store.CheckTask, error) {
	people := sqlindex.CleanPeople(nhsNumbers)
	if len(people) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, checkTasksSQL, people)
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
	// A key twice in one statement is an error for ON CONFLICT: the last
	// row counts, as on SQLite.
	last := make(map[string]int, len(tasks))
	for i, c := range tasks {
		if c.Key == "" || c.Person == "" || c.TaskID == "" {
			return t.fail(fhir.Wrap(errors.New("postgres: a health check task needs a key, a person and a task id"), "put health check tasks"))
		}
		last[c.Key] = i
	}
	var keys, people, ids []string
	var open []bool
	for i, c := range tasks {
		if last[c.Key] != i {
			continue
		}
		keys, people, ids, open = append(keys, c.Key), append(people, c.Person), append(ids, c.TaskID), append(open, c.Open)
	}
	if _, err := t.tx.Exec(ctx, putCheckTasksSQL, keys, people, ids, open); err != nil {
		return t.fail(translate(ctx, err, "put health check tasks"))
	}
	return nil
}

// People returns up to limit NHS numbers after after, in order, of the
// people with projection rows or health check Tasks.
func (s *Store) People(ctx context.Context, after string, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	var lists [2][]string
	for i, q := range []string{peopleSQL, taskPeopleSQL} {
		rows, err := s.pool.Query(ctx, q, after, limit)
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

// CountPeople counts the people with projection rows or health check
// Tasks.
func (s *Store) CountPeople(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, countPeopleSQL).Scan(&n); err != nil {
		return 0, translate(ctx, err, "count people")
	}
	return n, nil
}
