package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
)

// version names a version in history results.
type version struct {
	ID      string
	Version int64
}

func versions(rs []store.Resource) []version {
	out := make([]version, 0, len(rs))
	for _, r := range rs {
		out = append(out, version{r.ID, r.VersionID})
	}
	return out
}

// walkHistory follows a history query's pages and returns them.
func walkHistory(t *testing.T, st store.Store, q store.HistoryQuery) [][]version {
	t.Helper()
	var pages [][]version
	total := -1
	for range 100 {
		res, err := st.History(context.Background(), q)
		if err != nil {
			t.Fatalf("History(%+v): %v", q, err)
		}
		if total >= 0 && res.Total != total {
			t.Errorf("History total changed from %d to %d between pages", total, res.Total)
		}
		total = res.Total
		pages = append(pages, versions(res.Versions))
		if res.Next == 0 {
			return pages
		}
		q.Before = res.Next
	}
	t.Fatal("history paging does not end")
	return nil
}

var historyRules = []rule{
	{"history pages versions of one resource newest first, tombstones included", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "h1", nil)
		f.create("Patient", "other", nil)
		f.update("Patient", "h1", nil)
		f.update("Patient", "h1", nil)
		f.delete("Patient", "h1")
		f.update("Patient", "h1", nil)
		got := walkHistory(t, st, store.HistoryQuery{Type: "Patient", ID: "h1", Count: 2})
		want := [][]version{{{"h1", 5}, {"h1", 4}}, {{"h1", 3}, {"h1", 2}}, {{"h1", 1}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		res, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "h1", Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 5 || res.Next != 0 || !res.Versions[1].Deleted || res.Versions[1].Body != nil {
			t.Errorf("History = total %d, next %d, v4 %+v; want 5, 0, a tombstone", res.Total, res.Next, res.Versions[1])
		}
		for i, r := range res.Versions {
			if r.Key != res.Versions[0].Key {
				t.Errorf("version %d has key %d, want %d like every version", r.VersionID, r.Key, res.Versions[0].Key)
			}
			if i > 0 && r.Seq >= res.Versions[i-1].Seq {
				t.Errorf("seqs not decreasing: %d then %d", res.Versions[i-1].Seq, r.Seq)
			}
		}
		none, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "nobody", Count: 10})
		if err != nil || none.Total != 0 || len(none.Versions) != 0 {
			t.Errorf("History of an unknown resource = %+v, %v; want nothing", none, err)
		}
	}},
	{"type history pages every version of the type newest first, and Since keeps the later ones", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "a", nil)     // epoch+1s
		f.create("Observation", "x", nil) // +2s, another type
		f.create("Patient", "b", nil)     // +3s
		f.update("Patient", "a", nil)     // +4s
		f.delete("Patient", "b")          // +5s
		f.create("Patient", "c", nil)     // +6s
		f.update("Observation", "x", nil) // +7s
		f.update("Patient", "c", nil)     // +8s
		got := walkHistory(t, st, store.HistoryQuery{Type: "Patient", Count: 4})
		want := [][]version{{{"c", 2}, {"c", 1}, {"b", 2}, {"a", 2}}, {{"b", 1}, {"a", 1}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		since := epoch.Add(4 * time.Second)
		got = walkHistory(t, st, store.HistoryQuery{Type: "Patient", Count: 2, Since: since})
		want = [][]version{{{"c", 2}, {"c", 1}}, {{"b", 2}, {"a", 2}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages since %v (-want +got):\n%s", since, diff)
		}
		res, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", Count: 2, Since: since})
		if err != nil || res.Total != 4 {
			t.Errorf("History since: total %d, %v; want 4", res.Total, err)
		}
		res, err = st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "a", Count: 10, Since: since.Add(time.Millisecond)})
		if err != nil || len(res.Versions) != 0 {
			t.Errorf("History of a since after its last update = %v, %v; want nothing", versions(res.Versions), err)
		}
	}},
	{"seqs are unique and increase with every version, and a later transaction's seqs are higher", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		var seqs []int64
		seen := make(map[int64]bool)
		for i := range 5 {
			at := f.tick()
			before := seqs
			var writes []store.Write
			for j := range 3 {
				writes = append(writes, newWrite("Patient", string(rune('a'+i))+string(rune('a'+j)), 1, at, nil))
			}
			if i > 0 {
				writes = append(writes, store.Write{Type: "Patient", ID: "aa", VersionID: int64(i + 1), LastUpdated: at, Method: "PUT",
					Body: body("Patient", "aa", int64(i+1), at), Index: index()})
			}
			f.put(writes...)
			res, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", Count: len(writes)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Versions) != len(writes) {
				t.Fatalf("transaction %d: history has %d new versions, want %d", i, len(res.Versions), len(writes))
			}
			for _, r := range res.Versions {
				if seen[r.Seq] {
					t.Errorf("seq %d given twice", r.Seq)
				}
				seen[r.Seq] = true
				for _, s := range before {
					if r.Seq <= s {
						t.Errorf("transaction %d: seq %d not above seq %d of an earlier transaction", i, r.Seq, s)
					}
				}
				seqs = append(seqs, r.Seq)
			}
		}
		r := f.read("Patient", "aa")
		if r.Seq != slices.Max(seqs) {
			t.Errorf("Read(aa).Seq = %d, want the last seq %d", r.Seq, slices.Max(seqs))
		}
	}},
}
