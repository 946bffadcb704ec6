package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The Subscription notification outbox: Tx.AddOutbox, Tx.RecordAttempt,
// Tx.Redrive and the Outbox methods of Store.

// outboxEntry returns a pending entry of subscription sub about
// Task/res, due at due.
func outboxEntry(id, sub, res string, due time.Time) store.OutboxEntry {
	return store.OutboxEntry{
		ID: id, Subscription: sub, SubscriptionVersion: 1,
		Type: "Task", ResourceID: res, ResourceVersion: 1,
		Created: epoch, State: store.OutboxPending, NextAttempt: due,
	}
}

// addOutbox commits entries in one transaction.
func addOutbox(t *testing.T, st store.Store, entries ...store.OutboxEntry) {
	t.Helper()
	transact(t, st, func(ctx context.Context, tx store.Tx) error { return tx.AddOutbox(ctx, entries) })
}

// listOutbox returns the ids q lists.
func listOutbox(t *testing.T, st store.Store, q store.OutboxQuery) []string {
	t.Helper()
	got, err := st.ListOutbox(context.Background(), q)
	if err != nil {
		t.Fatalf("ListOutbox(%+v): %v", q, err)
	}
	return outboxIDs(got)
}

func outboxIDs(entries []store.OutboxEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

// claim claims for holder at now with a lease of lease.
func claim(t *testing.T, st store.Store, holder string, now time.Time, lease time.Duration, limit int) []store.OutboxEntry {
	t.Helper()
	got, err := st.ClaimOutbox(context.Background(), holder, now, now.Add(lease), limit)
	if err != nil {
		t.Fatalf("ClaimOutbox(%s): %v", holder, err)
	}
	return got
}

// record records an attempt and returns whether it counted.
func record(t *testing.T, st store.Store, a store.OutboxAttempt) bool {
	t.Helper()
	var ok bool
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		var err error
		ok, err = tx.RecordAttempt(ctx, a)
		return err
	})
	return ok
}

var outboxRules = []rule{
	{"the current Subscriptions that are not deleted are read in id order, as the transaction sees them", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Subscription", "s2", nil)
		f.create("Subscription", "s1", nil)
		f.create("Subscription", "s3", nil)
		f.create("Task", "t1", nil)
		f.update("Subscription", "s1", nil)
		f.delete("Subscription", "s3")
		var got []store.Resource
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, []store.Write{newWrite("Subscription", "s0", 1, f.tick(), nil)}); err != nil {
				return err
			}
			var err error
			got, err = tx.Subscriptions(ctx)
			return err
		})
		var versions []string
		for _, r := range got {
			versions = append(versions, fmt.Sprintf("%s/%d", r.ID, r.VersionID))
			if want := body("Subscription", r.ID, r.VersionID, r.LastUpdated); string(r.Body) != string(want) {
				t.Errorf("Subscription/%s body %s, want %s", r.ID, r.Body, want)
			}
		}
		if diff := cmp.Diff([]string{"s0/1", "s1/2", "s2/1"}, versions); diff != "" {
			t.Errorf("Subscriptions (-want +got):\n%s", diff)
		}
	}},
	{"outbox entries are listed in id order by state and subscription, a page at a time", func(t *testing.T, st store.Store) {
		e1 := outboxEntry("n1", "s1", "t1", epoch)
		e2 := outboxEntry("n2", "s2", "t1", epoch)
		e3 := outboxEntry("n3", "s1", "t2", epoch)
		e3.State, e3.Attempts, e3.LastError = store.OutboxDead, 4, "HTTP 500"
		addOutbox(t, st, e3, e1)
		addOutbox(t, st, e2)
		got, err := st.ListOutbox(context.Background(), store.OutboxQuery{Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.OutboxEntry{e1, e2, e3}, got); diff != "" {
			t.Errorf("ListOutbox of everything (-want +got):\n%s", diff)
		}
		for _, c := range []struct {
			q    store.OutboxQuery
			want []string
		}{
			{store.OutboxQuery{State: store.OutboxPending, Count: 10}, []string{"n1", "n2"}},
			{store.OutboxQuery{State: store.OutboxDead, Count: 10}, []string{"n3"}},
			{store.OutboxQuery{Subscription: "s1", Count: 10}, []string{"n1", "n3"}},
			{store.OutboxQuery{Subscription: "s1", State: store.OutboxPending, Count: 10}, []string{"n1"}},
			{store.OutboxQuery{Count: 2}, []string{"n1", "n2"}},
			{store.OutboxQuery{After: "n2", Count: 2}, []string{"n3"}},
			{store.OutboxQuery{State: store.OutboxDelivered, Count: 10}, []string{}},
		} {
			if diff := cmp.Diff(c.want, listOutbox(t, st, c.q)); diff != "" {
				t.Errorf("ListOutbox(%+v) (-want +got):\n%s", c.q, diff)
			}
		}
	}},
	{"outbox entries of a transaction that fails are not kept, and an id is never written twice", func(t *testing.T, st store.Store) {
		boom := errors.New("boom")
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.AddOutbox(ctx, []store.OutboxEntry{outboxEntry("n1", "s1", "t1", epoch)}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		if got := listOutbox(t, st, store.OutboxQuery{Count: 10}); len(got) != 0 {
			t.Errorf("after a rollback the outbox holds %v", got)
		}
		addOutbox(t, st, outboxEntry("n1", "s1", "t1", epoch))
		err = st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			return tx.AddOutbox(ctx, []store.OutboxEntry{outboxEntry("n1", "s2", "t2", epoch)})
		})
		if fhir.KindOf(err) != fhir.Conflict {
			t.Errorf("adding n1 again = %v, want a Conflict", err)
		}
		err = st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			return tx.AddOutbox(ctx, []store.OutboxEntry{{ID: "n2", Subscription: "s1", State: store.OutboxPending}})
		})
		if err == nil {
			t.Error("an entry without a resource was accepted")
		}
	}},
	{"a claim leases the due pending entries soonest first, and no other claim takes them while the lease lasts", func(t *testing.T, st store.Store) {
		now := epoch.Add(time.Hour)
		late := outboxEntry("n1", "s1", "t1", now.Add(-time.Second))
		early := outboxEntry("n2", "s1", "t2", now.Add(-time.Minute))
		notYet := outboxEntry("n3", "s1", "t3", now.Add(time.Second))
		dead := outboxEntry("n4", "s1", "t4", now.Add(-time.Hour))
		dead.State = store.OutboxDead
		third := outboxEntry("n5", "s1", "t5", now)
		addOutbox(t, st, late, early, notYet, dead, third)

		got := claim(t, st, "gw-a", now, time.Minute, 2)
		if diff := cmp.Diff([]string{"n2", "n1"}, outboxIDs(got)); diff != "" {
			t.Fatalf("first claim (-want +got):\n%s", diff)
		}
		for _, e := range got {
			if e.LeaseHolder != "gw-a" || !e.LeaseUntil.Equal(now.Add(time.Minute)) {
				t.Errorf("claimed %s has lease %q until %v, want gw-a until %v", e.ID, e.LeaseHolder, e.LeaseUntil, now.Add(time.Minute))
			}
		}
		if got := claim(t, st, "gw-b", now, time.Minute, 10); !cmp.Equal(outboxIDs(got), []string{"n5"}) {
			t.Errorf("second claim = %v, want only n5", outboxIDs(got))
		}
		if got := claim(t, st, "gw-b", now.Add(30*time.Second), time.Minute, 10); !cmp.Equal(outboxIDs(got), []string{"n3"}) {
			t.Errorf("claim 30s later = %v, want only n3, due by then", outboxIDs(got))
		}
		// The leases of gw-a and of gw-b's first claim end; n3's lasts
		// 30s more.
		got = claim(t, st, "gw-c", now.Add(time.Minute), time.Minute, 10)
		if diff := cmp.Diff([]string{"n2", "n1", "n5"}, outboxIDs(got)); diff != "" {
			t.Errorf("claim after the first leases ended (-want +got):\n%s", diff)
		}
		if _, err := st.ClaimOutbox(context.Background(), "", now, now.Add(time.Minute), 1); err == nil {
			t.Error("a claim without a holder was accepted")
		}
	}},
	{"concurrent claims from several holders never take one entry twice", func(t *testing.T, st store.Store) {
		const n = 300
		entries := make([]store.OutboxEntry, n)
		for i := range entries {
			entries[i] = outboxEntry(fmt.Sprintf("n%03d", i), "s1", fmt.Sprintf("t%d", i), epoch)
		}
		addOutbox(t, st, entries...)
		var mu sync.Mutex
		claimedBy := map[string]string{}
		var problems []error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range 8 {
			holder := fmt.Sprintf("gw-%d", w)
			wg.Go(func() {
				<-start
				for {
					got, err := st.ClaimOutbox(context.Background(), holder, epoch, epoch.Add(time.Hour), 3)
					mu.Lock()
					if err != nil {
						problems = append(problems, err)
					}
					for _, e := range got {
						if other, dup := claimedBy[e.ID]; dup {
							problems = append(problems, fmt.Errorf("%s claimed by %s and %s", e.ID, other, holder))
						}
						claimedBy[e.ID] = holder
					}
					mu.Unlock()
					if err != nil || len(got) == 0 {
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if len(problems) > 0 {
			t.Errorf("%d problems, the first: %v", len(problems), problems[0])
		}
		if len(claimedBy) != n {
			t.Errorf("%d of %d entries were claimed", len(claimedBy), n)
		}
	}},
	{"a recorded attempt counts once, releases the lease, and is refused to a holder that lost it", func(t *testing.T, st store.Store) {
		now := epoch.Add(time.Hour)
		addOutbox(t, st, outboxEntry("n1", "s1", "t1", now))
		claim(t, st, "gw-a", now, time.Minute, 1)
		// gw-a's lease runs out mid-attempt and gw-b claims the entry.
		now = now.Add(2 * time.Minute)
		claim(t, st, "gw-b", now, time.Minute, 1)
		if record(t, st, store.OutboxAttempt{ID: "n1", Holder: "gw-a", State: store.OutboxDelivered, At: now}) {
			t.Error("gw-a recorded an attempt on an entry gw-b holds")
		}
		retry := now.Add(10 * time.Second)
		if !record(t, st, store.OutboxAttempt{ID: "n1", Holder: "gw-b", State: store.OutboxPending, At: now, NextAttempt: retry, Error: "HTTP 503"}) {
			t.Fatal("gw-b's attempt was not recorded")
		}
		got, err := st.ListOutbox(context.Background(), store.OutboxQuery{Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		want := outboxEntry("n1", "s1", "t1", retry)
		want.Attempts, want.LastError, want.LeaseHolder = 1, "HTTP 503", "gw-b"
		if diff := cmp.Diff([]store.OutboxEntry{want}, got); diff != "" {
			t.Errorf("after a failed attempt (-want +got):\n%s", diff)
		}
		if got := claim(t, st, "gw-c", retry.Add(-time.Millisecond), time.Minute, 1); len(got) != 0 {
			t.Error("an entry was claimed before its next attempt")
		}
		claim(t, st, "gw-c", retry, time.Minute, 1)
		done := retry.Add(time.Second)
		if !record(t, st, store.OutboxAttempt{ID: "n1", Holder: "gw-c", State: store.OutboxDelivered, At: done, NextAttempt: retry}) {
			t.Fatal("gw-c's delivery was not recorded")
		}
		got, _ = st.ListOutbox(context.Background(), store.OutboxQuery{Count: 1})
		if len(got) != 1 || got[0].State != store.OutboxDelivered || got[0].Attempts != 2 || !got[0].Delivered.Equal(done) {
			t.Errorf("after delivery: %+v; want delivered at %v after 2 attempts", got, done)
		}
		if record(t, st, store.OutboxAttempt{ID: "n1", Holder: "gw-c", State: store.OutboxDelivered, At: done}) {
			t.Error("an attempt on a delivered entry was recorded")
		}
		if got := claim(t, st, "gw-d", done.Add(time.Hour), time.Minute, 1); len(got) != 0 {
			t.Error("a delivered entry was claimed")
		}
	}},
	{"dead entries are redriven by id, by subscription or all, from the first attempt", func(t *testing.T, st store.Store) {
		dead := func(id, sub string) store.OutboxEntry {
			e := outboxEntry(id, sub, "t-"+id, epoch)
			e.State, e.Attempts, e.LastError, e.LeaseHolder = store.OutboxDead, 5, "connection refused", "gw-a"
			return e
		}
		addOutbox(t, st, dead("n1", "s1"), dead("n2", "s1"), dead("n3", "s2"), dead("n4", "s3"), outboxEntry("n5", "s1", "t5", epoch))
		now := epoch.Add(time.Hour)
		redrive := func(sel store.OutboxSelection) []string {
			t.Helper()
			var got []store.OutboxEntry
			transact(t, st, func(ctx context.Context, tx store.Tx) error {
				var err error
				got, err = tx.Redrive(ctx, sel, now)
				return err
			})
			for _, e := range got {
				if e.State != store.OutboxPending || e.Attempts != 0 || !e.NextAttempt.Equal(now) || e.LastError != "connection refused" {
					t.Errorf("redriven %+v; want pending from the first attempt at %v, its last error kept", e, now)
				}
			}
			return outboxIDs(got)
		}
		if got := redrive(store.OutboxSelection{IDs: []string{"n3", "n5", "nope"}}); !cmp.Equal(got, []string{"n3"}) {
			t.Errorf("redrive n3, n5 (pending) and nope = %v, want [n3]", got)
		}
		if got := redrive(store.OutboxSelection{Subscription: "s1"}); !cmp.Equal(got, []string{"n1", "n2"}) {
			t.Errorf("redrive s1 = %v, want [n1 n2]", got)
		}
		if got := redrive(store.OutboxSelection{}); len(got) != 0 {
			t.Errorf("an empty selection redrove %v", got)
		}
		if got := redrive(store.OutboxSelection{All: true}); !cmp.Equal(got, []string{"n4"}) {
			t.Errorf("redrive all = %v, want [n4]", got)
		}
		if got := claim(t, st, "gw-b", now, time.Minute, 10); len(got) != 5 {
			t.Errorf("after redriving, %d entries are due; want 5", len(got))
		}
	}},
	{"pending and dead entries are counted, and delivered ones pruned oldest first", func(t *testing.T, st store.Store) {
		counts, err := st.CountOutbox(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[store.OutboxState]int{store.OutboxPending: 0, store.OutboxDead: 0}, counts); diff != "" {
			t.Errorf("counts of an empty outbox (-want +got):\n%s", diff)
		}
		var entries []store.OutboxEntry
		for i := range 5 {
			e := outboxEntry(fmt.Sprintf("n%d", i), "s1", "t1", epoch)
			e.State, e.Delivered = store.OutboxDelivered, epoch.Add(time.Duration(i)*time.Minute)
			entries = append(entries, e)
		}
		d := outboxEntry("d1", "s1", "t1", epoch)
		d.State = store.OutboxDead
		entries = append(entries, d, outboxEntry("p1", "s1", "t1", epoch), outboxEntry("p2", "s1", "t1", epoch))
		addOutbox(t, st, entries...)
		counts, err = st.CountOutbox(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[store.OutboxState]int{store.OutboxPending: 2, store.OutboxDead: 1}, counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		// Delivered before epoch+3m: n0, n1, n2; two at a time.
		n, err := st.PruneOutbox(context.Background(), epoch.Add(3*time.Minute), 2)
		if err != nil || n != 2 {
			t.Fatalf("PruneOutbox = %d, %v; want 2", n, err)
		}
		if got := listOutbox(t, st, store.OutboxQuery{State: store.OutboxDelivered, Count: 10}); !cmp.Equal(got, []string{"n2", "n3", "n4"}) {
			t.Errorf("after pruning two, delivered = %v, want [n2 n3 n4]", got)
		}
		n, err = st.PruneOutbox(context.Background(), epoch.Add(3*time.Minute), 10)
		if err != nil || n != 1 {
			t.Fatalf("second PruneOutbox = %d, %v; want 1", n, err)
		}
		if got := listOutbox(t, st, store.OutboxQuery{Count: 10}); !cmp.Equal(got, []string{"d1", "n3", "n4", "p1", "p2"}) {
			t.Errorf("after pruning, the outbox holds %v", got)
		}
	}},
}
