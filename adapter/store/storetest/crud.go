package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

var crudRules = []rule{
	{"a created resource reads back as version 1 with what was written", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		at := f.tick()
		w := newWrite("Patient", "p1", 1, at, index(token("identifier", "https://fhir.nhs.uk/Id/nhs-number", "9000000009")))
		f.put(w)
		got, err := st.Read(context.Background(), "Patient", "p1")
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := store.Resource{Type: "Patient", ID: "p1", VersionID: 1, LastUpdated: at, Method: "POST", Body: w.Body}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(store.Resource{}, "Seq", "Key")); diff != "" {
			t.Errorf("Read (-want +got):\n%s", diff)
		}
		if got.Seq <= 0 || got.Key <= 0 {
			t.Errorf("Read: Seq %d and Key %d, want both > 0", got.Seq, got.Key)
		}
		if got.LastUpdated.Location() != time.UTC {
			t.Errorf("LastUpdated is in %v, want UTC", got.LastUpdated.Location())
		}
	}},
	{"reading a resource that never existed is not found", func(t *testing.T, st store.Store) {
		_, err := st.Read(context.Background(), "Patient", "nobody")
		if !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("Read: err = %v, want fhir.NotFound", err)
		}
		_, err = st.VRead(context.Background(), "Patient", "nobody", 1)
		if !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("VRead: err = %v, want fhir.NotFound", err)
		}
	}},
	{"each update adds the next version and read returns the newest", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		v1 := f.create("Patient", "p1", nil)
		v2 := f.update("Patient", "p1", nil)
		v3 := f.update("Patient", "p1", nil)
		if got := []int64{v1.VersionID, v2.VersionID, v3.VersionID}; !cmp.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("versions = %v, want [1 2 3]", got)
		}
		if v3.Method != "PUT" || v1.Method != "POST" {
			t.Errorf("methods = %q, %q, want POST then PUT", v1.Method, v3.Method)
		}
		if v1.Key != v3.Key {
			t.Errorf("Key changed from %d to %d across versions", v1.Key, v3.Key)
		}
		for v, want := range map[int64]store.Resource{1: v1, 2: v2, 3: v3} {
			got, err := st.VRead(context.Background(), "Patient", "p1", v)
			if err != nil {
				t.Fatalf("VRead(%d): %v", v, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("VRead(%d) (-want +got):\n%s", v, diff)
			}
		}
		if _, err := st.VRead(context.Background(), "Patient", "p1", 4); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("VRead(4): err = %v, want fhir.NotFound", err)
		}
	}},
	{"a deleted resource reads as gone with its tombstone, and its versions stay readable", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		v1 := f.create("Patient", "p1", index(token("active", "", "true")))
		f.delete("Patient", "p1")
		got, err := st.Read(context.Background(), "Patient", "p1")
		if !errors.Is(err, fhir.ErrGone) {
			t.Fatalf("Read: err = %v, want fhir.Gone", err)
		}
		if !got.Deleted || got.VersionID != 2 || got.Body != nil || got.Method != "DELETE" || got.Key != v1.Key {
			t.Errorf("Read returned %+v, want the version 2 tombstone (Deleted, no Body, DELETE, key %d)", got, v1.Key)
		}
		tomb, err := st.VRead(context.Background(), "Patient", "p1", 2)
		if err != nil || !tomb.Deleted {
			t.Errorf("VRead(2) = %+v, %v; want the tombstone and no error", tomb, err)
		}
		old, err := st.VRead(context.Background(), "Patient", "p1", 1)
		if err != nil || string(old.Body) != string(v1.Body) {
			t.Errorf("VRead(1) = %+v, %v; want version 1", old, err)
		}
		h, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", ID: "p1", Count: 10})
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		if len(h.Versions) != 2 || !h.Versions[0].Deleted || h.Versions[1].Deleted {
			t.Errorf("History = %+v, want the tombstone then version 1", h.Versions)
		}
		if got := f.search(query("Patient")); len(got) != 0 {
			t.Errorf("Search after delete = %v, want nothing", got)
		}
		if got := f.search(query("Patient", tokenClause("active", 0, code("true")))); len(got) != 0 {
			t.Errorf("Search by the deleted resource's token = %v, want nothing", got)
		}
	}},
	{"a resource created again after a delete is found again", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("active", "", "true")))
		f.delete("Patient", "p1")
		r := f.update("Patient", "p1", index(token("active", "", "false")))
		if r.VersionID != 3 || r.Deleted {
			t.Errorf("recreated resource = version %d, deleted %v; want 3, false", r.VersionID, r.Deleted)
		}
		if got := f.search(query("Patient", tokenClause("active", 0, code("false")))); !cmp.Equal(got, []string{"p1"}) {
			t.Errorf("Search = %v, want [p1]", got)
		}
	}},
	{"current reports existing resources, deleted ones included, and leaves out absent ids", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		a := f.create("Patient", "a", nil)
		f.create("Patient", "b", nil)
		f.delete("Patient", "b")
		f.create("Observation", "c", nil) // another type
		var got map[string]store.Current
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			var err error
			got, err = tx.Current(ctx, "Patient", []string{"a", "b", "c", "zz"})
			return err
		})
		if err != nil {
			t.Fatalf("Transact: %v", err)
		}
		want := map[string]store.Current{
			"a": {VersionID: 1, LastUpdated: a.LastUpdated},
			"b": {VersionID: 2, LastUpdated: epoch.Add(3 * time.Second), Deleted: true},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Current (-want +got):\n%s", diff)
		}
	}},
	{"bodies come back byte for byte from every read", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		raw := []byte("{\"resourceType\":\"Patient\",  \"id\":\"p1\",\n\t\"name\":[{\"text\":\"Zo\u00eb \u2603 \\u0000 \\\"q\\\"\"}],\"x\":1.50e+3,\"z\":[] ,\"a\":{}}")
		w := newWrite("Patient", "p1", 1, f.tick(), index(token("active", "", "true")))
		w.Body = raw
		f.put(w)
		check := func(where string, got []byte) {
			t.Helper()
			if string(got) != string(raw) {
				t.Errorf("%s: body = %q, want %q", where, got, raw)
			}
		}
		r, err := st.Read(context.Background(), "Patient", "p1")
		if err != nil {
			t.Fatal(err)
		}
		check("Read", r.Body)
		r, err = st.VRead(context.Background(), "Patient", "p1", 1)
		if err != nil {
			t.Fatal(err)
		}
		check("VRead", r.Body)
		h, err := st.History(context.Background(), store.HistoryQuery{Type: "Patient", Count: 1})
		if err != nil || len(h.Versions) != 1 {
			t.Fatalf("History = %+v, %v", h, err)
		}
		check("History", h.Versions[0].Body)
		res, err := st.Search(context.Background(), query("Patient"), nil)
		if err != nil || len(res.Resources) != 1 {
			t.Fatalf("Search = %+v, %v", res, err)
		}
		check("Search", res.Resources[0].Body)
		err = st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			r, err := tx.Read(ctx, "Patient", "p1")
			if err != nil {
				return err
			}
			check("Tx.Read", r.Body)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"keys follow creation order and seqs follow every version", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		a := f.create("Patient", "a", nil)
		b := f.create("Observation", "b", nil)
		a2 := f.update("Patient", "a", nil)
		c := f.create("Patient", "c", nil)
		if !(a.Key < b.Key && b.Key < c.Key) || a2.Key != a.Key {
			t.Errorf("keys a=%d b=%d a'=%d c=%d: want a < b < c and a' = a", a.Key, b.Key, a2.Key, c.Key)
		}
		if !(a.Seq < b.Seq && b.Seq < a2.Seq && a2.Seq < c.Seq) {
			t.Errorf("seqs a=%d b=%d a'=%d c=%d: want increasing", a.Seq, b.Seq, a2.Seq, c.Seq)
		}
	}},
	{"ping answers", func(t *testing.T, st store.Store) {
		if err := st.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}},
}
