package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

var transactRules = []rule{
	{"a version that is not the successor of the current one fails with ErrVersionRace", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", nil)
		f.update("Patient", "p1", nil) // current version: 2
		for _, tc := range []struct {
			name string
			w    store.Write
		}{
			{"create of an existing resource", newWrite("Patient", "p1", 1, f.tick(), nil)},
			{"update that repeats the current version", newWrite("Patient", "p1", 2, f.tick(), nil)},
			{"update that skips a version", newWrite("Patient", "p1", 4, f.tick(), nil)},
			{"update of a resource that does not exist", newWrite("Patient", "nobody", 2, f.tick(), nil)},
			{"delete that repeats the current version", tombstone("Patient", "p1", 2, f.tick())},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var putErr error
				var a attempts
				err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
					a.inc()
					putErr = tx.Put(ctx, []store.Write{tc.w})
					return putErr
				})
				if !isRace(putErr) {
					t.Errorf("Put: err = %v, want an *fhir.Error that is store.ErrVersionRace", putErr)
				}
				if !errors.Is(err, store.ErrVersionRace) {
					t.Errorf("Transact: err = %v, want store.ErrVersionRace", err)
				}
				if a.n != store.MaxTransactAttempts {
					t.Errorf("fn ran %d times, want store.MaxTransactAttempts = %d", a.n, store.MaxTransactAttempts)
				}
			})
		}
		if r := f.read("Patient", "p1"); r.VersionID != 2 {
			t.Errorf("after the failed puts, version = %d, want 2", r.VersionID)
		}
		if _, err := st.Read(context.Background(), "Patient", "nobody"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("Read(nobody): err = %v, want fhir.NotFound", err)
		}
	}},
	{"transact runs fn again after a version race and commits the run that succeeds", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", nil)
		var a attempts
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			v := int64(2)
			if a.inc() == 1 {
				v = 5 // as if another writer had moved on: lose the race once
			}
			return tx.Put(ctx, []store.Write{newWrite("Patient", "p1", v, epoch.Add(time.Hour), nil)})
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if a.n != 2 {
			t.Errorf("fn ran %d times, want 2", a.n)
		}
		if r := f.read("Patient", "p1"); r.VersionID != 2 {
			t.Errorf("version = %d, want 2", r.VersionID)
		}
	}},
	{"an error from fn is returned as is and nothing fn wrote remains, index rows included", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "old", index(token("identifier", "nhs", "111"), str("name", "before")))
		boom := errors.New("boom")
		var a attempts
		at := f.tick()
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			a.inc()
			err := tx.Put(ctx, []store.Write{
				newWrite("Patient", "new1", 1, at, index(token("identifier", "nhs", "222"))),
				newWrite("Observation", "new2", 1, at, index(literal("subject", "Patient", "new1"), date("date", at, at.Add(time.Second)))),
				{Type: "Patient", ID: "old", VersionID: 2, LastUpdated: at, Method: "PUT", Body: body("Patient", "old", 2, at),
					Index: index(token("identifier", "nhs", "333"), str("name", "after"))},
			})
			if err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("Transact: err = %v, want fn's error itself", err)
		}
		if a.n != 1 {
			t.Errorf("fn ran %d times, want 1: only races are retried", a.n)
		}
		for _, id := range []string{"Patient/new1", "Observation/new2"} {
			typ, i, _ := strings.Cut(id, "/")
			if _, err := st.Read(context.Background(), typ, i); !errors.Is(err, fhir.ErrNotFound) {
				t.Errorf("Read(%s): err = %v, want fhir.NotFound", id, err)
			}
		}
		if r := f.read("Patient", "old"); r.VersionID != 1 {
			t.Errorf("Patient/old is at version %d, want 1", r.VersionID)
		}
		for _, tc := range []struct {
			q    *fhir.Query
			want []string
		}{
			{query("Patient", tokenClause("identifier", 0, code("111"))), []string{"old"}},
			{query("Patient", tokenClause("identifier", 0, code("222"), code("333"))), []string{}},
			{query("Patient", fhir.Clause{Param: "name", Type: fhir.StringParam, Values: []fhir.ClauseValue{{Text: "after"}}}), []string{}},
			{query("Observation"), []string{}},
			{query("Observation", missing("date", fhir.DateParam, false)), []string{}},
		} {
			if got := f.search(tc.q); !cmp.Equal(got, tc.want) {
				t.Errorf("Search(%s) = %v, want %v", describe(tc.q), got, tc.want)
			}
		}
		h, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", Count: 10})
		if err != nil || h.Total != 1 {
			t.Errorf("History: total %d, err %v; want 1 version", h.Total, err)
		}
	}},
	{"a transaction's reads and searches see its own writes, and nobody else sees them before commit", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("identifier", "nhs", "111")))
		at := f.tick()
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			err := tx.Put(ctx, []store.Write{
				newWrite("Patient", "p2", 1, at, index(token("identifier", "nhs", "222"))),
				{Type: "Patient", ID: "p1", VersionID: 2, LastUpdated: at, Method: "PUT", Body: body("Patient", "p1", 2, at),
					Index: index(token("identifier", "nhs", "999"))},
			})
			if err != nil {
				return err
			}
			r, err := tx.Read(ctx, "Patient", "p2")
			if err != nil {
				t.Errorf("Tx.Read of the new resource: %v", err)
			} else if r.VersionID != 1 {
				t.Errorf("Tx.Read: version %d, want 1", r.VersionID)
			}
			cur, err := tx.Current(ctx, "Patient", []string{"p1", "p2"})
			if err != nil {
				return err
			}
			if cur["p1"].VersionID != 2 || cur["p2"].VersionID != 1 {
				t.Errorf("Tx.Current = %+v, want p1 at 2 and p2 at 1", cur)
			}
			res, err := tx.Search(ctx, query("Patient", tokenClause("identifier", 0, code("999"), code("222"))), nil)
			if err != nil {
				return err
			}
			if got := ids(res.Resources); !cmp.Equal(got, []string{"p1", "p2"}) {
				t.Errorf("Tx.Search = %v, want [p1 p2]", got)
			}
			res, err = tx.Search(ctx, query("Patient", tokenClause("identifier", 0, code("111"))), nil)
			if err != nil {
				return err
			}
			if len(res.Resources) != 0 {
				t.Errorf("Tx.Search by the replaced token = %v, want nothing", ids(res.Resources))
			}
			// Outside the transaction, nothing has happened yet.
			if _, err := st.Read(ctx, "Patient", "p2"); !errors.Is(err, fhir.ErrNotFound) {
				t.Errorf("Store.Read before commit: err = %v, want fhir.NotFound", err)
			}
			if r, err := st.Read(ctx, "Patient", "p1"); err != nil || r.VersionID != 1 {
				t.Errorf("Store.Read before commit = version %d, %v; want version 1", r.VersionID, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		if r := f.read("Patient", "p2"); r.VersionID != 1 {
			t.Errorf("after commit, version %d, want 1", r.VersionID)
		}
	}},
	{"one put can write several types, creates and updates together", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("identifier", "nhs", "111")))
		f.create("Observation", "o0", index(token("code", "loinc", "1")))
		at := f.tick()
		f.put(
			newWrite("Observation", "o1", 1, at, index(token("code", "loinc", "1"), literal("subject", "Patient", "p1"))),
			store.Write{Type: "Patient", ID: "p1", VersionID: 2, LastUpdated: at, Method: "PUT", Body: body("Patient", "p1", 2, at),
				Index: index(token("identifier", "nhs", "112"))},
			tombstone("Observation", "o0", 2, at),
			newWrite("Task", "t1", 1, at, index(token("status", "", "requested"))),
		)
		for _, tc := range []struct {
			q    *fhir.Query
			want []string
		}{
			{query("Observation", tokenClause("code", 0, code("1"))), []string{"o1"}},
			{query("Patient", tokenClause("identifier", 0, code("112"))), []string{"p1"}},
			{query("Patient", tokenClause("identifier", 0, code("111"))), []string{}},
			{query("Task"), []string{"t1"}},
		} {
			if got := f.search(tc.q); !cmp.Equal(got, tc.want) {
				t.Errorf("Search(%s) = %v, want %v", describe(tc.q), got, tc.want)
			}
		}
		a, b := f.read("Observation", "o1"), f.read("Task", "t1")
		if a.Seq >= b.Seq {
			t.Errorf("seqs follow the order of the writes: o1 %d, t1 %d", a.Seq, b.Seq)
		}
	}},
	{"one put may write several versions of one resource, and the last is indexed", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("identifier", nhs, "1")))
		at := f.tick()
		v := func(n int64, code string) store.Write {
			return store.Write{Type: "Patient", ID: "p1", VersionID: n, LastUpdated: at, Method: "PUT",
				Body: body("Patient", "p1", n, at), Index: index(token("identifier", nhs, code))}
		}
		f.put(v(2, "2"), v(3, "3"), newWrite("Patient", "p2", 1, at, index(token("identifier", nhs, "3"))))
		if r := f.read("Patient", "p1"); r.VersionID != 3 {
			t.Errorf("version %d, want 3", r.VersionID)
		}
		runSearches(t, f, []searchCase{
			{"the last version's token", query("Patient", tokenClause("identifier", 0, code("3"))), []string{"p1", "p2"}},
			{"an earlier version's token", query("Patient", tokenClause("identifier", 0, code("2"), code("1"))), nil},
		})
	}},
	{"a cancelled context fails the transaction and leaves nothing", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		at := f.tick()
		ctx, cancel := context.WithCancel(context.Background())
		err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, []store.Write{newWrite("Patient", "p1", 1, at, index(token("identifier", "nhs", "1")))}); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err == nil {
			t.Fatal("Transact returned nil after its context was cancelled before commit")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Transact: err = %v, want one that is context.Canceled", err)
		}
		if _, ok := errors.AsType[*fhir.Error](err); !ok {
			t.Errorf("Transact: err = %v (%T), want an *fhir.Error", err, err)
		}
		if _, err := st.Read(context.Background(), "Patient", "p1"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("Read: err = %v, want fhir.NotFound", err)
		}
		err = st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.Put(ctx, []store.Write{newWrite("Patient", "p2", 1, at, nil)})
		})
		if err == nil {
			t.Error("Transact with a cancelled context returned nil")
		}
		if _, err := st.Read(context.Background(), "Patient", "p2"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("Read: err = %v, want fhir.NotFound", err)
		}
	}},
	{"a transaction waiting for another gives up when its context ends", func(t *testing.T, st store.Store) {
		holding, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				if err := tx.Lock(ctx, "k"); err != nil {
					return err
				}
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.Lock(ctx, "k")
		})
		elapsed := time.Since(start)
		close(release)
		if err == nil {
			t.Error("Transact returned nil while another transaction held the lock past its deadline")
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Transact: err = %v, want one that is context.DeadlineExceeded", err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("Transact gave up after %v, want soon after its 200ms deadline", elapsed)
		}
		if err := <-done; err != nil {
			t.Errorf("the holding transaction: %v", err)
		}
	}},
}
