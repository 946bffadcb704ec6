package sqlindex

import "github.com/carebridge/carebridge/fhir"

// After writes " AND " and the keyset condition that starts the page after
// q.Page in q's order; nothing on the first page.
func After(s *Statement, q *fhir.Query) {
	p := q.Page
	if p == nil {
		return
	}
	switch q.Sort {
	case fhir.SortLastUpdated:
		s.Write(" AND (r.last_updated, r.key) > (")
	case fhir.SortLastUpdatedDescending:
		s.Write(" AND (r.last_updated, r.key) < (")
	default:
		s.Write(" AND r.key > ")
		s.Arg(p.Key)
		return
	}
	s.Arg(p.LastUpdated)
	s.Write(", ")
	s.Arg(p.Key)
	s.Write(")")
}

// OrderBy writes the ORDER BY clause of q's order. Every order ends with the
// creation-order key, so that it is total and pages are stable; the
// descending order is descending on the key too, so that one index serves
// both directions.
func OrderBy(s *Statement, q *fhir.Query) {
	switch q.Sort {
	case fhir.SortLastUpdated:
		s.Write(" ORDER BY r.last_updated, r.key")
	case fhir.SortLastUpdatedDescending:
		s.Write(" ORDER BY r.last_updated DESC, r.key DESC")
	default:
		s.Write(" ORDER BY r.key")
	}
}
