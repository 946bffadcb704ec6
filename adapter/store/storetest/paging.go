package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// walk follows next pages from q until the last one and returns every id
// found, in order; between pages it calls between(page number).
func walk(t *testing.T, st store.Store, q *fhir.Query, between func(page int)) []string {
	t.Helper()
	return walkAs(t, st, q, nil, between)
}

// walkAs is walk for viewer: it searches as viewer.
func walkAs(t *testing.T, st store.Store, q *fhir.Query, viewer *store.Viewer, between func(page int)) []string {
	t.Helper()
	var all []string
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatalf("more than 1000 pages: paging does not end")
		}
		res, err := st.Search(context.Background(), q, viewer)
		if err != nil {
			t.Fatalf("Search page %d: %v", page, err)
		}
		if len(res.Resources) > q.Count {
			t.Fatalf("page %d has %d resources, more than Count %d", page, len(res.Resources), q.Count)
		}
		all = append(all, ids(res.Resources)...)
		if res.Next == nil {
			return all
		}
		if len(res.Resources) == 0 {
			t.Fatalf("page %d is empty but has a next page", page)
		}
		if between != nil {
			between(page)
		}
		next := *q
		next.Page = res.Next
		q = &next
	}
}

var pagingRules = []rule{
	{"results come in creation order by default, and in _lastUpdated order either way with creation order breaking ties", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		t0 := epoch.Add(time.Hour)
		f.put(newWrite("Patient", "a", 1, t0.Add(3*time.Second), nil))
		f.put(newWrite("Patient", "b", 1, t0.Add(1*time.Second), nil))
		f.put(newWrite("Patient", "c", 1, t0.Add(2*time.Second), nil))
		f.put(newWrite("Patient", "d", 1, t0.Add(2*time.Second), nil))
		f.put(newWrite("Patient", "e", 1, t0.Add(2*time.Second), nil))
		for _, tc := range []struct {
			sort fhir.Sort
			want []string
		}{
			{fhir.SortCreated, []string{"a", "b", "c", "d", "e"}},
			{fhir.SortLastUpdated, []string{"b", "c", "d", "e", "a"}},
			// Descending on the key too, so that one index serves both directions.
			{fhir.SortLastUpdatedDescending, []string{"a", "e", "d", "c", "b"}},
		} {
			q := query("Patient")
			q.Sort = tc.sort
			if got := f.search(q); !cmp.Equal(got, tc.want) {
				t.Errorf("sort %d: %v, want %v", tc.sort, got, tc.want)
			}
			for _, count := range []int{1, 2, 4} {
				q.Count = count
				if got := walk(t, st, q, nil); !cmp.Equal(got, tc.want) {
					t.Errorf("sort %d, pages of %d: %v, want %v", tc.sort, count, got, tc.want)
				}
			}
		}
	}},
	{"count 0 returns the total only, and the total counts every page", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		for i := range 5 {
			f.create("Patient", fmt.Sprintf("p%d", i), index(token("active", "", "true")))
		}
		f.create("Patient", "x", index(token("active", "", "false")))
		q := query("Patient", tokenClause("active", 0, code("true")))
		q.Count = 0
		res, err := st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 0 || res.Total != 5 || res.Next != nil {
			t.Errorf("Count 0: %d resources, total %d, next %v; want none, 5, nil", len(res.Resources), res.Total, res.Next)
		}
		q.Count, q.Total = 2, true
		res, err = st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 2 || res.Total != 5 || res.Next == nil {
			t.Errorf("Count 2 with Total: %d resources, total %d, next %v; want 2, 5, a next page", len(res.Resources), res.Total, res.Next)
		}
		q.Page = res.Next
		res, err = st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 5 {
			t.Errorf("second page: total %d, want 5", res.Total)
		}
		q.Total, q.Page = false, nil
		res, err = st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != -1 {
			t.Errorf("Total not asked: total %d, want -1", res.Total)
		}
		q.Count = 5
		res, err = st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 5 || res.Next != nil {
			t.Errorf("a page holding exactly every match: %d resources, next %v; want 5 and no next page", len(res.Resources), res.Next)
		}
		// A first page that holds every match gives the total too.
		for _, n := range []int{5, 6, 50} {
			q.Count, q.Total = n, true
			res, err = st.Search(context.Background(), q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Resources) != 5 || res.Total != 5 || res.Next != nil {
				t.Errorf("Count %d with Total: %d resources, total %d, next %v; want 5, 5, none", n, len(res.Resources), res.Total, res.Next)
			}
		}
		q.Count = 4
		res, err = st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 4 || res.Total != 5 || res.Next == nil {
			t.Errorf("Count 4 with Total: %d resources, total %d, next %v; want 4, 5, a next page", len(res.Resources), res.Total, res.Next)
		}
	}},
	{"pages neither skip nor repeat while resources are created, updated and deleted between them", func(t *testing.T, st store.Store) {
		for _, filtered := range []bool{false, true} {
			t.Run(fmt.Sprintf("filtered=%v", filtered), func(t *testing.T) {
				f := newFixture(t, st)
				typ := "Patient"
				if filtered {
					typ = "Observation"
				}
				ix := func() *fhir.Index { return index(token("status", "", "final")) }
				var want []string
				for i := range 25 {
					id := fmt.Sprintf("r%02d", i)
					f.create(typ, id, ix())
					want = append(want, id)
				}
				f.create(typ, "other", index(token("status", "", "draft")))
				if !filtered {
					want = append(want, "other")
				}
				q := query(typ)
				if filtered {
					q = query(typ, tokenClause("status", 0, code("final")))
				}
				q.Count = 7
				n := 25
				got := walk(t, st, q, func(page int) {
					// Updates of resources already seen and still to come,
					// new resources, and a delete of one still to come.
					for _, i := range []int{page*7 - 1, page*7 + 2} {
						if id := fmt.Sprintf("r%02d", i%25); id != "r10" {
							f.update(typ, id, ix())
						}
					}
					for range 2 {
						id := fmt.Sprintf("r%02d", n)
						n++
						f.create(typ, id, ix())
						want = append(want, id)
					}
					if page == 1 {
						f.delete(typ, "r10")
						want = slices.DeleteFunc(want, func(s string) bool { return s == "r10" })
					}
				})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ids across pages (-want +got):\n%s", diff)
				}
			})
		}
	}},
}
