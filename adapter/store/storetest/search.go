package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// Code systems of the fixtures.
const (
	nhs    = "https://fhir.nhs.uk/Id/nhs-number"
	ods    = "https://fhir.nhs.uk/Id/ods-organization-code"
	loinc  = "http://loinc.org"
	snomed = "http://snomed.info/sct"
	mrn    = "https://trust.example/mrn"
)

// searchCase is a query and the ids it must find, in order.
type searchCase struct {
	name string
	q    *fhir.Query
	want []string
}

func runSearches(t *testing.T, f *fixture, cases []searchCase) {
	t.Helper()
	for _, tc := range cases {
		got := f.search(tc.q)
		if tc.want == nil {
			tc.want = []string{}
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: found %v, want %v", tc.name, got, tc.want)
		}
	}
}

var searchRules = []rule{
	{"token values match with or without a system, and :not and :missing work on tokens", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Observation", "t1", index(token("code", loinc, "1234-5"), token("category", "", "vital")))
		f.create("Observation", "t2", index(token("code", snomed, "1234-5")))
		f.create("Observation", "t3", index(token("code", loinc, "999")))
		f.create("Observation", "t4", index(token("status", "", "final")))
		f.create("Condition", "x1", index(token("code", loinc, "1234-5"))) // another type: never found
		tc := func(m fhir.Modifier, v ...fhir.ClauseValue) *fhir.Query {
			return query("Observation", tokenClause("code", m, v...))
		}
		everyT := fhir.Clause{Param: "_id", Type: fhir.IDParam, Values: []fhir.ClauseValue{{Code: "t1"}, {Code: "t2"}, {Code: "t3"}, {Code: "t4"}, {Code: "x1"}}}
		runSearches(t, f, []searchCase{
			{"code without a system matches any system", tc(0, code("1234-5")), []string{"t1", "t2"}},
			{"system|code matches that system only", tc(0, sysCode(loinc, "1234-5")), []string{"t1"}},
			{"system|code of another system matches nothing", tc(0, sysCode("http://other", "1234-5")), nil},
			{"system| matches any code of the system", tc(0, sysCode(loinc, "")), []string{"t1", "t3"}},
			{"|code matches only entries without a system", tc(0, sysCode("", "1234-5")), nil},
			{"|code finds an entry without a system",
				query("Observation", tokenClause("category", 0, sysCode("", "vital"))), []string{"t1"}},
			{"code finds an entry without a system",
				query("Observation", tokenClause("category", 0, code("vital"))), []string{"t1"}},
			{"values of one parameter are ORed", tc(0, code("1234-5"), code("999")), []string{"t1", "t2", "t3"}},
			{":not keeps resources with no matching entry, those without the parameter included",
				tc(fhir.ModifierNot, code("1234-5")), []string{"t3", "t4"}},
			{":not with system|", tc(fhir.ModifierNot, sysCode(loinc, "")), []string{"t2", "t4"}},
			{":not with several values excludes any of them",
				tc(fhir.ModifierNot, code("1234-5"), code("999")), []string{"t4"}},
			{":missing=true finds resources without the parameter",
				query("Observation", missing("code", fhir.TokenParam, true)), []string{"t4"}},
			{":missing=false finds resources with the parameter",
				query("Observation", missing("code", fhir.TokenParam, false)), []string{"t1", "t2", "t3"}},
			{"clauses are ANDed",
				query("Observation", tokenClause("code", 0, code("1234-5")), tokenClause("category", 0, code("vital"))), []string{"t1"}},
			{"clauses of one parameter are ANDed too",
				query("Observation", tokenClause("code", 0, code("1234-5")), tokenClause("code", 0, code("999"))), nil},
			{"_id matches resource ids",
				query("Observation", fhir.Clause{Param: "_id", Type: fhir.IDParam, Values: []fhir.ClauseValue{{Code: "t3"}, {Code: "t1"}, {Code: "x1"}}}),
				[]string{"t1", "t3"}},
			{"_id ANDs with other clauses",
				query("Observation", fhir.Clause{Param: "_id", Type: fhir.IDParam, Values: []fhir.ClauseValue{{Code: "t1"}}}, tokenClause("code", 0, code("999"))),
				nil},
			{"no clause finds every resource of the type", query("Observation"), []string{"t1", "t2", "t3", "t4"}},
			// A token clause after a more selective one tests each candidate
			// instead of driving the search: it must mean the same.
			{"a token clause after _id matches with or without a system",
				query("Observation", everyT, tokenClause("code", 0, sysCode(loinc, "")), tokenClause("category", 0, sysCode("", "vital"))), []string{"t1"}},
			{"token values after _id are ORed", query("Observation", everyT, tokenClause("code", 0, code("1234-5"), code("999"))), []string{"t1", "t2", "t3"}},
			{":not after _id keeps resources without the parameter",
				query("Observation", everyT, tokenClause("code", fhir.ModifierNot, code("1234-5"), sysCode(loinc, "999"))), []string{"t4"}},
		})
	}},
	{"references match literally, by URL, and through the identifiers the target currently has", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("identifier", nhs, "9000000009"), token("identifier", mrn, "A1")))
		f.create("Patient", "p2", index(token("identifier", nhs, "9000000017")))
		f.create("Patient", "p3", index(token("identifier", nhs, "9000000025")))
		f.delete("Patient", "p3")
		f.create("Group", "p1", index(token("identifier", nhs, "9000000033"))) // same id, other type
		f.create("Observation", "o1", index(literal("subject", "Patient", "p1")))
		f.create("Observation", "o2", index(logical("subject", nhs, "9000000009")))
		f.create("Observation", "o3", index(logical("subject", mrn, "A1")))
		f.create("Observation", "o4", index(logical("subject", nhs, "9000000017")))
		f.create("Observation", "o5", index(fhir.ReferenceEntry{Param: "subject", TargetType: "Patient", TargetID: "p2",
			IdentifierSystem: nhs, IdentifierValue: "9000000009"}))
		f.create("Observation", "o6", index(fhir.ReferenceEntry{Param: "subject", URL: "https://other.example/fhir/Patient/9"}))
		f.create("Observation", "o7", index(literal("subject", "Patient", "p3")))
		f.create("Observation", "o8", index(logical("subject", nhs, "9000000025")))
		f.create("Observation", "o9", index(literal("performer", "Patient", "p1")))
		f.create("Observation", "o10", nil)
		f.create("Observation", "o11", index(logical("subject", "", "9000000009"))) // identifier without a system
		f.create("Observation", "o12", index(literal("subject", "Group", "p1")))
		subject := func(m fhir.Modifier, v ...fhir.ClauseValue) *fhir.Query {
			return query("Observation", fhir.Clause{Param: "subject", Type: fhir.ReferenceParam, Modifier: m, Values: v})
		}
		target := func(typ, id string) fhir.ClauseValue { return fhir.ClauseValue{TargetType: typ, TargetID: id} }
		cases := []searchCase{
			{"Patient/p1 finds literal references and logical ones carrying an identifier of p1",
				subject(0, target("Patient", "p1")), []string{"o1", "o2", "o3", "o5"}},
			{"Patient/p2 finds the literal part of a reference that has both parts",
				subject(0, target("Patient", "p2")), []string{"o4", "o5"}},
			{"a deleted target's identifiers no longer link",
				subject(0, target("Patient", "p3")), []string{"o7"}},
			{"a target that does not exist finds nothing", subject(0, target("Patient", "nobody")), nil},
			{"an id without a type finds references to any type with that id",
				subject(0, target("", "p1")), []string{"o1", "o2", "o3", "o5", "o12"}},
			{"Group/p1 is not Patient/p1", subject(0, target("Group", "p1")), []string{"o12"}},
			{"a URL matches the reference URL exactly",
				subject(0, fhir.ClauseValue{URL: "https://other.example/fhir/Patient/9"}), []string{"o6"}},
			{"another URL matches nothing",
				subject(0, fhir.ClauseValue{URL: "https://other.example/fhir/Patient/1"}), nil},
			{":identifier system|value finds logical references and literal ones to a resource with it",
				subject(fhir.ModifierIdentifier, sysCode(nhs, "9000000009")), []string{"o1", "o2", "o5"}},
			{":identifier without a system matches any system",
				subject(fhir.ModifierIdentifier, code("9000000009")), []string{"o1", "o2", "o5", "o11"}},
			{":identifier |value matches only identifiers without a system",
				subject(fhir.ModifierIdentifier, sysCode("", "9000000009")), []string{"o11"}},
			{":identifier of a second identifier of the target",
				subject(fhir.ModifierIdentifier, sysCode(mrn, "A1")), []string{"o1", "o3"}},
			{":identifier finds the literal part of a two-part reference",
				subject(fhir.ModifierIdentifier, sysCode(nhs, "9000000017")), []string{"o4", "o5"}},
			{":identifier does not link through a deleted resource",
				subject(fhir.ModifierIdentifier, sysCode(nhs, "9000000025")), []string{"o8"}},
			{"values are ORed", subject(0, target("Patient", "p2"), target("Patient", "p3")), []string{"o4", "o5", "o7"}},
			{"another parameter is not searched", query("Observation", fhir.Clause{Param: "performer", Type: fhir.ReferenceParam,
				Values: []fhir.ClauseValue{target("Patient", "p1")}}), []string{"o9"}},
			{":missing=true finds resources without the reference",
				query("Observation", missing("subject", fhir.ReferenceParam, true)), []string{"o9", "o10"}},
		}
		runSearches(t, f, cases)

		// The linkage follows the target's current identifiers.
		f.update("Patient", "p1", index(token("identifier", nhs, "9000000041")))
		runSearches(t, f, []searchCase{
			{"after p1's identifiers change, Patient/p1 finds its literal references only",
				subject(0, target("Patient", "p1")), []string{"o1"}},
			{"after p1's identifiers change, its old identifier finds logical references only",
				subject(fhir.ModifierIdentifier, sysCode(nhs, "9000000009")), []string{"o2", "o5"}},
			{"after p1's identifiers change, its new identifier finds its literal references",
				subject(fhir.ModifierIdentifier, sysCode(nhs, "9000000041")), []string{"o1"}},
		})
	}},
	{"tasks owned by a practice are found by its ODS code, whether the owner is logical or literal", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Organization", "org1", index(token("identifier", ods, "A12345")))
		f.create("Organization", "org2", index(token("identifier", ods, "B67890")))
		f.create("Task", "task1", index(logical("owner", ods, "A12345"), token("status", "", "requested")))
		f.create("Task", "task2", index(literal("owner", "Organization", "org1"), token("status", "", "accepted")))
		f.create("Task", "task3", index(logical("owner", ods, "B67890"), token("status", "", "requested")))
		f.create("Task", "task4", index(literal("owner", "Organization", "org2"), token("status", "", "requested")))
		owner := func(m fhir.Modifier, v fhir.ClauseValue) fhir.Clause {
			return fhir.Clause{Param: "owner", Type: fhir.ReferenceParam, Modifier: m, Values: []fhir.ClauseValue{v}}
		}
		runSearches(t, f, []searchCase{
			{"owner:identifier=ods|A12345", query("Task", owner(fhir.ModifierIdentifier, sysCode(ods, "A12345"))), []string{"task1", "task2"}},
			{"owner=Organization/org1", query("Task", owner(0, fhir.ClauseValue{TargetType: "Organization", TargetID: "org1"})), []string{"task1", "task2"}},
			{"owner:identifier=ods|B67890 and status=requested",
				query("Task", owner(fhir.ModifierIdentifier, sysCode(ods, "B67890")), tokenClause("status", 0, code("requested"))),
				[]string{"task3", "task4"}},
			{"owner:identifier=ods|A12345 and status=requested",
				query("Task", owner(fhir.ModifierIdentifier, sysCode(ods, "A12345")), tokenClause("status", 0, code("requested"))),
				[]string{"task1"}},
		})
	}},
	{"date prefixes compare half-open intervals, exactly at the boundaries", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		at := func(s int) time.Time { return epoch.Add(time.Duration(s) * time.Second) }
		// d1's target is [10s, 20s); d2 has two entries; d3 an open end; d4 none.
		f.create("Observation", "d1", index(date("date", at(10), at(20))))
		f.create("Observation", "d2", index(date("date", at(0), at(5)), date("date", at(30), at(40))))
		f.create("Observation", "d3", index(fhir.DateEntry{Param: "date", Low: at(100).UnixMicro(), High: fhir.MaxTime}))
		f.create("Observation", "d4", index(token("code", loinc, "1")))
		dq := func(p fhir.Prefix, lo, hi int) *fhir.Query {
			return query("Observation", fhir.Clause{Param: "date", Type: fhir.DateParam, Values: []fhir.ClauseValue{
				{Prefix: p, Low: at(lo).UnixMicro(), High: at(hi).UnixMicro()}}})
		}
		only := func(q *fhir.Query) *fhir.Query { // restrict to d1
			q.Clauses = append(q.Clauses, fhir.Clause{Param: "_id", Type: fhir.IDParam, Values: []fhir.ClauseValue{{Code: "d1"}}})
			return q
		}
		d1 := []string{"d1"}
		runSearches(t, f, []searchCase{
			{"eq: the same interval", only(dq(fhir.PrefixEq, 10, 20)), d1},
			{"eq: a wider search interval", only(dq(fhir.PrefixEq, 9, 21)), d1},
			{"eq: a search interval ending inside the target", only(dq(fhir.PrefixEq, 10, 19)), nil},
			{"eq: a search interval starting inside the target", only(dq(fhir.PrefixEq, 11, 30)), nil},
			{"ne: the same interval", only(dq(fhir.PrefixNe, 10, 20)), nil},
			{"ne: an overlapping interval", only(dq(fhir.PrefixNe, 11, 30)), d1},
			{"gt: the target ends after the search interval", only(dq(fhir.PrefixGt, 0, 19)), d1},
			{"gt: the target ends with the search interval", only(dq(fhir.PrefixGt, 0, 20)), nil},
			{"lt: the target starts before the search interval", only(dq(fhir.PrefixLt, 11, 30)), d1},
			{"lt: the target starts with the search interval", only(dq(fhir.PrefixLt, 10, 30)), nil},
			{"ge: equal", only(dq(fhir.PrefixGe, 10, 20)), d1},
			{"ge: greater", only(dq(fhir.PrefixGe, 0, 19)), d1},
			{"ge: neither", only(dq(fhir.PrefixGe, 15, 25)), nil},
			{"le: equal", only(dq(fhir.PrefixLe, 10, 20)), d1},
			{"le: less", only(dq(fhir.PrefixLe, 11, 30)), d1},
			{"le: neither", only(dq(fhir.PrefixLe, 5, 15)), nil},
			{"sa: the target starts where the search interval ends", only(dq(fhir.PrefixSa, 0, 10)), d1},
			{"sa: the target starts before the search interval ends", only(dq(fhir.PrefixSa, 0, 11)), nil},
			{"eb: the target ends where the search interval starts", only(dq(fhir.PrefixEb, 20, 30)), d1},
			{"eb: the target ends after the search interval starts", only(dq(fhir.PrefixEb, 19, 30)), nil},
			{"any entry of a resource may match", dq(fhir.PrefixEq, 30, 40), []string{"d2"}},
			{"an open end is later than any search", dq(fhir.PrefixGt, 50, 60), []string{"d3"}},
			{"ge before every date finds every resource with a date", dq(fhir.PrefixGe, -1000, -999), []string{"d1", "d2", "d3"}},
			{"two date clauses make a range",
				query("Observation",
					fhir.Clause{Param: "date", Type: fhir.DateParam, Values: []fhir.ClauseValue{{Prefix: fhir.PrefixGe, Low: at(10).UnixMicro(), High: at(11).UnixMicro()}}},
					fhir.Clause{Param: "date", Type: fhir.DateParam, Values: []fhir.ClauseValue{{Prefix: fhir.PrefixLt, Low: at(35).UnixMicro(), High: at(36).UnixMicro()}}}),
				[]string{"d1", "d2"}},
			{"values of one date clause are ORed",
				query("Observation", fhir.Clause{Param: "date", Type: fhir.DateParam, Values: []fhir.ClauseValue{
					{Prefix: fhir.PrefixEq, Low: at(10).UnixMicro(), High: at(20).UnixMicro()},
					{Prefix: fhir.PrefixSa, Low: at(90).UnixMicro(), High: at(95).UnixMicro()}}}),
				[]string{"d1", "d3"}},
			{":missing=true", query("Observation", missing("date", fhir.DateParam, true)), []string{"d4"}},
		})
	}},
	{"_lastUpdated matches the instant of the last update as one millisecond", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		t1 := epoch.Add(time.Hour)
		t2, t3 := t1.Add(time.Second), t1.Add(2*time.Second)
		f.put(newWrite("Patient", "r1", 1, t1, nil))
		f.put(newWrite("Patient", "r2", 1, t2, nil))
		f.put(newWrite("Patient", "r3", 1, t3, nil))
		lu := func(p fhir.Prefix, lo, hi time.Time) *fhir.Query {
			return query("Patient", fhir.Clause{Param: "_lastUpdated", Type: fhir.LastUpdatedParam, Values: []fhir.ClauseValue{
				{Prefix: p, Low: lo.UnixMicro(), High: hi.UnixMicro()}}})
		}
		ms := time.Millisecond
		runSearches(t, f, []searchCase{
			{"eq to the millisecond", lu(fhir.PrefixEq, t2, t2.Add(ms)), []string{"r2"}},
			{"eq to the second", lu(fhir.PrefixEq, t2, t2.Add(time.Second)), []string{"r2"}},
			{"eq a microsecond off", lu(fhir.PrefixEq, t2.Add(time.Microsecond), t2.Add(ms)), nil},
			{"gt", lu(fhir.PrefixGt, t1, t1.Add(ms)), []string{"r2", "r3"}},
			{"lt", lu(fhir.PrefixLt, t2, t2.Add(ms)), []string{"r1"}},
			{"ge", lu(fhir.PrefixGe, t2, t2.Add(ms)), []string{"r2", "r3"}},
			{"le", lu(fhir.PrefixLe, t2, t2.Add(ms)), []string{"r1", "r2"}},
			{"sa", lu(fhir.PrefixSa, t1, t1.Add(ms)), []string{"r2", "r3"}},
			{"eb", lu(fhir.PrefixEb, t3, t3.Add(ms)), []string{"r1", "r2"}},
			{"ne", lu(fhir.PrefixNe, t2, t2.Add(ms)), []string{"r1", "r3"}},
			{":missing=true never matches", query("Patient", missing("_lastUpdated", fhir.LastUpdatedParam, true)), nil},
		})
	}},
	{"strings match by prefix by default, whole with :exact, anywhere with :contains", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "s1", index(str("name", "smith"), str("name", "john")))
		f.create("Patient", "s2", index(str("name", "smithson")))
		f.create("Patient", "s3", index(str("name", "jones")))
		f.create("Patient", "s4", index(str("name", "zoë ølsen")))
		f.create("Patient", "s5", index(str("name", "a_b%c")))
		f.create("Patient", "s6", index(str("name", "axbyc")))
		f.create("Patient", "s7", index(str("address", "smith street")))
		name := func(m fhir.Modifier, texts ...string) *fhir.Query {
			c := fhir.Clause{Param: "name", Type: fhir.StringParam, Modifier: m}
			for _, s := range texts {
				c.Values = append(c.Values, fhir.ClauseValue{Text: s})
			}
			return query("Patient", c)
		}
		runSearches(t, f, []searchCase{
			{"a prefix", name(0, "smi"), []string{"s1", "s2"}},
			{"the whole value is a prefix too", name(0, "smith"), []string{"s1", "s2"}},
			{"not a prefix", name(0, "mith"), nil},
			{"any value of the resource", name(0, "jo"), []string{"s1", "s3"}},
			{"a prefix ending inside a multi-byte character's word", name(0, "zoë ø"), []string{"s4"}},
			{":exact", name(fhir.ModifierExact, "smith"), []string{"s1"}},
			{":exact is not a prefix", name(fhir.ModifierExact, "smi"), nil},
			{":contains", name(fhir.ModifierContains, "son"), []string{"s2"}},
			{":contains in several", name(fhir.ModifierContains, "ith"), []string{"s1", "s2"}},
			{":contains a multi-byte character", name(fhir.ModifierContains, "ø"), []string{"s4"}},
			{"_ and % are plain characters in a prefix", name(0, "a_b%"), []string{"s5"}},
			{"_ and % are plain characters in :contains", name(fhir.ModifierContains, "_b%"), []string{"s5"}},
			{"values are ORed", name(0, "smithson", "jones"), []string{"s2", "s3"}},
			{"another parameter is not searched", name(0, "smith street"), nil},
			{":missing=true", query("Patient", missing("name", fhir.StringParam, true)), []string{"s7"}},
		})
	}},
	{"long values are matched on their first MaxValueLen bytes without failing", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		long := make([]byte, 5000)
		for i := range long {
			long[i] = 'a' + byte(i%26)
		}
		f.create("Patient", "l1", index(str("name", string(long)), token("identifier", string(long), string(long)),
			literal("subject", "Patient", string(long))))
		runSearches(t, f, []searchCase{
			{"prefix of a long string", query("Patient", fhir.Clause{Param: "name", Type: fhir.StringParam,
				Values: []fhir.ClauseValue{{Text: string(long[:100])}}}), []string{"l1"}},
			{"a long token", query("Patient", tokenClause("identifier", 0, sysCode(string(long), string(long)))), []string{"l1"}},
		})
	}},
	{"search returns current versions only, and only of the type asked", func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		f.create("Patient", "p1", index(token("identifier", nhs, "1")))
		f.update("Patient", "p1", index(token("identifier", nhs, "2")))
		f.create("Practitioner", "p1", index(token("identifier", nhs, "1")))
		res, err := st.Search(context.Background(), query("Patient", tokenClause("identifier", 0, code("2"))), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != 1 || res.Resources[0].VersionID != 2 || res.Resources[0].Method != "PUT" || res.Resources[0].Type != "Patient" {
			t.Errorf("Search = %+v, want Patient/p1 version 2", res.Resources)
		}
		runSearches(t, f, []searchCase{
			{"the old version's token", query("Patient", tokenClause("identifier", 0, code("1"))), nil},
			{"the other type's token", query("Practitioner", tokenClause("identifier", 0, code("1"))), []string{"p1"}},
		})
	}},
	{"an unsupported modifier is refused, not ignored", func(t *testing.T, st store.Store) {
		_, err := st.Search(context.Background(), query("Patient", fhir.Clause{Param: "birthdate", Type: fhir.DateParam,
			Modifier: fhir.ModifierExact, Values: []fhir.ClauseValue{{}}}), nil)
		if !errors.Is(err, fhir.ErrInvalid) {
			t.Errorf("Search: err = %v, want fhir.Invalid", err)
		}
	}},
}
