package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The Task change feed: Tx.PutTaskFeed, Store.TaskFeed, and
// Tx.IndexEntries, which the Gateway reads a replaced version's owners
// with.

// Owner keys of the feed rules.
const (
	ownerA = ods + "|A81001"
	ownerB = ods + "|B82002"
	ownerC = "Organization/c1"
)

// feedVersion is a Task version and the feed rows it gets.
type feedVersion struct {
	id      string
	version int64
	status  string
	deleted bool
	owners  []string
}

// putFeed commits the versions and their feed rows in one transaction.
func putFeed(t *testing.T, st store.Store, vs ...feedVersion) {
	t.Helper()
	transact(t, st, func(ctx context.Context, tx store.Tx) error { return writeFeed(ctx, tx, vs...) })
}

// writeFeed puts the versions and their feed rows in tx.
func writeFeed(ctx context.Context, tx store.Tx, vs ...feedVersion) error {
	var writes []store.Write
	var rows []store.TaskFeedRow
	for _, v := range vs {
		at := epoch.Add(time.Duration(v.version) * time.Minute)
		w := newWrite("Task", v.id, v.version, at, index(token("status", "", v.status)))
		if v.deleted {
			w = tombstone("Task", v.id, v.version, at)
		}
		writes = append(writes, w)
		for _, o := range v.owners {
			rows = append(rows, store.TaskFeedRow{Owner: o, ID: v.id, VersionID: v.version, Status: v.status})
		}
	}
	if err := tx.Put(ctx, writes); err != nil {
		return err
	}
	return tx.PutTaskFeed(ctx, rows)
}

// feedEntry is a feed entry as the rules compare it.
type feedEntry struct {
	ID      string
	Version int64
	Status  string
	Deleted bool
}

func feedEntries(es []store.TaskFeedEntry) []feedEntry {
	out := make([]feedEntry, 0, len(es))
	for _, e := range es {
		out = append(out, feedEntry{e.Version.ID, e.Version.VersionID, e.Status, e.Version.Deleted})
	}
	return out
}

// settle waits until the feed shows everything committed so far. On
// PostgreSQL a feed only shows transactions older than every transaction
// still running on the server, and tests running in parallel run some, so
// settle commits a marker row and polls until it shows: every transaction
// committed before the marker's began has a lower id, and shows too.
func settle(t *testing.T, st store.Store) {
	t.Helper()
	const marker = "urn:storetest:settle"
	id := fmt.Sprintf("settle-%d", time.Now().UnixNano())
	putFeed(t, st, feedVersion{id: id, version: 1, status: "draft", owners: []string{marker}})
	var after store.ChangeCursor
	for deadline := time.Now().Add(30 * time.Second); ; {
		page, err := st.TaskFeed(context.Background(), store.TaskFeedQuery{Owner: marker, After: after, Count: 100})
		if err != nil {
			t.Fatalf("TaskFeed(%s): %v", marker, err)
		}
		for _, e := range page.Entries {
			if e.Version.ID == id {
				return
			}
		}
		after = page.Next
		if time.Now().After(deadline) {
			t.Fatalf("the feed did not show a committed row within 30s")
		}
		time.Sleep(5 * time.Millisecond) // a poll interval; the deadline bounds the wait
	}
}

// readFeed reads one page once the feed shows everything committed so far,
// failing on an error or on entries out of order.
func readFeed(t *testing.T, st store.Store, q store.TaskFeedQuery) store.TaskFeedPage {
	t.Helper()
	settle(t, st)
	page, err := st.TaskFeed(context.Background(), q)
	if err != nil {
		t.Fatalf("TaskFeed(%+v): %v", q, err)
	}
	if err := checkFeedOrder(q.After, page); err != nil {
		t.Fatal(err)
	}
	return page
}

// checkFeedOrder checks that a page's entries come after its cursor in
// strictly increasing order, and that Next is not before the last.
func checkFeedOrder(after store.ChangeCursor, page store.TaskFeedPage) error {
	prev := after
	for _, e := range page.Entries {
		if !prev.Before(e.At) {
			return fmt.Errorf("entry %s/%d at %+v does not come after %+v", e.Version.ID, e.Version.VersionID, e.At, prev)
		}
		prev = e.At
	}
	if page.Next.Before(prev) {
		return fmt.Errorf("next cursor %+v is before the last entry %+v", page.Next, prev)
	}
	return nil
}

var taskFeedRules = []rule{
	{"a Task's versions appear in its owners' feeds in commit order, a delete included", func(t *testing.T, st store.Store) {
		putFeed(t, st, feedVersion{id: "t1", version: 1, status: "requested", owners: []string{ownerA}})
		putFeed(t, st, feedVersion{id: "t2", version: 1, status: "requested", owners: []string{ownerB}},
			feedVersion{id: "t1", version: 2, status: "accepted", owners: []string{ownerA}})
		putFeed(t, st, feedVersion{id: "t1", version: 3, status: "accepted", deleted: true, owners: []string{ownerA}})
		page := readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, Count: 10})
		want := []feedEntry{{"t1", 1, "requested", false}, {"t1", 2, "accepted", false}, {"t1", 3, "accepted", true}}
		if diff := cmp.Diff(want, feedEntries(page.Entries)); diff != "" {
			t.Errorf("feed of %s (-want +got):\n%s", ownerA, diff)
		}
		if page.More {
			t.Errorf("More on the only page")
		}
		if len(page.Entries) != len(want) {
			return
		}
		if e := page.Entries[2].Version; e.Body != nil || e.Method != "DELETE" {
			t.Errorf("the delete's version has body %q and method %q, want none and DELETE", e.Body, e.Method)
		}
		if e := page.Entries[1].Version; !strings.Contains(string(e.Body), `"versionId":"2"`) || e.Key == 0 {
			t.Errorf("version 2 comes with body %s and key %d, want its body and the resource key", e.Body, e.Key)
		}
		if got := feedEntries(readFeed(t, st, store.TaskFeedQuery{Owner: ownerC, Count: 10}).Entries); len(got) != 0 {
			t.Errorf("feed of an owner with no Tasks = %v, want none", got)
		}
	}},
	{"a reader following Next pages through every row once, and an empty page keeps its place", func(t *testing.T, st store.Store) {
		for i := range 5 {
			putFeed(t, st, feedVersion{id: fmt.Sprintf("p%d", i), version: 1, status: "requested", owners: []string{ownerA, ownerB}})
		}
		var got []string
		var after store.ChangeCursor
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("still paging after 5 pages: %v", got)
			}
			page := readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, After: after, Count: 2})
			for _, e := range page.Entries {
				got = append(got, e.Version.ID)
			}
			if page.More != (len(got) < 5) {
				t.Errorf("after %d entries More = %v", len(got), page.More)
			}
			after = page.Next
			if !page.More {
				break
			}
		}
		if want := []string{"p0", "p1", "p2", "p3", "p4"}; !slices.Equal(got, want) {
			t.Errorf("paged through %v, want %v", got, want)
		}
		empty := readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, After: after, Count: 2})
		if len(empty.Entries) != 0 || empty.More || empty.Next.Before(after) {
			t.Errorf("a page after the end = %+v, want no entries and a Next not before %+v", empty, after)
		}
		putFeed(t, st, feedVersion{id: "p0", version: 2, status: "completed", owners: []string{ownerA}})
		if got := feedEntries(readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, After: empty.Next, Count: 2}).Entries); !cmp.Equal(got, []feedEntry{{"p0", 2, "completed", false}}) {
			t.Errorf("after a new version, the page from the empty page's Next = %v, want p0 version 2", got)
		}
	}},
	{"a status filter keeps the statuses asked for, and its Next passes the rows it skipped", func(t *testing.T, st store.Store) {
		putFeed(t, st, feedVersion{id: "s1", version: 1, status: "requested", owners: []string{ownerA}})
		putFeed(t, st, feedVersion{id: "s2", version: 1, status: "accepted", owners: []string{ownerA}})
		putFeed(t, st, feedVersion{id: "s3", version: 1, status: "cancelled", owners: []string{ownerA}})
		putFeed(t, st, feedVersion{id: "s1", version: 2, status: "completed", owners: []string{ownerA}})
		q := store.TaskFeedQuery{Owner: ownerA, Statuses: []string{"requested", "cancelled"}, Count: 10}
		page := readFeed(t, st, q)
		if diff := cmp.Diff([]feedEntry{{"s1", 1, "requested", false}, {"s3", 1, "cancelled", false}}, feedEntries(page.Entries)); diff != "" {
			t.Errorf("filtered feed (-want +got):\n%s", diff)
		}
		rest := readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, After: page.Next, Count: 10})
		if len(rest.Entries) != 0 {
			t.Errorf("unfiltered rows after the filtered page's Next = %v, want none: Next passes what it skipped", feedEntries(rest.Entries))
		}
	}},
	{"feed rows of a transaction that fails are not kept", func(t *testing.T, st store.Store) {
		boom := errors.New("boom")
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			if err := writeFeed(ctx, tx, feedVersion{id: "r1", version: 1, status: "requested", owners: []string{ownerA}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		if got := readFeed(t, st, store.TaskFeedQuery{Owner: ownerA, Count: 10}); len(got.Entries) != 0 {
			t.Errorf("feed after a rollback = %v, want nothing", feedEntries(got.Entries))
		}
	}},
	{"a feed row for a version the transaction did not store is refused", func(t *testing.T, st store.Store) {
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			return tx.PutTaskFeed(ctx, []store.TaskFeedRow{{Owner: ownerA, ID: "nowhere", VersionID: 1, Status: "requested"}})
		})
		if err == nil {
			t.Fatal("PutTaskFeed of a version that is not there succeeded")
		}
		if _, ok := errors.AsType[*fhir.Error](err); !ok {
			t.Errorf("error %v (%T) is not an *fhir.Error", err, err)
		}
	}},
	{"an owner key longer than an index entry is kept and found", func(t *testing.T, st store.Store) {
		long := ods + "|" + strings.Repeat("x", 5000)
		putFeed(t, st, feedVersion{id: "l1", version: 1, status: "requested", owners: []string{long}})
		if got := readFeed(t, st, store.TaskFeedQuery{Owner: long, Count: 10}); len(got.Entries) != 1 {
			t.Errorf("feed of the long owner has %d entries, want 1", len(got.Entries))
		}
	}},
	{"IndexEntries reads back the current version's tokens and references under the params asked for", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Task", "i1", index(token("status", "http://hl7.org/fhir/task-status", "requested"), token("intent", "", "order"),
			fhir.ReferenceEntry{Param: "owner", TargetType: "Organization", TargetID: "o1", IdentifierSystem: ods, IdentifierValue: "A81001"},
			literal("for", "Patient", "p1")))
		f.update("Task", "i1", index(token("status", "http://hl7.org/fhir/task-status", "accepted"),
			fhir.ReferenceEntry{Param: "owner", URL: "https://example.org/Organization/9"}))
		f.create("Task", "gone", index(token("status", "", "requested")))
		f.delete("Task", "gone")
		f.create("Patient", "i1", index(token("status", "", "requested"))) // another type
		var got map[string]*fhir.Index
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			var err error
			got, err = tx.IndexEntries(ctx, "Task", []string{"i1", "gone", "never"}, []string{"owner", "status"})
			return err
		})
		want := map[string]*fhir.Index{"i1": {
			Tokens:     []fhir.TokenEntry{{Param: "status", System: "http://hl7.org/fhir/task-status", Code: "accepted"}},
			References: []fhir.ReferenceEntry{{Param: "owner", URL: "https://example.org/Organization/9"}},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("IndexEntries after an update (-want +got):\n%s", diff)
		}
		f.create("Task", "i2", index(fhir.ReferenceEntry{Param: "owner", TargetType: "Organization", TargetID: "o1", IdentifierSystem: ods, IdentifierValue: "A81001"}))
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			var err error
			got, err = tx.IndexEntries(ctx, "Task", []string{"i2"}, []string{"owner"})
			return err
		})
		refs := got["i2"].References
		slices.SortFunc(refs, func(a, b fhir.ReferenceEntry) int { return strings.Compare(a.TargetID, b.TargetID) })
		want2 := []fhir.ReferenceEntry{
			{Param: "owner", IdentifierSystem: ods, IdentifierValue: "A81001"},
			{Param: "owner", TargetType: "Organization", TargetID: "o1"},
		}
		if diff := cmp.Diff(want2, refs); diff != "" {
			t.Errorf("a reference with two parts comes back as one entry per part (-want +got):\n%s", diff)
		}
	}},
	{"a poller following the cursor sees every change of concurrent writers exactly once, whatever order they commit in", checkFeedUnderConcurrentWriters},
}

// checkFeedUnderConcurrentWriters runs writers that commit Task versions
// for three owners at once, some holding their transaction open a moment
// after writing so that transactions that began later commit first (which
// only PostgreSQL allows; SQLite runs them one after another), some rolling
// back, while one poller follows each owner's cursor. Every committed row
// must reach the poller exactly once, and no rolled-back row at all.
//
// A cursor that is not commit-ordered fails it: on PostgreSQL, a poll
// ordered by seq alone, or by (txid, seq) without the snapshot horizon,
// returns a later transaction's row while an earlier one is still open, and
// the poller's cursor then passes the earlier one's rows before they commit
// (postgres_test.go shows it step by step).
func checkFeedUnderConcurrentWriters(t *testing.T, st store.Store) {
	const (
		writers      = 6
		txPerWriter  = 30
		tasksPerWrtr = 4
		rolledBack   = "rolled-back" // the status of every version that rolls back
	)
	owners := []string{ownerA, ownerB, ownerC}
	type rowKey struct {
		owner, id string
		version   int64
	}
	var mu sync.Mutex
	committed := make(map[rowKey]bool)
	errRollback := errors.New("rolled back on purpose")

	warm(t, st)
	var done atomic.Bool
	var wg sync.WaitGroup
	writeErrs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := range txPerWriter {
				rollback := rng.IntN(6) == 0
				hold := time.Duration(rng.IntN(4)) * time.Millisecond
				ids := make([]string, 1+rng.IntN(3))
				for i := range ids {
					ids[i] = fmt.Sprintf("w%d-t%d", w, (n+i)%tasksPerWrtr)
				}
				var rows []rowKey
				err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
					rows = rows[:0]
					cur, err := tx.Current(ctx, "Task", ids)
					if err != nil {
						return err
					}
					var vs []feedVersion
					for _, id := range ids {
						v := feedVersion{id: id, version: cur[id].VersionID + 1, status: "requested"}
						if rollback {
							v.status = rolledBack
						}
						for _, o := range owners {
							if rng.IntN(2) == 0 || len(v.owners) == 0 && o == ownerC {
								v.owners = append(v.owners, o)
								rows = append(rows, rowKey{o, id, v.version})
							}
						}
						vs = append(vs, v)
					}
					if err := writeFeed(ctx, tx, vs...); err != nil {
						return err
					}
					time.Sleep(hold) // hold the transaction open: later ones may commit first
					if rollback {
						return errRollback
					}
					return nil
				})
				switch {
				case rollback && errors.Is(err, errRollback):
				case err != nil:
					writeErrs[w] = fmt.Errorf("writer %d, transaction %d: %w", w, n, err)
					return
				default:
					mu.Lock()
					for _, r := range rows {
						committed[r] = true
					}
					mu.Unlock()
				}
			}
		})
	}
	go func() { wg.Wait(); done.Store(true) }()

	// The poller: round after round over the owners, each from its cursor,
	// until the writers are done and every committed row has been seen.
	seen := make(map[rowKey]int)
	cursors := make(map[string]store.ChangeCursor)
	deadline := time.Now().Add(30 * time.Second)
	polls := 0
	for {
		finished := done.Load() // before the round: a round after the end sees everything
		progress := false
		for _, o := range owners {
			page, err := st.TaskFeed(context.Background(), store.TaskFeedQuery{Owner: o, After: cursors[o], Count: 7})
			polls++
			if err != nil {
				t.Fatalf("TaskFeed(%s): %v", o, err)
			}
			if err := checkFeedOrder(cursors[o], page); err != nil {
				t.Fatalf("owner %s: %v", o, err)
			}
			for _, e := range page.Entries {
				if e.Status == rolledBack {
					t.Errorf("owner %s saw %s/%d of a transaction that rolled back", o, e.Version.ID, e.Version.VersionID)
				}
				seen[rowKey{o, e.Version.ID, e.Version.VersionID}]++
				progress = true
			}
			cursors[o] = page.Next
		}
		if finished && !progress {
			mu.Lock()
			all := len(seen) >= len(committed)
			mu.Unlock()
			if all || time.Now().After(deadline) {
				break // caught up, or (on a busy PostgreSQL, whose horizon other tests' transactions hold) out of time
			}
		}
		if !progress {
			time.Sleep(time.Millisecond) // pace an idle poller; correctness never depends on it
		}
	}
	for _, err := range writeErrs {
		if err != nil {
			t.Error(err)
		}
	}
	var missing, twice []rowKey
	for r := range committed {
		switch seen[r] {
		case 0:
			missing = append(missing, r)
		case 1:
		default:
			twice = append(twice, r)
		}
	}
	var extra []rowKey
	for r := range seen {
		if !committed[r] {
			extra = append(extra, r)
		}
	}
	if len(missing) > 0 || len(twice) > 0 || len(extra) > 0 {
		t.Errorf("of %d committed rows: %d never seen %v, %d seen more than once %v, %d seen but never committed %v",
			len(committed), len(missing), missing, len(twice), twice, len(extra), extra)
	}
	if len(committed) < writers*txPerWriter {
		t.Errorf("only %d rows committed; the writers did too little to test anything", len(committed))
	}
	t.Logf("%d rows committed by %d writers, seen in %d polls", len(committed), writers, polls)
}

// CheckFeedBackfill checks the migration that creates the Task change feed:
// Tasks stored before it enter the feed with their current version, under
// the keys the Gateway would give them. st is a new, migrated store;
// remigrate must undo the feed's migration and apply it again. The Tasks
// are put without feed rows, as before the feed.
func CheckFeedBackfill(t *testing.T, st store.Store, remigrate func(t *testing.T)) {
	f := newFixture(t, st)
	status := func(code string) fhir.TokenEntry { return token("status", "http://hl7.org/fhir/task-status", code) }
	f.create("Organization", "o1", index(token("identifier", ods, "B82002")))
	f.create("Task", "t1", index(status("requested"), logical("owner", ods, "A81001")))
	f.update("Task", "t1", index(status("accepted"), logical("owner", ods, "A81001")))
	f.create("Task", "t2", index(status("requested"), literal("owner", "Organization", "o1")))
	f.create("Task", "t3", index(status("requested"), logical("owner", ods, "A81001")))
	f.delete("Task", "t3")
	f.create("Task", "t4", index(status("draft")))

	remigrate(t)
	for owner, want := range map[string][]feedEntry{
		ownerA:            {{"t1", 2, "accepted", false}},
		"Organization/o1": {{"t2", 1, "requested", false}},
		ownerB:            {{"t2", 1, "requested", false}},
	} {
		page := readFeed(t, st, store.TaskFeedQuery{Owner: owner, Count: 10})
		if diff := cmp.Diff(want, feedEntries(page.Entries)); diff != "" {
			t.Errorf("feed of %s after the migration (-want +got):\n%s", owner, diff)
		}
	}
}
