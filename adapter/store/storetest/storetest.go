// Package storetest is the contract suite of store.Store: Run checks, on a
// real database, every promise adapter/store documents, and each engine's
// tests call it (sqlite_test.go, postgres_test.go). It also holds the
// benchmarks both engines run (BenchmarkPutBundle, BenchmarkSearchTasks), so
// that their numbers compare.
//
// Subtest names state the rule they check. Only the contract is tested here;
// what an engine does beyond it (pragmas, pools, migrations) is tested in the
// engine's package.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// Run runs the contract suite. open must return a new, empty, migrated store
// for each call, and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		rules []rule
	}{
		{"read and write", crudRules},
		{"transactions", transactRules},
		{"search", searchRules},
		{"paging and order", pagingRules},
		{"history", historyRules},
		{"concurrency", concurrencyRules},
		{"shared-care projection", projectionRules},
		{"health check tasks", checkTaskRules},
		{"task change feed", taskFeedRules},
		{"notification outbox", outboxRules},
		{"organisation-bound access", accessRules},
		{"once-only keys", nonceRules},
		{"audit trail", auditRules},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, r := range g.rules {
				t.Run(r.name, func(t *testing.T) {
					t.Parallel()
					r.check(t, open(t))
				})
			}
		})
	}
}

// rule is one subtest: a sentence, and the check that fails when the store
// breaks it.
type rule struct {
	name  string
	check func(t *testing.T, st store.Store)
}

// epoch is the time of the first write of every test.
var epoch = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// fixture writes resources through the store, one transaction each, with a
// clock that moves one second per write unless set.
type fixture struct {
	t   *testing.T
	st  store.Store
	now time.Time
}

func newFixture(t *testing.T, st store.Store) *fixture {
	return &fixture{t: t, st: st, now: epoch}
}

// tick returns the time of the next write.
func (f *fixture) tick() time.Time {
	f.now = f.now.Add(time.Second)
	return f.now
}

// create stores version 1 of typ/id.
func (f *fixture) create(typ, id string, ix *fhir.Index) store.Resource {
	f.t.Helper()
	w := newWrite(typ, id, 1, f.tick(), ix)
	f.put(w)
	return f.read(typ, id)
}

// update stores the next version of typ/id, creating it when absent.
func (f *fixture) update(typ, id string, ix *fhir.Index) store.Resource {
	f.t.Helper()
	at := f.tick()
	err := f.st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.Current(ctx, typ, []string{id})
		if err != nil {
			return err
		}
		w := newWrite(typ, id, cur[id].VersionID+1, at, ix)
		if w.VersionID > 1 {
			w.Method = "PUT"
		}
		return tx.Put(ctx, []store.Write{w})
	})
	if err != nil {
		f.t.Fatalf("update %s/%s: %v", typ, id, err)
	}
	return f.read(typ, id)
}

// delete stores a tombstone for typ/id.
func (f *fixture) delete(typ, id string) {
	f.t.Helper()
	at := f.tick()
	err := f.st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.Current(ctx, typ, []string{id})
		if err != nil {
			return err
		}
		return tx.Put(ctx, []store.Write{tombstone(typ, id, cur[id].VersionID+1, at)})
	})
	if err != nil {
		f.t.Fatalf("delete %s/%s: %v", typ, id, err)
	}
}

// put commits writes in one transaction.
func (f *fixture) put(writes ...store.Write) {
	f.t.Helper()
	err := f.st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return tx.Put(ctx, writes)
	})
	if err != nil {
		f.t.Fatalf("put: %v", err)
	}
}

// read returns the current version of typ/id, which must exist.
func (f *fixture) read(typ, id string) store.Resource {
	f.t.Helper()
	r, err := f.st.Read(context.Background(), typ, id)
	if err != nil {
		f.t.Fatalf("Read(%s/%s): %v", typ, id, err)
	}
	return r
}

// search runs q and returns the ids found, in order, failing on an error.
func (f *fixture) search(q *fhir.Query) []string {
	f.t.Helper()
	res, err := f.st.Search(context.Background(), q, nil)
	if err != nil {
		f.t.Fatalf("Search(%s): %v", describe(q), err)
	}
	return ids(res.Resources)
}

// newWrite returns version v of typ/id, created (POST) at at, with a body
// that names the version.
func newWrite(typ, id string, v int64, at time.Time, ix *fhir.Index) store.Write {
	if ix == nil {
		ix = &fhir.Index{}
	}
	return store.Write{
		Type: typ, ID: id, VersionID: v, LastUpdated: at, Method: "POST",
		Body:  body(typ, id, v, at),
		Index: ix,
	}
}

// tombstone returns a delete of typ/id as version v.
func tombstone(typ, id string, v int64, at time.Time) store.Write {
	return store.Write{Type: typ, ID: id, VersionID: v, LastUpdated: at, Method: "DELETE", Deleted: true}
}

func body(typ, id string, v int64, at time.Time) []byte {
	return fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"meta":{"versionId":"%d","lastUpdated":%q}}`,
		typ, id, v, fhir.FormatInstant(at))
}

// ids returns the ids of rs, in order.
func ids(rs []store.Resource) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// Index builders.

func index(entries ...any) *fhir.Index {
	ix := &fhir.Index{}
	for _, e := range entries {
		switch e := e.(type) {
		case fhir.TokenEntry:
			ix.Tokens = append(ix.Tokens, e)
		case fhir.ReferenceEntry:
			ix.References = append(ix.References, e)
		case fhir.DateEntry:
			ix.Dates = append(ix.Dates, e)
		case fhir.StringEntry:
			ix.Strings = append(ix.Strings, e)
		default:
			panic(fmt.Sprintf("storetest: %T is not an index entry", e))
		}
	}
	return ix
}

func token(param, system, code string) fhir.TokenEntry {
	return fhir.TokenEntry{Param: param, System: system, Code: code}
}

func literal(param, typ, id string) fhir.ReferenceEntry {
	return fhir.ReferenceEntry{Param: param, TargetType: typ, TargetID: id}
}

func logical(param, system, value string) fhir.ReferenceEntry {
	return fhir.ReferenceEntry{Param: param, IdentifierSystem: system, IdentifierValue: value}
}

func date(param string, low, high time.Time) fhir.DateEntry {
	return fhir.DateEntry{Param: param, Low: low.UnixMicro(), High: high.UnixMicro()}
}

func str(param, value string) fhir.StringEntry {
	return fhir.StringEntry{Param: param, Value: value}
}

// Query builders.

func query(typ string, clauses ...fhir.Clause) *fhir.Query {
	return &fhir.Query{Type: typ, Clauses: clauses, Count: 100}
}

func tokenClause(param string, m fhir.Modifier, values ...fhir.ClauseValue) fhir.Clause {
	return fhir.Clause{Param: param, Type: fhir.TokenParam, Modifier: m, Values: values}
}

// code is a token value without a system ("code").
func code(c string) fhir.ClauseValue { return fhir.ClauseValue{Code: c} }

// sysCode is a token value with a system ("system|code"; "|code" when
// system is empty; "system|" when c is empty).
func sysCode(system, c string) fhir.ClauseValue {
	return fhir.ClauseValue{System: system, HasSystem: true, Code: c}
}

func missing(param string, typ fhir.ParamType, m bool) fhir.Clause {
	return fhir.Clause{Param: param, Type: typ, Modifier: fhir.ModifierMissing, Values: []fhir.ClauseValue{{Missing: m}}}
}

// describe names a query in failure messages.
func describe(q *fhir.Query) string {
	return fmt.Sprintf("%s %+v sort=%d count=%d", q.Type, q.Clauses, q.Sort, q.Count)
}

// attempts counts the calls of a Transact fn.
type attempts struct{ n int }

func (a *attempts) inc() int { a.n++; return a.n }

// isRace reports whether err is the store's version race, as an *fhir.Error.
func isRace(err error) bool {
	_, ok := errors.AsType[*fhir.Error](err)
	return ok && errors.Is(err, store.ErrVersionRace)
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
