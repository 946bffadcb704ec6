package sqlindex

import (
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// CountStatement returns the statement that counts the current, undeleted
// resources matching q that viewer may see (all of them when viewer is nil).
func CountStatement(d Dialect, q *fhir.Query, viewer *store.Viewer) (*Statement, error) {
	st := NewStatement(d)
	st.Write(`SELECT count(*) FROM resources r WHERE `)
	if err := Where(st, q); err != nil {
		return nil, err
	}
	Sees(st, viewer)
	return st, nil
}

// TotalFromPage sets res.Total when the page res of q tells it without a
// count, and reports whether it did: a first page that holds every match
// (as a practice's poll of its Tasks seldom fails to) has their number.
func TotalFromPage(q *fhir.Query, res *store.SearchResult) bool {
	if q.Page != nil || res.Next != nil {
		return false
	}
	res.Total = len(res.Resources)
	return true
}
