package sqlindex

import (
	"slices"

	"github.com/carebridge/carebridge/adapter/store"
)

// ScanCheckTasks reads the result of a health check Task select (key,
// person, task_id, open). Errors come back as the driver gave them, for the
// engine to translate.
func ScanCheckTasks(rows ResultRows) ([]store.CheckTask, error) {
	var out []store.CheckTask
	for rows.Next() {
		var c store.CheckTask
		if err := rows.Scan(&c.Key, &c.Person, &c.TaskID, &c.Open); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ScanStrings reads a one-column text result.
func ScanStrings(rows ResultRows) ([]string, error) {
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// MergePeople merges two ascending lists of NHS numbers (the people with
// projection rows, the people with health check Tasks) into one without
// repeats, of at most limit. Each list is the first limit of its table,
// so the first limit of the merge are the first limit of both tables.
func MergePeople(a, b []string, limit int) []string {
	out := slices.Compact(slices.Sorted(slices.Values(append(slices.Clip(a), b...))))
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// CleanPeople returns the NHS numbers, sorted, without repeats and without
// "" (which is no one).
func CleanPeople(nhsNumbers []string) []string {
	out := slices.Sorted(slices.Values(nhsNumbers))
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	return out
}
