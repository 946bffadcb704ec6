package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// The shared-care projection: Tx.PutProjections and the reads of its rows,
// Store.ProjectionsOfPerson (what records are assembled from), the unmapped report,
// Tx.ClearProjections, and Store.ScanCurrent, which a rebuild pages with.

// NHS numbers of the people in these rules.
const (
	nhsA = "9434765919"
	nhsB = "9000000009"
)

// projRow returns version 1 of typ/id's projection row, about person, by
// profile "gp", with facts that name it.
func projRow(typ, id, person string, unmapped ...store.Unmapped) store.Projection {
	return store.Projection{
		Type: typ, ID: id, VersionID: 1, Person: person, Profile: "gp",
		Facts:    fmt.Appendf(nil, `{"source": %q,  "person":%q}`, typ+"/"+id, person),
		Unmapped: unmapped,
	}
}

// noRow returns the row that removes typ/id's projection row.
func noRow(typ, id string) store.Projection {
	return store.Projection{Type: typ, ID: id, VersionID: 2}
}

// unmapped returns an unmapped item of kind what.
func unmapped(what, system, code string) store.Unmapped {
	return store.Unmapped{What: what, System: system, Code: code, Expression: "Observation." + what, Reason: "no rule maps " + code}
}

// transact runs fn in a transaction that must commit.
func transact(t *testing.T, st store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := st.Transact(context.Background(), fn); err != nil {
		t.Fatalf("Transact: %v", err)
	}
}

// putRows commits rows in one PutProjections.
func putRows(t *testing.T, st store.Store, rows ...store.Projection) {
	t.Helper()
	transact(t, st, func(ctx context.Context, tx store.Tx) error { return tx.PutProjections(ctx, rows) })
}

// projections returns the committed rows of the resources named ("Type/id"),
// by name; absent ones are not in the map.
func projections(t *testing.T, st store.Store, names ...string) map[string]store.Projection {
	t.Helper()
	out := map[string]store.Projection{}
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		clear(out) // fn may run again
		for _, name := range names {
			typ, id, _ := strings.Cut(name, "/")
			p, ok, err := tx.Projection(ctx, typ, id)
			if err != nil {
				return err
			}
			if ok {
				if p.Type != typ || p.ID != id {
					t.Errorf("Projection(%s/%s) returned the row of %s/%s", typ, id, p.Type, p.ID)
				}
				out[name] = p
			} else if p.Type != "" || p.Facts != nil {
				t.Errorf("Projection(%s/%s) = %+v with false, want the zero row", typ, id, p)
			}
		}
		return nil
	})
	return out
}

// ofPerson returns the committed rows about a person, as a transaction
// reads them; outside a transaction they must read the same.
func ofPerson(t *testing.T, st store.Store, nhsNumber string) []store.Projection {
	t.Helper()
	var out []store.Projection
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.ProjectionsOfPerson(ctx, nhsNumber)
		return err
	})
	committed, err := st.ProjectionsOfPerson(context.Background(), nhsNumber)
	if err != nil {
		t.Fatalf("Store.ProjectionsOfPerson(%s): %v", nhsNumber, err)
	}
	if diff := cmp.Diff(out, committed); diff != "" {
		t.Errorf("ProjectionsOfPerson(%s) (-in a transaction +outside):\n%s", nhsNumber, diff)
	}
	return out
}

// referencing returns the committed rows that reference Patient/id.
func referencing(t *testing.T, st store.Store, id, person string) []store.Projection {
	t.Helper()
	var out []store.Projection
	transact(t, st, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.ProjectionsReferencing(ctx, id, person)
		return err
	})
	return out
}

// names returns the "Type/id" of rows, in order.
func names(rows []store.Projection) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Type+"/"+r.ID)
	}
	return out
}

// byName returns rows by "Type/id".
func byName(rows ...store.Projection) map[string]store.Projection {
	out := map[string]store.Projection{}
	for _, r := range rows {
		out[r.Type+"/"+r.ID] = r
	}
	return out
}

// rowOpts compare projection rows: no unmapped items is no unmapped items,
// whatever their slice, and the contract leaves their order open.
var rowOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmpopts.SortSlices(func(a, b store.Unmapped) bool {
		return fmt.Sprintf("%q", []string{a.What, a.System, a.Code, a.Expression, a.Reason}) <
			fmt.Sprintf("%q", []string{b.What, b.System, b.Code, b.Expression, b.Reason})
	}),
}

// report returns the unmapped report.
func report(t *testing.T, st store.Store) []store.UnmappedCount {
	t.Helper()
	r, err := st.UnmappedReport(context.Background())
	if err != nil {
		t.Fatalf("UnmappedReport: %v", err)
	}
	return r
}

var projectionRules = []rule{
	{"the rows of several people at once agree with one person at a time", func(t *testing.T, st store.Store) {
		putRows(t, st,
			projRow("Patient", "pA", nhsA), projRow("Observation", "o1", nhsA, unmapped("unit", "", "%")),
			projRow("Patient", "pB", nhsB), projRow("Observation", "o2", ""))
		var both []store.Projection
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			var err error
			both, err = tx.ProjectionsOfPeople(ctx, []string{nhsB, nhsA, "", nhsA})
			return err
		})
		// nhsB (9000000009) sorts before nhsA (9434765919).
		want := append(ofPerson(t, st, nhsB), ofPerson(t, st, nhsA)...)
		if diff := cmp.Diff(want, both); diff != "" {
			t.Errorf("Tx.ProjectionsOfPeople (-one at a time +together):\n%s", diff)
		}
		committed, err := st.ProjectionsOfPeople(context.Background(), []string{nhsA, nhsB, ""})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, committed); diff != "" {
			t.Errorf("Store.ProjectionsOfPeople (-one at a time +together):\n%s", diff)
		}
	}},
	{"projection rows are put, replaced and removed with their unmapped items", func(t *testing.T, st store.Store) {
		o1 := store.Projection{
			Type: "Observation", ID: "o1", VersionID: 1, Person: nhsA, PatientRef: "p1", Profile: "gp",
			Facts:    []byte("{\"code\": \"bmi\",\n  \"value\":[31.2 , \"Zo\u00eb\"]}"),
			Unmapped: []store.Unmapped{unmapped("unit", "", "kg/m3"), unmapped("code", loinc, "x")},
		}
		org := store.Projection{Type: "Organization", ID: "org1", VersionID: 3, Org: "RX1", Profile: "trust", Facts: []byte(`{"ods":"RX1"}`)}
		putRows(t, st, o1, org)
		got := projections(t, st, "Observation/o1", "Organization/org1", "Observation/absent", "Patient/o1")
		if diff := cmp.Diff(byName(o1, org), got, rowOpts); diff != "" {
			t.Fatalf("after the first put (-want +got):\n%s", diff)
		}
		if string(got["Observation/o1"].Facts) != string(o1.Facts) {
			t.Errorf("Facts = %q, want them byte for byte: %q", got["Observation/o1"].Facts, o1.Facts)
		}

		// A new row replaces the old one, unmapped items included.
		o1v2 := store.Projection{
			Type: "Observation", ID: "o1", VersionID: 2, Person: nhsB, Profile: "gp2",
			Facts: []byte(`{"code":"bp"}`), Unmapped: []store.Unmapped{unmapped("identifier", mrn, "")},
		}
		putRows(t, st, o1v2)
		got = projections(t, st, "Observation/o1", "Organization/org1")
		if diff := cmp.Diff(byName(o1v2, org), got, rowOpts); diff != "" {
			t.Errorf("after the replacement (-want +got):\n%s", diff)
		}
		o1v3 := o1v2
		o1v3.VersionID, o1v3.Unmapped = 3, nil
		putRows(t, st, o1v3)
		if diff := cmp.Diff(byName(o1v3), projections(t, st, "Observation/o1"), rowOpts); diff != "" {
			t.Errorf("after a replacement without unmapped items (-want +got):\n%s", diff)
		}
		if r := report(t, st); len(r) != 0 {
			t.Errorf("UnmappedReport = %+v, want nothing: the replaced rows' items went with them", r)
		}

		// When one call names a resource twice, the last row counts.
		first, second := projRow("Observation", "o2", nhsA, unmapped("code", loinc, "first")), projRow("Observation", "o2", nhsB)
		second.VersionID = 2
		putRows(t, st, first, second)
		if diff := cmp.Diff(byName(second), projections(t, st, "Observation/o2"), rowOpts); diff != "" {
			t.Errorf("after one put of two rows for o2 (-want +got):\n%s", diff)
		}

		// A row without Facts removes the resource's row, and naming a
		// resource without one is harmless.
		putRows(t, st, noRow("Observation", "o1"), noRow("Observation", "never"))
		if diff := cmp.Diff(byName(org, second), projections(t, st, "Observation/o1", "Organization/org1", "Observation/o2", "Observation/never"), rowOpts); diff != "" {
			t.Errorf("after removing o1 (-want +got):\n%s", diff)
		}
		if got := names(ofPerson(t, st, nhsB)); !cmp.Equal(got, []string{"Observation/o2"}) {
			t.Errorf("ProjectionsOfPerson(%s) after removing o1 = %v, want [Observation/o2]", nhsB, got)
		}
		if r := report(t, st); len(r) != 0 {
			t.Errorf("UnmappedReport = %+v, want nothing", r)
		}
	}},
	{"rows of a person and rows referencing a patient come in type and id order", func(t *testing.T, st store.Store) {
		ref := func(r store.Projection, patient string) store.Projection { r.PatientRef = patient; return r }
		org := store.Projection{Type: "Organization", ID: "org1", VersionID: 1, Org: "RX1", Profile: "trust", Facts: []byte(`{}`)}
		other := ref(projRow("Observation", "other", nhsB, unmapped("code", loinc, "x")), "p2")
		// Byte order: "B" < "a" < "a-1".
		putRows(t, st,
			ref(projRow("Observation", "a-1", nhsA), "p1"),
			projRow("Patient", "p1", nhsA),
			ref(projRow("Observation", "B", nhsA), "p1"),
			other,
			ref(projRow("Condition", "z", nhsA), "p1"),
			ref(projRow("Observation", "unknown", ""), "p1"), // p1's NHS number not known yet when mapped
			org,
			projRow("Observation", "nobody", ""),
			ref(projRow("Observation", "a", nhsA), "p1"),
			ref(projRow("Observation", "prefix", nhsA[:9]), "p"),
			ref(projRow("Observation", "elsewhere", nhsB), "p1"), // about B by an identifier in the reference
		)
		for _, tc := range []struct {
			what string
			got  []store.Projection
			want []string
		}{
			{"ProjectionsOfPerson(A)", ofPerson(t, st, nhsA), []string{"Condition/z", "Observation/B", "Observation/a", "Observation/a-1", "Patient/p1"}},
			{"ProjectionsOfPerson(B)", ofPerson(t, st, nhsB), []string{"Observation/elsewhere", "Observation/other"}},
			{"ProjectionsOfPerson of a person without rows", ofPerson(t, st, "9999999999"), nil},
			{`ProjectionsOfPerson("")`, ofPerson(t, st, ""), nil},
			{"ProjectionsReferencing(p1, A)", referencing(t, st, "p1", nhsA), []string{"Condition/z", "Observation/B", "Observation/a", "Observation/a-1", "Observation/unknown"}},
			{"ProjectionsReferencing(p1, B)", referencing(t, st, "p1", nhsB), []string{"Observation/elsewhere", "Observation/unknown"}},
			{`ProjectionsReferencing(p1, "")`, referencing(t, st, "p1", ""), []string{"Observation/unknown"}},
			{"ProjectionsReferencing(p2, B)", referencing(t, st, "p2", nhsB), []string{"Observation/other"}},
			{"ProjectionsReferencing(p1x, A)", referencing(t, st, "p1x", nhsA), nil},
			{`ProjectionsReferencing("", A)`, referencing(t, st, "", nhsA), nil},
		} {
			if got := names(tc.got); !cmp.Equal(got, tc.want, cmpopts.EquateEmpty()) {
				t.Errorf("%s = %v, want %v", tc.what, got, tc.want)
			}
		}
		if diff := cmp.Diff(byName(other), projections(t, st, "Observation/other"), rowOpts); diff != "" {
			t.Errorf("Observation/other (-want +got):\n%s", diff)
		}

		// A row that moves to another person and patient moves in the lists.
		putRows(t, st, ref(projRow("Observation", "B", nhsB), "p2"))
		if got, want := names(ofPerson(t, st, nhsA)), []string{"Condition/z", "Observation/a", "Observation/a-1", "Patient/p1"}; !cmp.Equal(got, want) {
			t.Errorf("ProjectionsOfPerson(A) after the move = %v, want %v", got, want)
		}
		if got, want := names(ofPerson(t, st, nhsB)), []string{"Observation/B", "Observation/elsewhere", "Observation/other"}; !cmp.Equal(got, want) {
			t.Errorf("ProjectionsOfPerson(B) after the move = %v, want %v", got, want)
		}
		if got, want := names(referencing(t, st, "p2", nhsB)), []string{"Observation/B", "Observation/other"}; !cmp.Equal(got, want) {
			t.Errorf("ProjectionsReferencing(p2, B) after the move = %v, want %v", got, want)
		}
	}},
	{"one put of many rows stores them all, and replaces them all", func(t *testing.T, st store.Store) {
		const n = 150 // more than the largest multi-row INSERT of an engine
		var rows []store.Projection
		for i := range n {
			person := nhsA
			if i%2 == 1 {
				person = nhsB
			}
			rows = append(rows, projRow("Observation", fmt.Sprintf("o%03d", i), person,
				unmapped("code", loinc, "shared"), unmapped("unit", "", fmt.Sprintf("u%d", i%3))))
		}
		putRows(t, st, rows...)
		a := ofPerson(t, st, nhsA)
		if len(a) != n/2 {
			t.Fatalf("ProjectionsOfPerson(A) has %d rows, want %d", len(a), n/2)
		}
		if diff := cmp.Diff(rows[0], a[0], rowOpts); diff != "" {
			t.Errorf("first row (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(rows[n-2], a[n/2-1], rowOpts); diff != "" {
			t.Errorf("last row (-want +got):\n%s", diff)
		}
		want := []store.UnmappedCount{
			{Profile: "gp", What: "code", System: loinc, Code: "shared", Count: n},
			{Profile: "gp", What: "unit", Code: "u0", Count: n / 3},
			{Profile: "gp", What: "unit", Code: "u1", Count: n / 3},
			{Profile: "gp", What: "unit", Code: "u2", Count: n / 3},
		}
		if diff := cmp.Diff(want, report(t, st)); diff != "" {
			t.Errorf("UnmappedReport (-want +got):\n%s", diff)
		}
		for i := range rows {
			rows[i].VersionID, rows[i].Unmapped = 2, nil
		}
		putRows(t, st, rows...)
		if r := report(t, st); len(r) != 0 {
			t.Errorf("UnmappedReport after replacing every row without items = %+v, want nothing", r)
		}
		for i := range rows {
			rows[i] = noRow(rows[i].Type, rows[i].ID)
		}
		putRows(t, st, rows...)
		if got := len(ofPerson(t, st, nhsA)) + len(ofPerson(t, st, nhsB)); got != 0 {
			t.Errorf("%d rows left after removing every row", got)
		}
	}},
	{"the unmapped report counts resources per profile, kind, system and code, most first", func(t *testing.T, st store.Store) {
		x, y, z := unmapped("code", loinc, "X"), unmapped("code", loinc, "Y"), unmapped("code", snomed, "Z")
		mg, id := unmapped("unit", "", "mg"), unmapped("identifier", mrn, "")
		t1 := projRow("Observation", "t1", nhsA, x)
		t1.Profile = "trust"
		putRows(t, st,
			projRow("Observation", "o1", nhsA, x, x, mg), // X twice in one resource counts once
			projRow("Observation", "o2", nhsA, x),
			projRow("Condition", "o1", nhsA, x), // same id, another type: another resource
			projRow("Observation", "o3", nhsB, y),
			t1,
			projRow("Condition", "c1", nhsB, z, id),
			projRow("Observation", "clean", nhsB),
		)
		want := []store.UnmappedCount{
			{Profile: "gp", What: "code", System: loinc, Code: "X", Count: 3},
			{Profile: "gp", What: "code", System: loinc, Code: "Y", Count: 1},
			{Profile: "gp", What: "code", System: snomed, Code: "Z", Count: 1},
			{Profile: "gp", What: "identifier", System: mrn, Code: "", Count: 1},
			{Profile: "gp", What: "unit", System: "", Code: "mg", Count: 1},
			{Profile: "trust", What: "code", System: loinc, Code: "X", Count: 1},
		}
		if diff := cmp.Diff(want, report(t, st)); diff != "" {
			t.Errorf("UnmappedReport (-want +got):\n%s", diff)
		}

		// Replacing a row replaces its items; removing it removes them.
		putRows(t, st, projRow("Observation", "o1", nhsA, mg), noRow("Observation", "o2"), noRow("Observation", "o3"))
		want = []store.UnmappedCount{
			{Profile: "gp", What: "code", System: loinc, Code: "X", Count: 1},
			{Profile: "gp", What: "code", System: snomed, Code: "Z", Count: 1},
			{Profile: "gp", What: "identifier", System: mrn, Code: "", Count: 1},
			{Profile: "gp", What: "unit", System: "", Code: "mg", Count: 1},
			{Profile: "trust", What: "code", System: loinc, Code: "X", Count: 1},
		}
		if diff := cmp.Diff(want, report(t, st)); diff != "" {
			t.Errorf("UnmappedReport after replacing o1 and removing o2 and o3 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(byName(projRow("Observation", "o1", nhsA, mg)), projections(t, st, "Observation/o1"), rowOpts); diff != "" {
			t.Errorf("o1 (-want +got):\n%s", diff)
		}
	}},
	{"a transaction's projection reads see its own writes, and nobody else sees them before commit", func(t *testing.T, st store.Store) {
		p1 := projRow("Patient", "p1", nhsA)
		o1 := projRow("Observation", "o1", nhsA, unmapped("code", loinc, "x"))
		o1.PatientRef = "p1"
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			if err := tx.PutProjections(ctx, []store.Projection{p1, o1}); err != nil {
				return err
			}
			got, ok, err := tx.Projection(ctx, "Observation", "o1")
			if err != nil {
				return err
			}
			if diff := cmp.Diff(o1, got, rowOpts); !ok || diff != "" {
				t.Errorf("Tx.Projection(o1): found %v (-want +got):\n%s", ok, diff)
			}
			mine, err := tx.ProjectionsOfPerson(ctx, nhsA)
			if err != nil {
				return err
			}
			if got := names(mine); !cmp.Equal(got, []string{"Observation/o1", "Patient/p1"}) {
				t.Errorf("Tx.ProjectionsOfPerson = %v, want [Observation/o1 Patient/p1]", got)
			}
			refs, err := tx.ProjectionsReferencing(ctx, "p1", nhsA)
			if err != nil {
				return err
			}
			if got := names(refs); !cmp.Equal(got, []string{"Observation/o1"}) {
				t.Errorf("Tx.ProjectionsReferencing = %v, want [Observation/o1]", got)
			}

			// Outside the transaction, nothing has happened yet.
			if got, err := st.ProjectionsOfPerson(ctx, nhsA); err != nil || len(got) != 0 {
				t.Errorf("Store.ProjectionsOfPerson before commit = %v, %v; want nothing", names(got), err)
			}
			if r, err := st.UnmappedReport(ctx); err != nil || len(r) != 0 {
				t.Errorf("Store.UnmappedReport before commit = %+v, %v; want nothing", r, err)
			}

			// A removal is seen at once too.
			if err := tx.PutProjections(ctx, []store.Projection{noRow("Patient", "p1")}); err != nil {
				return err
			}
			if _, ok, err := tx.Projection(ctx, "Patient", "p1"); err != nil || ok {
				t.Errorf("Tx.Projection(p1) after its removal: found %v, err %v; want not found", ok, err)
			}
			return nil
		})
		if got := names(ofPerson(t, st, nhsA)); !cmp.Equal(got, []string{"Observation/o1"}) {
			t.Errorf("ProjectionsOfPerson(A) after commit = %v, want [Observation/o1]", got)
		}
		if diff := cmp.Diff(byName(o1), projections(t, st, "Observation/o1", "Patient/p1"), rowOpts); diff != "" {
			t.Errorf("after commit (-want +got):\n%s", diff)
		}
		if r := report(t, st); len(r) != 1 || r[0].Code != "x" || r[0].Count != 1 {
			t.Errorf("UnmappedReport after commit = %+v, want x once", r)
		}
	}},
	{"a resource created in a transaction has its row put, replaced and removed in it", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		at := f.tick()
		o2 := projRow("Observation", "o2", nhsA, unmapped("code", loinc, "second"))
		transact(t, st, func(ctx context.Context, tx store.Tx) error {
			err := tx.Put(ctx, []store.Write{newWrite("Observation", "o1", 1, at, nil), newWrite("Observation", "o2", 1, at, nil)})
			if err != nil {
				return err
			}
			for _, rows := range [][]store.Projection{
				{projRow("Observation", "o1", nhsA, unmapped("code", loinc, "first")), projRow("Observation", "o2", nhsB)},
				{noRow("Observation", "o1"), o2},
			} {
				if err := tx.PutProjections(ctx, rows); err != nil {
					return err
				}
			}
			return nil
		})
		if diff := cmp.Diff(byName(o2), projections(t, st, "Observation/o1", "Observation/o2"), rowOpts); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		want := []store.UnmappedCount{{Profile: "gp", What: "code", System: loinc, Code: "second", Count: 1}}
		if diff := cmp.Diff(want, report(t, st)); diff != "" {
			t.Errorf("UnmappedReport (-want +got):\n%s", diff)
		}
		if got := names(ofPerson(t, st, nhsB)); len(got) != 0 {
			t.Errorf("ProjectionsOfPerson(B) = %v, want nothing", got)
		}
	}},
	{"an error from fn leaves no projection row or unmapped item behind", func(t *testing.T, st store.Store) {
		o1 := projRow("Observation", "o1", nhsA, unmapped("code", loinc, "x"))
		putRows(t, st, o1)
		boom := errors.New("boom")
		for _, tc := range []struct {
			name string
			fn   func(ctx context.Context, tx store.Tx) error
		}{
			{"replacing and adding rows", func(ctx context.Context, tx store.Tx) error {
				o1v2 := projRow("Observation", "o1", nhsB, unmapped("code", loinc, "y"))
				o1v2.VersionID = 2
				return tx.PutProjections(ctx, []store.Projection{o1v2, projRow("Observation", "o2", nhsB, unmapped("unit", "", "mg"))})
			}},
			{"removing rows", func(ctx context.Context, tx store.Tx) error {
				return tx.PutProjections(ctx, []store.Projection{noRow("Observation", "o1")})
			}},
			{"clearing the projection", func(ctx context.Context, tx store.Tx) error { return tx.ClearProjections(ctx) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var a attempts
				err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
					a.inc()
					if err := tc.fn(ctx, tx); err != nil {
						return err
					}
					return boom
				})
				if err != boom {
					t.Fatalf("Transact: err = %v, want fn's error itself", err)
				}
				if a.n != 1 {
					t.Errorf("fn ran %d times, want 1", a.n)
				}
				if diff := cmp.Diff(byName(o1), projections(t, st, "Observation/o1", "Observation/o2"), rowOpts); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
				if got := names(ofPerson(t, st, nhsB)); len(got) != 0 {
					t.Errorf("ProjectionsOfPerson(B) = %v, want nothing", got)
				}
				want := []store.UnmappedCount{{Profile: "gp", What: "code", System: loinc, Code: "x", Count: 1}}
				if diff := cmp.Diff(want, report(t, st)); diff != "" {
					t.Errorf("UnmappedReport (-want +got):\n%s", diff)
				}
				if got := names(ofPerson(t, st, nhsA)); !cmp.Equal(got, []string{"Observation/o1"}) {
					t.Errorf("ProjectionsOfPerson(A) = %v, want [Observation/o1]", got)
				}
			})
		}
	}},
	{"after a projection write fails the transaction only rolls back", func(t *testing.T, st store.Store) {
		var putErr, laterErr error
		err := st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.PutProjections(ctx, []store.Projection{projRow("Observation", "ok", nhsA)}); err != nil {
				return err
			}
			putErr = tx.PutProjections(ctx, []store.Projection{projRow("Observation", "", nhsA)}) // no id
			laterErr = tx.PutProjections(ctx, []store.Projection{projRow("Observation", "later", nhsA)})
			return nil // as if fn did not look
		})
		if _, ok := errors.AsType[*fhir.Error](putErr); !ok {
			t.Errorf("PutProjections of a row without an id: err = %v (%T), want an *fhir.Error", putErr, putErr)
		}
		if laterErr == nil {
			t.Error("a write after a failed PutProjections returned nil, want the failure")
		}
		if err == nil {
			t.Error("Transact committed after a failed PutProjections")
		}
		if got := projections(t, st, "Observation/ok", "Observation/later"); len(got) != 0 {
			t.Errorf("rows %v were committed, want none", got)
		}
		if got := names(ofPerson(t, st, nhsA)); len(got) != 0 {
			t.Errorf("ProjectionsOfPerson(A) = %v, want nothing", got)
		}
	}},
	{"clearing the projection removes every row and unmapped item, and no resource", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		r := f.create("Patient", "p1", nil)
		putRows(t, st, projRow("Patient", "p1", nhsA), projRow("Observation", "o1", nhsB, unmapped("code", loinc, "x")))
		transact(t, st, func(ctx context.Context, tx store.Tx) error { return tx.ClearProjections(ctx) })
		if got := projections(t, st, "Patient/p1", "Observation/o1"); len(got) != 0 {
			t.Errorf("rows %v left after ClearProjections", got)
		}
		if got := names(ofPerson(t, st, nhsA)); len(got) != 0 {
			t.Errorf("ProjectionsOfPerson(A) = %v after ClearProjections", got)
		}
		if rep := report(t, st); len(rep) != 0 {
			t.Errorf("UnmappedReport = %+v after ClearProjections", rep)
		}
		if got := names(ofPerson(t, st, nhsB)); len(got) != 0 {
			t.Errorf("ProjectionsOfPerson(B) = %v after ClearProjections", got)
		}
		if got := f.read("Patient", "p1"); got.VersionID != r.VersionID {
			t.Errorf("Patient/p1 at version %d after ClearProjections, want %d", got.VersionID, r.VersionID)
		}
		// The projection can be built again.
		putRows(t, st, projRow("Patient", "p1", nhsA))
		if got := names(ofPerson(t, st, nhsA)); !cmp.Equal(got, []string{"Patient/p1"}) {
			t.Errorf("ProjectionsOfPerson(A) after a new put = %v, want [Patient/p1]", got)
		}
	}},
	{"16 concurrent transactions replacing the same rows all commit, and one whole row remains of each", func(t *testing.T, st store.Store) {
		putRows(t, st, projRow("Observation", "o1", nhsA, unmapped("code", loinc, "old")), projRow("Observation", "o2", nhsA))
		warm(t, st)
		errs := race(func(i int) error {
			return st.Transact(context.Background(), func(ctx context.Context, tx store.Tx) error {
				rows := []store.Projection{
					projRow("Observation", "o1", nhsA, unmapped("code", loinc, fmt.Sprint(i)), unmapped("unit", "", fmt.Sprint(i))),
					projRow("Observation", "o2", nhsB, unmapped("code", snomed, fmt.Sprint(i))),
				}
				rows[0].VersionID, rows[1].VersionID = int64(i+2), int64(i+2)
				if i%2 == 1 {
					rows[0], rows[1] = rows[1], rows[0]
				}
				return tx.PutProjections(ctx, rows)
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		got := projections(t, st, "Observation/o1", "Observation/o2")
		for _, name := range []string{"Observation/o1", "Observation/o2"} {
			r, ok := got[name]
			if !ok {
				t.Errorf("%s has no row", name)
				continue
			}
			n := fmt.Sprint(r.VersionID - 2) // the writer that wrote it
			want := projRow("Observation", "o1", nhsA, unmapped("code", loinc, n), unmapped("unit", "", n))
			if r.ID == "o2" {
				want = projRow("Observation", "o2", nhsB, unmapped("code", snomed, n))
			}
			want.VersionID = r.VersionID
			if diff := cmp.Diff(want, r, rowOpts); diff != "" {
				t.Errorf("%s is not one writer's whole row (-want +got):\n%s", name, diff)
			}
		}
		if rep := report(t, st); len(rep) != 3 {
			t.Errorf("UnmappedReport = %+v, want 3 lines: the items of one writer per row", rep)
		}
		if ps := ofPerson(t, st, nhsA); len(ps) != 1 {
			t.Errorf("ProjectionsOfPerson(A) = %v, want [Observation/o1]", names(ps))
		}
	}},
	{"scan current pages through current resources in key order, skipping deleted ones", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		a := f.create("Patient", "a", nil)
		f.create("Observation", "b", nil)
		f.create("Patient", "c", nil)
		f.delete("Patient", "c")
		d := f.create("Condition", "d", nil)
		b := f.update("Observation", "b", nil) // the current version, with b's first key
		f.create("Patient", "e", nil)
		f.delete("Patient", "e")
		e := f.update("Patient", "e", nil) // created again: current
		g := f.create("Task", "g", nil)
		f.create("Task", "h", nil)
		f.delete("Task", "h") // the last key is deleted
		want := []store.Resource{a, b, d, e, g}

		for _, limit := range []int{1, 2, 5, 100} {
			var got []store.Resource
			var after int64
			for page := 0; ; page++ {
				rs, err := st.ScanCurrent(context.Background(), after, limit)
				if err != nil {
					t.Fatalf("ScanCurrent(%d, %d): %v", after, limit, err)
				}
				if len(rs) > limit {
					t.Fatalf("ScanCurrent(%d, %d) returned %d resources", after, limit, len(rs))
				}
				if len(rs) == 0 {
					break
				}
				if page > len(want) {
					t.Fatalf("ScanCurrent with limit %d still returns resources after %d pages: %v", limit, page, ids(got))
				}
				got = append(got, rs...)
				after = rs[len(rs)-1].Key
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ScanCurrent pages of %d (-want +got):\n%s", limit, diff)
			}
		}
		c, err := st.Read(context.Background(), "Patient", "c")
		if !errors.Is(err, fhir.ErrGone) {
			t.Fatalf("Read(c): %v, want fhir.Gone", err)
		}
		for _, tc := range []struct {
			name  string
			after int64
			limit int
			want  []string
		}{
			{"after the deleted c", c.Key, 2, []string{"d", "e"}},
			{"after d: keys greater than afterKey only", d.Key, 1, []string{"e"}},
			{"after the last key", g.Key, 10, nil},
			{"a limit of 0", 0, 0, nil},
		} {
			rs, err := st.ScanCurrent(context.Background(), tc.after, tc.limit)
			if err != nil {
				t.Fatalf("ScanCurrent %s: %v", tc.name, err)
			}
			if got := ids(rs); !cmp.Equal(got, tc.want, cmpopts.EquateEmpty()) {
				t.Errorf("ScanCurrent %s = %v, want %v", tc.name, got, tc.want)
			}
		}
	}},
}
