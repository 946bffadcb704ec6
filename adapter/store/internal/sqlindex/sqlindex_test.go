package sqlindex

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/fhir"
)

func TestClipCutsAtACharacterBoundary(t *testing.T) {
	s := strings.Repeat("a", MaxValueLen-1) + "é" // é is two bytes: it would straddle the limit
	if got, want := Clip(s), strings.Repeat("a", MaxValueLen-1); got != want {
		t.Errorf("Clip kept %d bytes, want %d", len(got), len(want))
	}
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
}

func TestFlattenSplitsReferencesAndRemovesDuplicates(t *testing.T) {
	ix := &fhir.Index{
		Tokens: []fhir.TokenEntry{
			{Param: "identifier", System: "s", Code: "1"},
			{Param: "identifier", System: "s", Code: "1"},
			{Param: "code", Code: "x"},
		},
		References: []fhir.ReferenceEntry{
			{Param: "subject", TargetType: "Patient", TargetID: "p1", IdentifierSystem: "nhs", IdentifierValue: "9"},
			{Param: "subject", URL: "https://x/Patient/1"},
			{Param: "performer"}, // a display only
		},
		Dates:   []fhir.DateEntry{{Param: "date", Low: 1, High: 2}, {Param: "date", Low: 1, High: 2}},
		Strings: []fhir.StringEntry{{Param: "name", Value: "b"}, {Param: "name", Value: "a"}},
	}
	want := Rows{
		Tokens: []TokenRow{{"code", "", "x"}, {"identifier", "s", "1"}},
		References: []ReferenceRow{
			{"performer", KindNone, "", ""},
			{"subject", KindIdentifier, "nhs", "9"},
			{"subject", KindLiteral, "Patient", "p1"},
			{"subject", KindURL, "", "https://x/Patient/1"},
		},
		Dates:   []DateRow{{"date", 1, 2}},
		Strings: []StringRow{{"name", "a"}, {"name", "b"}},
	}
	if diff := cmp.Diff(want, Flatten(ix)); diff != "" {
		t.Errorf("Flatten (-want +got):\n%s", diff)
	}
	if got := Flatten(nil); got.Len() != 0 {
		t.Errorf("Flatten(nil) has %d rows, want none", got.Len())
	}
}

// TestWhereNumbersPostgresParameters checks, on a query using every kind of
// clause, that the $n parameters run from 1 to the number of arguments.
func TestWhereNumbersPostgresParameters(t *testing.T) {
	q := &fhir.Query{Type: "Observation", Count: 10, Sort: fhir.SortLastUpdatedDescending,
		Page: &fhir.PageToken{LastUpdated: 5, Key: 7},
		Clauses: []fhir.Clause{
			{Param: "code", Type: fhir.TokenParam, Values: []fhir.ClauseValue{{Code: "1"}, {System: "s", HasSystem: true}}},
			{Param: "code", Type: fhir.TokenParam, Modifier: fhir.ModifierNot, Values: []fhir.ClauseValue{{Code: "2"}}},
			{Param: "subject", Type: fhir.ReferenceParam, Values: []fhir.ClauseValue{{TargetType: "Patient", TargetID: "p"}, {URL: "u"}}},
			{Param: "subject", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier, Values: []fhir.ClauseValue{{System: "nhs", HasSystem: true, Code: "9"}}},
			{Param: "date", Type: fhir.DateParam, Values: []fhir.ClauseValue{{Prefix: fhir.PrefixGe, Low: 1, High: 2}, {Prefix: fhir.PrefixNe, Low: 3, High: 4}}},
			{Param: "name", Type: fhir.StringParam, Modifier: fhir.ModifierContains, Values: []fhir.ClauseValue{{Text: "x"}}},
			{Param: "name", Type: fhir.StringParam, Values: []fhir.ClauseValue{{Text: "y"}}},
			{Param: "_id", Type: fhir.IDParam, Values: []fhir.ClauseValue{{Code: "a"}, {Code: "b"}}},
			{Param: "_lastUpdated", Type: fhir.LastUpdatedParam, Values: []fhir.ClauseValue{{Prefix: fhir.PrefixLt, Low: 1, High: 2}}},
			{Param: "status", Type: fhir.TokenParam, Modifier: fhir.ModifierMissing, Values: []fhir.ClauseValue{{Missing: true}}},
		}}
	s := NewStatement(Postgres)
	s.Write("SELECT 1 FROM resources r WHERE ")
	if err := Where(s, q); err != nil {
		t.Fatal(err)
	}
	After(s, q)
	OrderBy(s, q)
	var got []int
	for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(s.SQL(), -1) {
		n, _ := strconv.Atoi(m[1])
		got = append(got, n)
	}
	if len(got) != len(s.Args()) {
		t.Fatalf("%d parameters for %d arguments in %s", len(got), len(s.Args()), s.SQL())
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("parameter %d is $%d in %s", i+1, n, s.SQL())
		}
	}
}

func TestWhereWritesSelectiveClausesFirst(t *testing.T) {
	clauses := []fhir.Clause{
		{Param: "status", Type: fhir.TokenParam},
		{Param: "_lastUpdated", Type: fhir.LastUpdatedParam},
		{Param: "code", Type: fhir.TokenParam, Modifier: fhir.ModifierNot},
		{Param: "owner", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier},
		{Param: "date", Type: fhir.DateParam},
		{Param: "_id", Type: fhir.IDParam},
		{Param: "identifier", Type: fhir.TokenParam},
	}
	got := selectiveFirst(clauses)
	want := []int{5, 3, 6, 4, 0, 1, 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestWhereRefusesModifiersWithoutMeaning(t *testing.T) {
	for _, c := range []fhir.Clause{
		{Param: "date", Type: fhir.DateParam, Modifier: fhir.ModifierNot},
		{Param: "name", Type: fhir.StringParam, Modifier: fhir.ModifierIdentifier},
		{Param: "code", Type: fhir.TokenParam, Modifier: fhir.ModifierContains},
	} {
		c.Values = []fhir.ClauseValue{{}}
		err := Where(NewStatement(SQLite), &fhir.Query{Type: "Observation", Clauses: []fhir.Clause{c}})
		if fhir.KindOf(err) != fhir.Invalid {
			t.Errorf("%s with modifier %d: err = %v, want fhir.Invalid", c.Param, c.Modifier, err)
		}
	}
}
