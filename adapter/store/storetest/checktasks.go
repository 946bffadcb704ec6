package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
)

// The health check Tasks: Tx.PutCheckTasks, Tx.CheckTasks and
// Store.CheckTasks, and Store.People, which a full reconciliation pages
// with.

var checkTaskRules = []rule{
	{"health check tasks are put, replaced by key and read per person in order", func(t *testing.T, st store.Store) {
		a1 := store.CheckTask{Key: "missing|" + nhsA + "|bmi", Person: nhsA, TaskID: "t1", Open: true}
		a2 := store.CheckTask{Key: "missing|" + nhsA + "|alcohol", Person: nhsA, TaskID: "t2", Open: true}
		b1 := store.CheckTask{Key: "missing|" + nhsB + "|bmi", Person: nhsB, TaskID: "t3", Open: false}
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			return tx.PutCheckTasks(ctx, []store.CheckTask{a1, b1, a2})
		})
		// nhsB sorts before nhsA; keys in order within a person.
		want := []store.CheckTask{b1, a2, a1}
		got, err := st.CheckTasks(context.Background(), []string{nhsA, "", nhsB, nhsA})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Store.CheckTasks (-want +got):\n%s", diff)
		}
		// A second put of a key replaces its row; the last of two counts.
		closed := a1
		closed.Open = false
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			return tx.PutCheckTasks(ctx, []store.CheckTask{a1, closed})
		})
		var inTx []store.CheckTask
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			var err error
			inTx, err = tx.CheckTasks(ctx, []string{nhsA})
			return err
		})
		if diff := cmp.Diff([]store.CheckTask{a2, closed}, inTx); diff != "" {
			t.Errorf("Tx.CheckTasks after closing %s (-want +got):\n%s", a1.Key, diff)
		}
		if got, err := st.CheckTasks(context.Background(), nil); err != nil || len(got) != 0 {
			t.Errorf("CheckTasks of no one = %v, %v; want nothing", got, err)
		}
	}},
	{"health check tasks written in a transaction that fails are not kept", func(t *testing.T, st store.Store) {
		boom := errors.New("boom")
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.PutCheckTasks(ctx, []store.CheckTask{{Key: "k", Person: nhsA, TaskID: "t1", Open: true}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		if got, _ := st.CheckTasks(context.Background(), []string{nhsA}); len(got) != 0 {
			t.Errorf("after a rollback CheckTasks = %v, want nothing", got)
		}
	}},
	{"a health check task without a key, person or task id is refused", func(t *testing.T, st store.Store) {
		for _, c := range []store.CheckTask{{Person: nhsA, TaskID: "t"}, {Key: "k", TaskID: "t"}, {Key: "k", Person: nhsA}} {
			err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				return tx.PutCheckTasks(ctx, []store.CheckTask{c})
			})
			if err == nil {
				t.Errorf("PutCheckTasks(%+v) succeeded", c)
			}
		}
	}},
	{"people are paged in order from projection rows and tasks, each once", func(t *testing.T, st store.Store) {
		// nhsC has only a Task; nhsA rows and a Task; nhsB rows; a row
		// about no one is no person.
		const nhsC = "9990000018"
		putRows(t, st, projRow("Patient", "pA", nhsA), projRow("Observation", "o1", nhsA),
			projRow("Patient", "pB", nhsB), projRow("Observation", "o2", ""))
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			return tx.PutCheckTasks(ctx, []store.CheckTask{
				{Key: "k1", Person: nhsC, TaskID: "t1"}, {Key: "k2", Person: nhsA, TaskID: "t2", Open: true},
			})
		})
		var all []string
		after := ""
		for range 5 {
			page, err := st.People(context.Background(), after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 2 {
				t.Fatalf("People(%q, 2) = %v: more than the limit", after, page)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1]
		}
		if want := []string{nhsB, nhsA, nhsC}; !cmp.Equal(want, all) {
			t.Errorf("People paged by 2 = %v, want %v", all, want)
		}
		if n, err := st.CountPeople(context.Background()); err != nil || n != 3 {
			t.Errorf("CountPeople = %d, %v; want 3", n, err)
		}
		if got, err := st.People(context.Background(), "", 0); err != nil || len(got) != 0 {
			t.Errorf("People with limit 0 = %v, %v; want nothing", got, err)
		}
	}},
}
