package sqlindex

import (
	"errors"

	"github.com/carebridge/carebridge/adapter/store"
)

// The audit trail: both engines keep
//
//	audit (position, id, recorded, client, ods, action, type, resource, person, outcome, body)
//
// position is the paging order (increasing with every record added), id is
// unique, recorded is Unix microseconds.

// AuditColumns are the columns an engine inserts, in the order AuditValues
// gives them.
const AuditColumns = `id, recorded, client, ods, action, type, resource, person, outcome, body`

// CheckAudit refuses records their caller should never have built.
func CheckAudit(records []store.AuditRecord) error {
	for i := range records {
		if records[i].ID == "" || records[i].Recorded.IsZero() {
			return errors.New("store: an audit record needs an id and a time")
		}
	}
	return nil
}

// AuditValues returns r's column values in AuditColumns order.
func AuditValues(r *store.AuditRecord) [10]any {
	return [10]any{r.ID, MicrosOf(r.Recorded), r.Client, r.ODS, r.Action, r.Type, r.Resource, r.Person, r.Outcome, AuditBody(r)}
}

// AuditBody returns r's body as stored: a nil Body is stored empty.
func AuditBody(r *store.AuditRecord) []byte {
	if r.Body == nil {
		return []byte{}
	}
	return r.Body
}

// AuditStatement returns the SELECT of the page of audit records q
// selects: up to q.Count+1 of them after q.After, oldest (lowest position)
// first, each as position then AuditColumns. It refuses a Count below 1.
func AuditStatement(d Dialect, q store.AuditQuery) (*Statement, error) {
	if q.Count < 1 {
		return nil, errors.New("store: an audit query needs a count")
	}
	s := NewStatement(d)
	s.Write(`SELECT position, ` + AuditColumns + ` FROM audit WHERE position > `)
	s.Arg(q.After)
	for _, f := range []struct{ column, value string }{
		{"client", q.Client}, {"ods", q.ODS}, {"person", q.Person}, {"type", q.Type},
		{"resource", q.Resource}, {"action", q.Action}, {"outcome", q.Outcome},
	} {
		if f.value != "" {
			s.Write(` AND ` + f.column + ` = `)
			s.Arg(f.value)
		}
	}
	if q.Person != "" {
		s.Write(` AND person <> ''`) // lets the planner use the partial index
	}
	if !q.From.IsZero() {
		s.Write(` AND recorded >= `)
		s.Arg(MicrosOf(q.From))
	}
	if !q.To.IsZero() {
		s.Write(` AND recorded < `)
		s.Arg(MicrosOf(q.To))
	}
	s.Write(` ORDER BY position LIMIT `)
	s.Arg(q.Count + 1)
	return s, nil
}

// ScanAudit reads the result of AuditStatement for q into a page. Errors
// come back as the driver gave them, for the engine to translate.
func ScanAudit(rows ResultRows, q store.AuditQuery) (store.AuditPage, error) {
	var page store.AuditPage
	var last int64 // the position of the last record on the page
	for rows.Next() {
		var position, recorded int64
		var r store.AuditRecord
		if err := rows.Scan(&position, &r.ID, &recorded, &r.Client, &r.ODS, &r.Action, &r.Type,
			&r.Resource, &r.Person, &r.Outcome, &r.Body); err != nil {
			return store.AuditPage{}, err
		}
		if len(page.Records) == q.Count {
			page.Next = last // a record beyond the page: there is a next one
			break
		}
		r.Recorded = Micros(recorded)
		page.Records = append(page.Records, r)
		last = position
	}
	return page, rows.Err()
}
