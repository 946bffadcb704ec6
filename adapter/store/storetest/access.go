package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The people of the access rules. The organisations are practices A, B
// and C, and trust R.
const (
	personA = "9990000018"
	personB = "9990000026"
	personC = "9990000034"
)

// granted returns version v of typ/id that grants odsCodes.
func granted(typ, id string, v int64, f *fixture, odsCodes ...string) store.Write {
	w := newWrite(typ, id, v, f.tick(), nil)
	if v > 1 {
		w.Method = "PUT"
	}
	w.Grants = odsCodes
	return w
}

// about returns the projection row of typ/id about person.
func about(typ, id, person string) store.Projection {
	return store.Projection{Type: typ, ID: id, VersionID: 1, Person: person, Profile: "test", Facts: []byte(`{}`)}
}

// accessWorld stores the resources of the access rules, in this creation
// order, and returns what each Viewer must see of each type, in creation
// order. Invisible resources sit between and after the visible ones, so
// that a page or a total that counted them would show.
//
//	Task t1         grants A, R   about personA   (updated once)
//	Task t2         grants B      about personB
//	Task t3         grants A      about no one
//	Task t4         grants B      about personC
//	Observation o1  grants R      about personA
//	Observation o2  grants B      about personB
//	Observation o3  grants none   about personA
//	Observation o4  grants C      about personC
//	Observation o5  grants none   about no one
//
// personA is registered with A; personB with B, and R was sent data
// about them.
func accessWorld(t *testing.T, st store.Store) (*fixture, map[store.Viewer]map[string][]string) {
	f := newFixture(t, st)
	writes := []store.Write{
		granted("Task", "t1", 1, f, "A"),
		granted("Task", "t2", 1, f, "B"),
		granted("Task", "t3", 1, f, "A", "A", ""),
		granted("Task", "t4", 1, f, "B"),
		granted("Observation", "o1", 1, f, "R"),
		granted("Observation", "o2", 1, f, "B"),
		granted("Observation", "o3", 1, f),
		granted("Observation", "o4", 1, f, "C"),
		granted("Observation", "o5", 1, f),
	}
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Put(ctx, writes); err != nil {
			return err
		}
		if err := tx.PutProjections(ctx, []store.Projection{
			about("Task", "t1", personA), about("Task", "t2", personB), about("Task", "t4", personC),
			about("Observation", "o1", personA), about("Observation", "o2", personB),
			about("Observation", "o3", personA), about("Observation", "o4", personC),
			about("Observation", "o5", ""),
		}); err != nil {
			return err
		}
		return tx.PutPersonOrgs(ctx, []string{personA, personB}, []store.PersonOrg{
			{Person: personA, ODS: "A", Reason: store.ReasonRegistered},
			{Person: personB, ODS: "B", Reason: store.ReasonRegistered},
			{Person: personB, ODS: "R", Reason: store.ReasonSent},
		})
	})
	// t1's second version grants R too: what counts is the current one.
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		return tx.Put(ctx, []store.Write{granted("Task", "t1", 2, f, "A", "R")})
	})
	return f, map[store.Viewer]map[string][]string{
		{ODS: "A"}:                 {"Task": {"t1", "t3"}, "Observation": nil},
		{ODS: "A", ByPerson: true}: {"Task": {"t1", "t3"}, "Observation": {"o1", "o3"}},
		{ODS: "B"}:                 {"Task": {"t2", "t4"}, "Observation": {"o2"}},
		{ODS: "B", ByPerson: true}: {"Task": {"t2", "t4"}, "Observation": {"o2"}},
		{ODS: "R"}:                 {"Task": {"t1"}, "Observation": {"o1"}},
		{ODS: "R", ByPerson: true}: {"Task": {"t1", "t2"}, "Observation": {"o1", "o2"}},
		{ODS: "C", ByPerson: true}: {"Task": nil, "Observation": {"o4"}},
		{ODS: "Z", ByPerson: true}: {"Task": nil, "Observation": nil},
		{ODS: ""}:                  {"Task": nil, "Observation": nil}, // t3's grant of "" grants no one
	}
}

var accessRules = []rule{
	{"a Viewer finds, page by page and in totals and counts, exactly what it is granted or may see through a person", func(t *testing.T, st store.Store) {
		f, want := accessWorld(t, st)
		ctx := context.Background()
		for viewer, byType := range want {
			for typ, visibleIDs := range byType {
				for _, sort := range []fhir.Sort{fhir.SortCreated, fhir.SortLastUpdated, fhir.SortLastUpdatedDescending} {
					q := query(typ)
					q.Sort = sort
					// What the Viewer sees, in the order of the search.
					wantIDs := slices.DeleteFunc(f.search(q), func(id string) bool { return !slices.Contains(visibleIDs, id) })
					q.Count = 1
					got := walkAs(t, st, q, &viewer, nil)
					if !cmp.Equal(got, wantIDs, cmpEmpty) {
						t.Errorf("%+v searching %s (sort %d), one per page: %v, want %v", viewer, typ, sort, got, wantIDs)
					}
				}
				q := query(typ)
				q.Count, q.Total = 1, true
				res, err := st.Search(ctx, q, &viewer)
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != len(visibleIDs) {
					t.Errorf("%+v searching %s: total %d, want %d", viewer, typ, res.Total, len(visibleIDs))
				}
				q.Count, q.Total = 0, false
				res, err = st.Search(ctx, q, &viewer)
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != len(visibleIDs) || len(res.Resources) != 0 {
					t.Errorf("%+v counting %s: total %d and %d resources, want %d and none", viewer, typ, res.Total, len(res.Resources), len(visibleIDs))
				}
				q = query(typ)
				q.Total = true // a first page that holds every match tells the total itself
				res, err = st.Search(ctx, q, &viewer)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(res.Resources); res.Total != len(visibleIDs) || !cmp.Equal(got, visibleIDs, cmpEmpty) {
					t.Errorf("%+v searching %s in one page: %v with total %d, want %v", viewer, typ, got, res.Total, visibleIDs)
				}
			}
		}
		res, err := st.Search(ctx, query("Task"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Resources); !cmp.Equal(got, []string{"t1", "t2", "t3", "t4"}) {
			t.Errorf("without a Viewer: %v, want every Task", got)
		}
	}},
	{"a Viewer's search narrows a search by owner, not the other way round", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		owned := func(id, owner string, grants ...string) store.Write {
			w := granted("Task", id, 1, f, grants...)
			w.Index = index(logical("owner", ods, owner))
			return w
		}
		f.put(owned("mine", "A", "A"), owned("theirs", "B", "B"), owned("misfiled", "A", "B"), owned("shared", "B", "B", "A"))
		q := query("Task", fhir.Clause{Param: "owner", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier,
			Values: []fhir.ClauseValue{sysCode(ods, "A")}})
		q.Total = true
		res, err := st.Search(context.Background(), q, &store.Viewer{ODS: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Resources); !cmp.Equal(got, []string{"mine"}) || res.Total != 1 {
			t.Errorf("A's Tasks owned by A: %v (total %d), want [mine] (1)", got, res.Total)
		}
	}},
	{"Visible answers for each resource and Viewer as search does, and false for what does not exist", func(t *testing.T, st store.Store) {
		_, want := accessWorld(t, st)
		ctx := context.Background()
		for viewer, byType := range want {
			for typ, visibleIDs := range byType {
				all := map[string][]string{"Task": {"t1", "t2", "t3", "t4"}, "Observation": {"o1", "o2", "o3", "o4", "o5"}}[typ]
				for _, id := range append(all, "absent") {
					got, err := st.Visible(ctx, typ, id, viewer)
					if err != nil {
						t.Fatal(err)
					}
					if want := slices.Contains(visibleIDs, id); got != want {
						t.Errorf("Visible(%s/%s, %+v) = %v, want %v", typ, id, viewer, got, want)
					}
				}
			}
		}
	}},
	{"history shows a Viewer only versions of resources it may see now, totals included", func(t *testing.T, st store.Store) {
		_, _ = accessWorld(t, st)
		for _, tc := range []struct {
			q    store.HistoryQuery
			want [][]version
		}{
			{store.HistoryQuery{Type: "Task", ID: "t1", Count: 1, Viewer: &store.Viewer{ODS: "A"}},
				[][]version{{{"t1", 2}}, {{"t1", 1}}}},
			{store.HistoryQuery{Type: "Task", ID: "t1", Count: 1, Viewer: &store.Viewer{ODS: "B"}},
				[][]version{{}}},
			// t1's first version did not grant R; its current one does.
			{store.HistoryQuery{Type: "Task", ID: "t1", Count: 5, Viewer: &store.Viewer{ODS: "R"}},
				[][]version{{{"t1", 2}, {"t1", 1}}}},
			{store.HistoryQuery{Type: "Task", Count: 1, Viewer: &store.Viewer{ODS: "A"}},
				[][]version{{{"t1", 2}}, {{"t3", 1}}, {{"t1", 1}}}},
			{store.HistoryQuery{Type: "Observation", Count: 1, Viewer: &store.Viewer{ODS: "A", ByPerson: true}},
				[][]version{{{"o3", 1}}, {{"o1", 1}}}},
			{store.HistoryQuery{Type: "Observation", Count: 5, Viewer: &store.Viewer{ODS: "Z", ByPerson: true}},
				[][]version{{}}},
		} {
			got := walkHistory(t, st, tc.q)
			if !cmp.Equal(got, tc.want, cmpEmpty) {
				t.Errorf("History(%s/%s as %+v): %v, want %v", tc.q.Type, tc.q.ID, *tc.q.Viewer, got, tc.want)
			}
			total := tc.q
			total.Count = 0
			res, err := st.History(context.Background(), total)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, p := range tc.want {
				n += len(p)
			}
			if res.Total != n {
				t.Errorf("History(%s/%s as %+v) total %d, want %d", tc.q.Type, tc.q.ID, *tc.q.Viewer, res.Total, n)
			}
		}
	}},
	{"an update replaces a resource's grants and a delete removes them", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		sees := func(ods string) bool {
			t.Helper()
			ok, err := st.Visible(ctx, "Task", "x", store.Viewer{ODS: ods})
			if err != nil {
				t.Fatal(err)
			}
			res, err := st.Search(ctx, query("Task"), &store.Viewer{ODS: ods})
			if err != nil {
				t.Fatal(err)
			}
			if found := len(res.Resources) == 1; found != ok {
				t.Errorf("%s: Visible says %v, search found %d", ods, ok, len(res.Resources))
			}
			return ok
		}
		f.put(granted("Task", "x", 1, f, "A"))
		if !sees("A") || sees("B") {
			t.Errorf("after a create granting A: A sees %v, B sees %v; want only A", sees("A"), sees("B"))
		}
		// Two versions in one Put: the last one's grants count.
		f.put(granted("Task", "x", 2, f, "A"), granted("Task", "x", 3, f, "B"))
		if sees("A") || !sees("B") {
			t.Errorf("after versions granting A then B in one Put: A sees %v, B sees %v; want only B", sees("A"), sees("B"))
		}
		f.put(granted("Task", "x", 4, f, "C", "A"))
		if !sees("A") || sees("B") || !sees("C") {
			t.Errorf("after an update granting C and A: A %v, B %v, C %v; want A and C", sees("A"), sees("B"), sees("C"))
		}
		del := granted("Task", "x", 5, f, "A") // grants on a delete are ignored
		del.Deleted, del.Body, del.Index, del.Method = true, nil, nil, "DELETE"
		f.put(del)
		for _, ods := range []string{"A", "B", "C"} {
			if sees(ods) {
				t.Errorf("after the delete, %s still sees the Task", ods)
			}
		}
		res, err := st.History(ctx, store.HistoryQuery{Type: "Task", ID: "x", Count: 10, Viewer: &store.Viewer{ODS: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Versions) != 0 || res.Total != 0 {
			t.Errorf("after the delete, A's history of the Task has %d versions (total %d), want none", len(res.Versions), res.Total)
		}
	}},
	{"Tx.Search and Tx.Visible apply a Viewer to the transaction's own writes", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.put(granted("Observation", "old", 1, f, "B"))
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, []store.Write{granted("Observation", "new", 1, f, "A"), granted("Observation", "theirs", 1, f, "B")}); err != nil {
				return err
			}
			if err := tx.PutProjections(ctx, []store.Projection{about("Observation", "theirs", personC)}); err != nil {
				return err
			}
			check := func(viewer store.Viewer, want []string) {
				t.Helper()
				q := query("Observation")
				q.Total = true
				res, err := tx.Search(ctx, q, &viewer)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(res.Resources); !cmp.Equal(got, want, cmpEmpty) || res.Total != len(want) {
					t.Errorf("Tx.Search as %+v: %v (total %d), want %v", viewer, got, res.Total, want)
				}
				for _, id := range []string{"old", "new", "theirs"} {
					ok, err := tx.Visible(ctx, "Observation", id, viewer)
					if err != nil {
						t.Fatal(err)
					}
					if ok != slices.Contains(want, id) {
						t.Errorf("Tx.Visible(%s, %+v) = %v", id, viewer, ok)
					}
				}
			}
			check(store.Viewer{ODS: "A", ByPerson: true}, []string{"new"})
			if err := tx.PutPersonOrgs(ctx, []string{personC}, []store.PersonOrg{{Person: personC, ODS: "A", Reason: store.ReasonReferral}}); err != nil {
				return err
			}
			check(store.Viewer{ODS: "A", ByPerson: true}, []string{"new", "theirs"})
			check(store.Viewer{ODS: "A"}, []string{"new"})
			check(store.Viewer{ODS: "B"}, []string{"old", "theirs"})
			return nil
		})
	}},
	{"PutPersonOrgs replaces a person's organisations but keeps those sent data, and refuses a person it was not given", func(t *testing.T, st store.Store) {
		ctx := context.Background()
		put := func(people []string, grants ...store.PersonOrg) error {
			return st.Transact(ctx, func(ctx context.Context, tx store.Tx) error { return tx.PutPersonOrgs(ctx, people, grants) })
		}
		check := func(person string, want ...store.PersonOrg) {
			t.Helper()
			got, err := st.PersonOrgs(ctx, person)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
				t.Errorf("PersonOrgs(%s) (-want +got):\n%s", person, diff)
			}
		}
		org := func(person, ods, reason string) store.PersonOrg {
			return store.PersonOrg{Person: person, ODS: ods, Reason: reason}
		}
		if err := put([]string{personA, personB},
			org(personA, "R", store.ReasonSent), org(personA, "A", store.ReasonRegistered),
			org(personA, "R", store.ReasonEpisode), org(personA, "A", store.ReasonRegistered),
			org(personB, "B", store.ReasonRegistered)); err != nil {
			t.Fatal(err)
		}
		check(personA, org(personA, "A", store.ReasonRegistered), org(personA, "R", store.ReasonEpisode), org(personA, "R", store.ReasonSent))
		// personA moves practice and the episode ends; R's "sent" stays, and
		// sending again changes nothing. personB is not named: untouched.
		if err := put([]string{personA}, org(personA, "C", store.ReasonRegistered), org(personA, "R", store.ReasonSent)); err != nil {
			t.Fatal(err)
		}
		check(personA, org(personA, "C", store.ReasonRegistered), org(personA, "R", store.ReasonSent))
		check(personB, org(personB, "B", store.ReasonRegistered))
		if err := put([]string{personA}); err != nil {
			t.Fatal(err)
		}
		check(personA, org(personA, "R", store.ReasonSent))
		// A grant about someone not named is refused, and the transaction
		// leaves nothing.
		if err := put([]string{personB}, org(personC, "A", store.ReasonRegistered)); err == nil {
			t.Error("a grant about a person not in people was accepted")
		}
		check(personB, org(personB, "B", store.ReasonRegistered))
		check(personC)
	}},
	{"two transactions replacing one person's organisations leave the second one's, not both", func(t *testing.T, st store.Store) {
		ctx := context.Background()
		replace := func(ods string) func(ctx context.Context, tx store.Tx) error {
			return func(ctx context.Context, tx store.Tx) error {
				return tx.PutPersonOrgs(ctx, []string{personA}, []store.PersonOrg{{Person: personA, ODS: ods, Reason: store.ReasonRegistered}})
			}
		}
		wrote, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			firstDone <- st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
				if err := replace("A")(ctx, tx); err != nil {
					return err
				}
				close(wrote)
				<-release
				return nil
			})
		}()
		<-wrote
		secondDone := make(chan error, 1)
		go func() { secondDone <- st.Transact(ctx, replace("B")) }()
		// The second must wait for the first. If it does not, it ends on
		// its own, and the check below fails; if it does, it is still
		// waiting at the deadline, and the first may go on.
		select {
		case err := <-secondDone:
			secondDone <- err
		case <-time.After(500 * time.Millisecond):
		}
		close(release)
		if err := <-firstDone; err != nil {
			t.Fatal(err)
		}
		if err := <-secondDone; err != nil {
			t.Fatal(err)
		}
		got, err := st.PersonOrgs(ctx, personA)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.PersonOrg{{Person: personA, ODS: "B", Reason: store.ReasonRegistered}}; !cmp.Equal(got, want) {
			t.Errorf("PersonOrgs: %v, want %v", got, want)
		}
	}},
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmpopts.EquateEmpty()
