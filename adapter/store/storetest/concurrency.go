package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
)

// concurrency is how many goroutines race in these rules.
const concurrency = 16

// race runs fn in concurrency goroutines released together and returns
// their errors.
func race(fn func(i int) error) []error {
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range concurrency {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// warm runs concurrency transactions at once that each hold their
// connection for a moment, so that a store that opens connections lazily has
// them open before a race, and the racers really run at once.
func warm(t *testing.T, st store.Store) {
	for i, err := range race(func(int) error {
		return st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			time.Sleep(20 * time.Millisecond)
			return nil
		})
	}) {
		if err != nil {
			t.Fatalf("warming up, transaction %d: %v", i, err)
		}
	}
}

var concurrencyRules = []rule{
	{"two transactions taking the same two locks in opposite orders both commit", func(t *testing.T, st store.Store) {
		// Each holds its first lock until the other holds its own (or a
		// moment has passed, where transactions run one at a time), then
		// asks for the other's: a deadlock, which the store must resolve
		// by failing one transaction and running it again.
		held := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var once [2]sync.Once
		var runs atomic.Int32
		errs := make(chan error, 2)
		for i, keys := range [2][2]string{{"lock-a", "lock-b"}, {"lock-b", "lock-a"}} {
			go func() {
				errs <- st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
					runs.Add(1)
					if err := tx.Lock(ctx, keys[0]); err != nil {
						return err
					}
					once[i].Do(func() { close(held[i]) })
					select {
					case <-held[1-i]:
					case <-time.After(200 * time.Millisecond):
					}
					if err := tx.Lock(ctx, keys[1]); err != nil {
						return err
					}
					w := newWrite("Patient", fmt.Sprintf("d%d", i), 1, epoch, nil)
					return tx.Put(ctx, []store.Write{w})
				})
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("Transact: %v", err)
			}
		}
		f := newFixture(t, st)
		f.read("Patient", "d0")
		f.read("Patient", "d1")
		t.Logf("%d runs of fn for 2 transactions", runs.Load())
	}},
	{"a conditional create under 16 concurrent callers makes one resource", func(t *testing.T, st store.Store) {
		q := query("Patient", tokenClause("identifier", 0, sysCode(nhs, "9000000009")))
		q.Count = 2
		warm(t, st)
		var created atomic.Int32
		errs := race(func(i int) error {
			return st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				if err := tx.Lock(ctx, "Patient?identifier="+nhs+"|9000000009"); err != nil {
					return err
				}
				res, err := tx.Search(ctx, q, nil)
				if err != nil {
					return err
				}
				if len(res.Resources) > 0 {
					return nil
				}
				id := fmt.Sprintf("c%02d", i)
				w := newWrite("Patient", id, 1, epoch.Add(time.Duration(i)*time.Millisecond), index(token("identifier", nhs, "9000000009")))
				if err := tx.Put(ctx, []store.Write{w}); err != nil {
					return err
				}
				created.Add(1)
				return nil
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
		q.Count, q.Total = 10, true
		res, err := st.Search(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 1 {
			t.Errorf("%d resources match, want 1: %v", res.Total, ids(res.Resources))
		}
		if n := created.Load(); n < 1 {
			t.Errorf("no caller created the resource")
		}
	}},
	{"16 concurrent updates of one resource all succeed with consecutive versions", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "u1", index(token("identifier", nhs, "0")))
		warm(t, st)
		var runs atomic.Int32
		errs := race(func(i int) error {
			return st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				runs.Add(1)
				cur, err := tx.Current(ctx, "Patient", []string{"u1"})
				if err != nil {
					return err
				}
				v := cur["u1"].VersionID + 1
				at := epoch.Add(time.Hour + time.Duration(i)*time.Millisecond)
				w := store.Write{Type: "Patient", ID: "u1", VersionID: v, LastUpdated: at, Method: "PUT",
					Body:  fmt.Appendf(nil, `{"resourceType":"Patient","id":"u1","writer":%d}`, i),
					Index: index(token("identifier", nhs, fmt.Sprint(i+1)))}
				return tx.Put(ctx, []store.Write{w})
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		res, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "u1", Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		writers := make(map[string]bool)
		for _, r := range res.Versions {
			got = append(got, r.VersionID)
			writers[string(r.Body)] = true
		}
		var want []int64
		for v := concurrency + 1; v >= 1; v-- {
			want = append(want, int64(v))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("versions, newest first (-want +got):\n%s", diff)
		}
		if len(writers) != concurrency+1 {
			t.Errorf("%d distinct bodies, want %d: every writer's version is kept", len(writers), concurrency+1)
		}
		cur := f.read("Patient", "u1")
		if cur.VersionID != concurrency+1 {
			t.Errorf("current version %d, want %d", cur.VersionID, concurrency+1)
		}
		// The index is the one of the current version, and only that one.
		var last int
		if _, err := fmt.Sscanf(string(cur.Body), `{"resourceType":"Patient","id":"u1","writer":%d}`, &last); err != nil {
			t.Fatalf("current body %q: %v", cur.Body, err)
		}
		for i := range concurrency + 1 {
			want := []string{}
			if i == last+1 {
				want = []string{"u1"}
			}
			if got := f.search(query("Patient", tokenClause("identifier", 0, code(fmt.Sprint(i))))); !cmp.Equal(got, want) {
				t.Errorf("search by identifier %d = %v, want %v", i, got, want)
			}
		}
		t.Logf("%d runs of fn for %d transactions", runs.Load(), concurrency)
	}},
	{"16 concurrent writers of one new id all succeed: one creates it, the others update it", func(t *testing.T, st store.Store) {
		warm(t, st)
		var runs atomic.Int32
		errs := race(func(i int) error {
			first := true
			return st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				runs.Add(1)
				cur, err := tx.Current(ctx, "Patient", []string{"n1"})
				if err != nil {
					return err
				}
				if first {
					// Let the others read too, so that the writers that
					// run at once all find no n1 and race to create it.
					first = false
					time.Sleep(30 * time.Millisecond)
				}
				w := newWrite("Patient", "n1", cur["n1"].VersionID+1, epoch.Add(time.Duration(i)*time.Millisecond),
					index(token("identifier", nhs, fmt.Sprint(i))))
				return tx.Put(ctx, []store.Write{w})
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		res, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "n1", Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != concurrency || res.Versions[0].VersionID != concurrency {
			t.Errorf("%d versions, newest %d; want %d and %d", res.Total, res.Versions[0].VersionID, concurrency, concurrency)
		}
		if got := res.Versions[len(res.Versions)-1]; got.VersionID != 1 {
			t.Errorf("oldest version %d, want 1", got.VersionID)
		}
		t.Logf("%d runs of fn for %d transactions", runs.Load(), concurrency)
	}},
}
