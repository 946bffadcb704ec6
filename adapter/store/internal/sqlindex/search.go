package sqlindex

import (
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// SearchStatement returns the SELECT of one page of q that viewer may see
// (every match when viewer is nil): columns (of resources r joined with the
// current versions v) of up to q.Count+1 resources, from q.Page on, in q's
// order. The extra row tells whether there is a next page; since the
// Viewer's condition is in the statement, a page and its token are made only
// of what the Viewer may see.
func SearchStatement(d Dialect, q *fhir.Query, viewer *store.Viewer, columns string) (*Statement, error) {
	s := NewStatement(d)
	s.sql.Grow(1024) // a search's text, in one allocation
	s.Write(`SELECT `)
	s.Write(columns)
	s.Write(` FROM resources r JOIN versions v ON v.seq = r.current_seq WHERE `)
	if err := Where(s, q); err != nil {
		return nil, err
	}
	Sees(s, viewer)
	After(s, q)
	OrderBy(s, q)
	s.Write(` LIMIT `)
	s.Arg(q.Count + 1)
	return s, nil
}

// HistoryStatements returns the statements of q: the count of the versions
// it selects, across pages, and its page, q.Count+1 versions from before
// q.Before, newest first, selecting columns (of versions v joined with their
// resources r). With q.Viewer, only versions of resources it may see now
// are selected and counted.
func HistoryStatements(d Dialect, q store.HistoryQuery, columns string) (count, page *Statement) {
	count = NewStatement(d)
	if q.Viewer == nil {
		count.Write(`SELECT count(*) FROM versions v WHERE `)
	} else {
		count.Write(`SELECT count(*) FROM versions v JOIN resources r ON r.type = v.type AND r.id = v.id WHERE `)
	}
	historyWhere(count, q)

	page = NewStatement(d)
	page.Write(`SELECT ` + columns + ` FROM versions v JOIN resources r ON r.type = v.type AND r.id = v.id WHERE `)
	historyWhere(page, q)
	if q.Before > 0 {
		page.Write(` AND v.seq < `)
		page.Arg(q.Before)
	}
	page.Write(` ORDER BY v.seq DESC LIMIT `)
	page.Arg(q.Count + 1)
	return count, page
}

// historyWhere writes the condition on the versions v (and, with a Viewer,
// their resources r) that q selects.
func historyWhere(s *Statement, q store.HistoryQuery) {
	s.Write(`TRUE`)
	if q.Type != "" {
		s.Write(` AND v.type = `)
		s.Arg(q.Type)
	}
	if q.ID != "" {
		s.Write(` AND v.id = `)
		s.Arg(q.ID)
	}
	if !q.Since.IsZero() {
		s.Write(` AND v.last_updated >= `)
		s.Arg(q.Since.UnixMicro())
	}
	Sees(s, q.Viewer)
}
