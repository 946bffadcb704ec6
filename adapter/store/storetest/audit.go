package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
)

// auditRecord returns record n: about person p (every third about no one),
// by one of two clients, a read or a search.
func auditRecord(n int) store.AuditRecord {
	r := store.AuditRecord{
		ID:       fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Recorded: epoch.Add(time.Duration(n) * time.Minute),
		Client:   []string{"gp-emis", "trust-rio"}[n%2],
		ODS:      []string{"A81001", "RXX"}[n%2],
		Action:   "R",
		Type:     "Task",
		Resource: fmt.Sprintf("t%d", n),
		Person:   []string{"9990000018", "9990000026", ""}[n%3],
		Outcome:  "0",
		Body:     fmt.Appendf(nil, `{"resourceType":"AuditEvent","id":"%d"}`, n),
	}
	if n%5 == 0 {
		r.Action, r.Resource, r.Outcome = "E", "", "4"
	}
	return r
}

// walkAudit pages through q, Count at a time, and returns every record.
func walkAudit(t *testing.T, st store.Store, q store.AuditQuery) []store.AuditRecord {
	t.Helper()
	var all []store.AuditRecord
	for range 1000 {
		page, err := st.Audit(context.Background(), q)
		if err != nil {
			t.Fatalf("Audit(%+v): %v", q, err)
		}
		if len(page.Records) > q.Count {
			t.Fatalf("a page of %d records, more than Count %d", len(page.Records), q.Count)
		}
		all = append(all, page.Records...)
		if page.Next == 0 {
			return all
		}
		if len(page.Records) == 0 {
			t.Fatal("an empty page has a next page")
		}
		q.After = page.Next
	}
	t.Fatal("audit paging does not end")
	return nil
}

var auditRules = []rule{
	{"audit records added with a change that rolls back are not kept; with one that commits they are", func(t *testing.T, st store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		failed := errors.New("the change fails")
		err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, []store.Write{newWrite("Task", "t1", 1, f.tick(), nil)}); err != nil {
				return err
			}
			if err := tx.AddAudit(ctx, []store.AuditRecord{auditRecord(1)}); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("Transact: %v, want the fn's error", err)
		}
		if got := walkAudit(t, st, store.AuditQuery{Count: 10}); len(got) != 0 {
			t.Errorf("after a rollback, %d audit records, want none", len(got))
		}
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, []store.Write{newWrite("Task", "t1", 1, f.tick(), nil)}); err != nil {
				return err
			}
			return tx.AddAudit(ctx, []store.AuditRecord{auditRecord(1), auditRecord(2)})
		})
		got := walkAudit(t, st, store.AuditQuery{Count: 10})
		if diff := cmp.Diff([]store.AuditRecord{auditRecord(1), auditRecord(2)}, got); diff != "" {
			t.Errorf("after a commit (-want +got):\n%s", diff)
		}
		if err := st.AddAudit(ctx, []store.AuditRecord{auditRecord(2)}); err == nil {
			t.Error("a record with an id already stored was added")
		}
	}},
	{"audit queries filter on every field and page oldest first", func(t *testing.T, st store.Store) {
		ctx := context.Background()
		var all []store.AuditRecord
		for n := range 300 {
			all = append(all, auditRecord(n))
		}
		// Two batches, the second older by the clock: order is the order
		// records were added.
		if err := st.AddAudit(ctx, all[150:]); err != nil {
			t.Fatal(err)
		}
		if err := st.AddAudit(ctx, all[:150]); err != nil {
			t.Fatal(err)
		}
		added := append(append([]store.AuditRecord{}, all[150:]...), all[:150]...)
		where := func(keep func(r store.AuditRecord) bool) []store.AuditRecord {
			var out []store.AuditRecord
			for _, r := range added {
				if keep(r) {
					out = append(out, r)
				}
			}
			return out
		}
		from, to := epoch.Add(100*time.Minute), epoch.Add(200*time.Minute)
		for _, tc := range []struct {
			name string
			q    store.AuditQuery
			want []store.AuditRecord
		}{
			{"all", store.AuditQuery{}, added},
			{"client", store.AuditQuery{Client: "trust-rio"}, where(func(r store.AuditRecord) bool { return r.Client == "trust-rio" })},
			{"ods", store.AuditQuery{ODS: "A81001"}, where(func(r store.AuditRecord) bool { return r.ODS == "A81001" })},
			{"person", store.AuditQuery{Person: "9990000026"}, where(func(r store.AuditRecord) bool { return r.Person == "9990000026" })},
			{"type", store.AuditQuery{Type: "Patient"}, nil},
			{"resource", store.AuditQuery{Resource: "t7"}, where(func(r store.AuditRecord) bool { return r.Resource == "t7" })},
			{"action", store.AuditQuery{Action: "E"}, where(func(r store.AuditRecord) bool { return r.Action == "E" })},
			{"outcome", store.AuditQuery{Outcome: "4"}, where(func(r store.AuditRecord) bool { return r.Outcome == "4" })},
			{"from", store.AuditQuery{From: from}, where(func(r store.AuditRecord) bool { return !r.Recorded.Before(from) })},
			{"to", store.AuditQuery{To: to}, where(func(r store.AuditRecord) bool { return r.Recorded.Before(to) })},
			{"person, client and period", store.AuditQuery{Person: "9990000018", Client: "gp-emis", From: from, To: to},
				where(func(r store.AuditRecord) bool {
					return r.Person == "9990000018" && r.Client == "gp-emis" && !r.Recorded.Before(from) && r.Recorded.Before(to)
				})},
		} {
			for _, count := range []int{1, 7, 1000} {
				q := tc.q
				q.Count = count
				got := walkAudit(t, st, q)
				if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
					t.Errorf("%s, pages of %d (-want +got):\n%s", tc.name, count, diff)
				}
			}
		}
		if _, err := st.Audit(ctx, store.AuditQuery{}); err == nil {
			t.Error("an audit query without a count was answered")
		}
	}},
}
