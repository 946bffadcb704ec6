package fhir

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// spQuery parses a raw query string, as a URL carries it.
func spQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", raw, err)
	}
	return v
}

func TestParseQuery(t *testing.T) {
	ldn := london(t)
	opts := QueryOptions{Location: ldn, DefaultCount: 50, MaxCount: 200}
	day := func(p Prefix, d string) ClauseValue {
		lo, hi, ok := ixDateInterval(d, ldn)
		if !ok {
			t.Fatalf("bad test date %q", d)
		}
		return ClauseValue{Prefix: p, Low: lo, High: hi, Text: d}
	}
	tok := func(system, code string) ClauseValue { return ClauseValue{System: system, HasSystem: true, Code: code} }
	code := func(c string) ClauseValue { return ClauseValue{Code: c} }
	lit := func(typ, id string) ClauseValue { return ClauseValue{TargetType: typ, TargetID: id} }
	text := func(s string) ClauseValue { return ClauseValue{Text: s} }
	page := PageToken{LastUpdated: 1749723302123000, Key: 4711}
	tests := []struct {
		name     string
		typ      string
		query    string
		want     Query
		warnings []Issue
	}{
		{
			name: "no parameters: every resource, the default page size, creation order",
			typ:  "Patient", query: "",
			want: Query{Type: "Patient", Count: 50, Total: true},
		},
		{
			name: "a code without a system",
			typ:  "Task", query: "status=requested",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{{Param: "status", Type: TokenParam, Values: []ClauseValue{code("requested")}}}},
		},
		{
			name: "system|code, |code and system|",
			typ:  "Observation", query: "code=http://snomed.info/sct|1085871000000105&category=|survey&_tag=https://carebridge.example/tag|",
			want: Query{Type: "Observation", Count: 50, Total: true, Clauses: []Clause{
				{Param: "_tag", Type: TokenParam, Values: []ClauseValue{tok("https://carebridge.example/tag", "")}},
				{Param: "category", Type: TokenParam, Values: []ClauseValue{tok("", "survey")}},
				{Param: "code", Type: TokenParam, Values: []ClauseValue{tok("http://snomed.info/sct", "1085871000000105")}},
			}},
		},
		{
			name: "an NHS number with its system loses its spaces",
			typ:  "Patient", query: "identifier=https://fhir.nhs.uk/Id/nhs-number|943%20476%205919",
			want: Query{Type: "Patient", Count: 50, Total: true, Clauses: []Clause{{Param: "identifier", Type: TokenParam, Values: []ClauseValue{tok(SystemNHSNumber, "9434765919")}}}},
		},
		{
			name: "comma-separated values are alternatives, and :not excludes them all",
			typ:  "Task", query: "status:not=completed,cancelled",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{{Param: "status", Type: TokenParam, Modifier: ModifierNot,
				Values: []ClauseValue{code("completed"), code("cancelled")}}}},
		},
		{
			name: "a boolean",
			typ:  "Patient", query: "active=true",
			want: Query{Type: "Patient", Count: 50, Total: true, Clauses: []Clause{{Param: "active", Type: TokenParam, Values: []ClauseValue{code("true")}}}},
		},
		{
			name: "a uri keeps its |version",
			typ:  "Patient", query: "_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient|2.0.1",
			want: Query{Type: "Patient", Count: 50, Total: true, Clauses: []Clause{{Param: "_profile", Type: TokenParam,
				Values: []ClauseValue{code("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient|2.0.1")}}}},
		},
		{
			name: "escaped commas and pipes are part of a value",
			typ:  "Organization", query: `name=Smith\,%20Jones&type=urn:x\|y|a\\b`,
			want: Query{Type: "Organization", Count: 50, Total: true, Clauses: []Clause{
				{Param: "name", Type: StringParam, Values: []ClauseValue{text("smith, jones")}},
				{Param: "type", Type: TokenParam, Values: []ClauseValue{tok("urn:x|y", `a\b`)}},
			}},
		},
		{
			name: "references: Type/id, a version dropped, an id of the one target type, a URL and a urn",
			typ:  "Observation", query: "subject=Patient/p1,Group/g1/_history/2&patient=p2&encounter=https://rio.example/fhir/Encounter/e1/_history/1&based-on=urn:uuid:68d3c42e-f76e-4f66-9498-d96e1040c81c",
			want: Query{Type: "Observation", Count: 50, Total: true, Clauses: []Clause{
				{Param: "based-on", Type: ReferenceParam, Values: []ClauseValue{{URL: "urn:uuid:68d3c42e-f76e-4f66-9498-d96e1040c81c"}}},
				{Param: "encounter", Type: ReferenceParam, Values: []ClauseValue{{URL: "https://rio.example/fhir/Encounter/e1"}}},
				{Param: "patient", Type: ReferenceParam, Values: []ClauseValue{lit("Patient", "p2")}},
				{Param: "subject", Type: ReferenceParam, Values: []ClauseValue{lit("Patient", "p1"), lit("Group", "g1")}},
			}},
		},
		{
			name: "a type modifier gives a bare id its type",
			typ:  "Task", query: "subject:Patient=p1&focus:ServiceRequest=ServiceRequest/sr1",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{
				{Param: "focus", Type: ReferenceParam, Values: []ClauseValue{lit("ServiceRequest", "sr1")}},
				{Param: "subject", Type: ReferenceParam, Values: []ClauseValue{lit("Patient", "p1")}},
			}},
		},
		{
			name: ":identifier takes a token, NHS numbers normalised",
			typ:  "Task", query: "owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82005&patient:identifier=https://fhir.nhs.uk/Id/nhs-number|943-476-5919",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{
				{Param: "owner", Type: ReferenceParam, Modifier: ModifierIdentifier, Values: []ClauseValue{tok("https://fhir.nhs.uk/Id/ods-organization-code", "B82005")}},
				{Param: "patient", Type: ReferenceParam, Modifier: ModifierIdentifier, Values: []ClauseValue{tok(SystemNHSNumber, "9434765919")}},
			}},
		},
		{
			name: ":missing on any type",
			typ:  "Condition", query: "encounter:missing=true&onset-date:missing=false&code:missing=true",
			want: Query{Type: "Condition", Count: 50, Total: true, Clauses: []Clause{
				{Param: "code", Type: TokenParam, Modifier: ModifierMissing, Values: []ClauseValue{{Missing: true}}},
				{Param: "encounter", Type: ReferenceParam, Modifier: ModifierMissing, Values: []ClauseValue{{Missing: true}}},
				{Param: "onset-date", Type: DateParam, Modifier: ModifierMissing, Values: []ClauseValue{{Missing: false}}},
			}},
		},
		{
			name: "a repeated date makes a range: two clauses",
			typ:  "Observation", query: "date=ge2025-01-01&date=lt2025-04",
			want: Query{Type: "Observation", Count: 50, Total: true, Clauses: []Clause{
				{Param: "date", Type: DateParam, Values: []ClauseValue{day(PrefixGe, "2025-01-01")}},
				{Param: "date", Type: DateParam, Values: []ClauseValue{day(PrefixLt, "2025-04")}},
			}},
		},
		{
			name: "every prefix",
			typ:  "Task", query: "modified=eq2025,ne2025,gt2025,lt2025,ge2025,le2025,sa2025,eb2025,2025",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{{Param: "modified", Type: DateParam, Values: []ClauseValue{
				day(PrefixEq, "2025"), day(PrefixNe, "2025"), day(PrefixGt, "2025"), day(PrefixLt, "2025"),
				day(PrefixGe, "2025"), day(PrefixLe, "2025"), day(PrefixSa, "2025"), day(PrefixEb, "2025"), day(PrefixEq, "2025"),
			}}}},
		},
		{
			name: "a time with an offset whose + became a space in the query string",
			typ:  "Task", query: "authored-on=ge2025-07-01T10:00:00+01:00",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{{Param: "authored-on", Type: DateParam, Values: []ClauseValue{{
				Prefix: PrefixGe, Low: utcMicro(t, "2025-07-01T09:00:00Z"), High: utcMicro(t, "2025-07-01T09:00:01Z"), Text: "2025-07-01T10:00:00+01:00"}}}}},
		},
		{
			name: "a time without a zone is in the server's zone",
			typ:  "Task", query: "authored-on=2025-07-01T10:00",
			want: Query{Type: "Task", Count: 50, Total: true, Clauses: []Clause{{Param: "authored-on", Type: DateParam, Values: []ClauseValue{{
				Prefix: PrefixEq, Low: utcMicro(t, "2025-07-01T09:00:00Z"), High: utcMicro(t, "2025-07-01T09:01:00Z"), Text: "2025-07-01T10:00"}}}}},
		},
		{
			name: "strings are normalised, with :exact and :contains",
			typ:  "Patient", query: "family=%20O'BRIEN%20&given:exact=Zoë&name:contains=ann%20%20marie",
			want: Query{Type: "Patient", Count: 50, Total: true, Clauses: []Clause{
				{Param: "family", Type: StringParam, Values: []ClauseValue{text("o'brien")}},
				{Param: "given", Type: StringParam, Modifier: ModifierExact, Values: []ClauseValue{text("zoe")}},
				{Param: "name", Type: StringParam, Modifier: ModifierContains, Values: []ClauseValue{text("ann marie")}},
			}},
		},
		{
			name: "_id and _lastUpdated",
			typ:  "Patient", query: "_id=p1,p2&_lastUpdated=gt2025-06-12T10:15:02.123Z",
			want: Query{Type: "Patient", Count: 50, Total: true, Clauses: []Clause{
				{Param: "_id", Type: IDParam, Values: []ClauseValue{code("p1"), code("p2")}},
				{Param: "_lastUpdated", Type: LastUpdatedParam, Values: []ClauseValue{{Prefix: PrefixGt,
					Low: utcMicro(t, "2025-06-12T10:15:02.123Z"), High: utcMicro(t, "2025-06-12T10:15:02.124Z"), Text: "2025-06-12T10:15:02.123Z"}}},
			}},
		},
		{
			name: "_count, _sort, _total, _page_token, _format and _pretty",
			typ:  "Task", query: "_count=10&_sort=-_lastUpdated&_total=accurate&_format=application/fhir+json&_pretty=true&_page_token=" + EncodePageToken(page),
			want: Query{Type: "Task", Count: 10, Sort: SortLastUpdatedDescending, Total: true, Page: &page},
		},
		{
			name: "_sort by _lastUpdated ascending and _total=none",
			typ:  "Task", query: "_sort=_lastUpdated&_total=none&_format=json",
			want: Query{Type: "Task", Count: 50, Sort: SortLastUpdated},
		},
		{
			name: "_count=0 asks for the total only",
			typ:  "Task", query: "_count=0",
			want: Query{Type: "Task", Count: 0, Total: true},
		},
		{
			name: "_summary=count asks for the total only",
			typ:  "Task", query: "_summary=count&_count=10",
			want: Query{Type: "Task", Count: 0, Total: true},
		},
		{
			name: "_count above the maximum is capped, with a note",
			typ:  "Task", query: "_count=5000",
			want: Query{Type: "Task", Count: 200, Total: true},
			warnings: []Issue{{Severity: SeverityInformation, Code: IssueInformational, Expression: "_count",
				Diagnostics: "'_count' 5000 is more than the 200 this server returns in a page; pages have 200"}},
		},
		{
			name: "an empty parameter is ignored with a warning",
			typ:  "Task", query: "status=&_count=",
			want: Query{Type: "Task", Count: 50, Total: true},
			warnings: []Issue{
				{Severity: SeverityWarning, Code: IssueValue, Expression: "_count", Diagnostics: "'_count' has an empty value; it was ignored"},
				{Severity: SeverityWarning, Code: IssueValue, Expression: "status", Diagnostics: "'status' has an empty value; it was ignored"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, warnings, err := ParseQuery(tc.typ, spQuery(t, tc.query), opts)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.query, err)
			}
			if diff := cmp.Diff(&tc.want, q, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseQuery(%q) (-want +got):\n%s", tc.query, diff)
			}
			if diff := cmp.Diff(tc.warnings, warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseQuery(%q) warnings (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}

func TestParseQueryDefaults(t *testing.T) {
	q, _, err := ParseQuery("Patient", url.Values{"_count": {"5000"}}, QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != maxSearchCount {
		t.Errorf("with zero options, _count=5000 gives %d, want %d", q.Count, maxSearchCount)
	}
	q, _, _ = ParseQuery("Patient", nil, QueryOptions{})
	if q.Count != defaultSearchCount {
		t.Errorf("with zero options, the page size is %d, want %d", q.Count, defaultSearchCount)
	}
	q, _, _ = ParseQuery("Patient", url.Values{"birthdate": {"2025-07-01"}}, QueryOptions{})
	if got, want := q.Clauses[0].Values[0].Low, utcMicro(t, "2025-07-01T00:00:00Z"); got != want {
		t.Errorf("with no Location, a date starts at %d, want UTC midnight %d", got, want)
	}
}

func TestParseQueryErrors(t *testing.T) {
	// Each case lists every issue the error must carry.
	type issue struct {
		code       IssueType
		expression string
		diag       string
	}
	tests := []struct {
		name   string
		typ    string
		query  string
		kind   Kind
		issues []issue
	}{
		{"an unknown parameter, with a suggestion", "Task", "ownr=x", Invalid,
			[]issue{{IssueNotSupported, "ownr", "unknown search parameter 'ownr' for Task (did you mean 'owner'?)"}}},
		{"an unknown parameter", "Task", "colour=red", Invalid,
			[]issue{{IssueNotSupported, "colour", "unknown search parameter 'colour' for Task"}}},
		{"parameter names are case-sensitive", "Patient", "Family=smith", Invalid,
			[]issue{{IssueNotSupported, "Family", "unknown search parameter 'Family' for Patient (did you mean 'family'?)"}}},
		{"a parameter of another type", "Task", "birthdate=2025", Invalid,
			[]issue{{IssueNotSupported, "birthdate", "unknown search parameter 'birthdate' for Task"}}},
		{":exact on a token", "Task", "status:exact=requested", Invalid,
			[]issue{{IssueNotSupported, "status:exact", "modifier ':exact' is not supported for token parameter 'status'"}}},
		{":text on a token", "Condition", "code:text=psychosis", Invalid,
			[]issue{{IssueNotSupported, "code:text", "modifier ':text' is not supported for token parameter 'code'"}}},
		{":contains on a date", "Task", "authored-on:contains=2025", Invalid,
			[]issue{{IssueNotSupported, "authored-on:contains", "modifier ':contains' is not supported for date parameter 'authored-on'"}}},
		{":not on a uri", "Patient", "_profile:not=x", Invalid,
			[]issue{{IssueNotSupported, "_profile:not", "modifier ':not' is not supported for uri parameter '_profile'"}}},
		{":below on a uri", "Patient", "_profile:below=x", Invalid,
			[]issue{{IssueNotSupported, "_profile:below", "modifier ':below' is not supported for uri parameter '_profile'"}}},
		{":missing on _id", "Patient", "_id:missing=true", Invalid,
			[]issue{{IssueNotSupported, "_id:missing", "modifier ':missing' is not supported for token parameter '_id'"}}},
		{":not on a string", "Patient", "name:not=x", Invalid,
			[]issue{{IssueNotSupported, "name:not", "modifier ':not' is not supported for string parameter 'name'"}}},
		{"an empty modifier", "Patient", "name:=x", Invalid,
			[]issue{{IssueNotSupported, "name:", "modifier ':' is not supported for string parameter 'name'"}}},
		{"a type modifier that is not a target", "Condition", "subject:Practitioner=1", Invalid,
			[]issue{{IssueNotSupported, "subject:Practitioner", "modifier ':Practitioner' is not supported for reference parameter 'subject': it refers to Group or Patient"}}},
		{"a chained parameter", "Observation", "subject.name=smith", Invalid,
			[]issue{{IssueNotSupported, "subject.name", "chained search 'subject.name' is not supported: search for the target first, then by its id"}}},
		{"a typed chained parameter", "Observation", "subject:Patient.identifier=x", Invalid,
			[]issue{{IssueNotSupported, "subject:Patient.identifier", "chained search 'subject:Patient.identifier' is not supported: search for the target first, then by its id"}}},
		{"_has", "Patient", "_has:Observation:patient:code=1234", Invalid,
			[]issue{{IssueNotSupported, "_has:Observation:patient:code", "parameter '_has' is not supported"}}},
		{"_include", "Task", "_include=Task:owner", Invalid,
			[]issue{{IssueNotSupported, "_include", "parameter '_include' is not supported"}}},
		{"_revinclude with a modifier", "Patient", "_revinclude:iterate=Observation:patient", Invalid,
			[]issue{{IssueNotSupported, "_revinclude:iterate", "parameter '_revinclude' is not supported"}}},
		{"the other unsupported parameters", "Patient", "_elements=id&_contained=true&_containedType=container&_filter=x&_query=x&_text=x&_content=x&_list=x&_type=Patient", Invalid,
			[]issue{
				{IssueNotSupported, "_contained", "parameter '_contained' is not supported"},
				{IssueNotSupported, "_containedType", "parameter '_containedType' is not supported"},
				{IssueNotSupported, "_content", "parameter '_content' is not supported"},
				{IssueNotSupported, "_elements", "parameter '_elements' is not supported"},
				{IssueNotSupported, "_filter", "parameter '_filter' is not supported"},
				{IssueNotSupported, "_list", "parameter '_list' is not supported"},
				{IssueNotSupported, "_query", "parameter '_query' is not supported"},
				{IssueNotSupported, "_text", "parameter '_text' is not supported"},
				{IssueNotSupported, "_type", "parameter '_type' is not supported"},
			}},
		{"a month that does not exist", "Observation", "date=2025-13", Invalid,
			[]issue{{IssueValue, "date", "'2025-13' is not a valid date for 'date'"}}},
		{"a day that does not exist", "Patient", "birthdate=2025-02-29", Invalid,
			[]issue{{IssueValue, "birthdate", "'2025-02-29' is not a valid date for 'birthdate'"}}},
		{"a date in another format", "Patient", "birthdate=25/12/1974", Invalid,
			[]issue{{IssueValue, "birthdate", "'25/12/1974' is not a valid date for 'birthdate'"}}},
		{"an unknown prefix", "Observation", "date=xx2025", Invalid,
			[]issue{{IssueValue, "date", "'xx2025' is not a valid date for 'date': 'xx' is not a prefix (eq ne gt lt ge le sa eb)"}}},
		{"the ap prefix", "Observation", "date=ap2025", Invalid,
			[]issue{{IssueNotSupported, "date", "prefix 'ap' is not supported for 'date': use ge and le"}}},
		{"a bad _lastUpdated", "Task", "_lastUpdated=gt2025-06-12T25:00:00Z", Invalid,
			[]issue{{IssueValue, "_lastUpdated", "'gt2025-06-12T25:00:00Z' is not a valid date for '_lastUpdated'"}}},
		{"a token of one bar", "Observation", "code=|", Invalid,
			[]issue{{IssueInvalid, "code", "'|' is not a valid token for 'code': give a system, a code or both"}}},
		{"a token with two bars", "Observation", "code=a|b|c", Invalid,
			[]issue{{IssueInvalid, "code", `'a|b|c' is not a valid token for 'code': it has more than one '|' (write a '|' inside a value as '\|')`}}},
		{"a boolean that is not one", "Patient", "active=yes", Invalid,
			[]issue{{IssueValue, "active", "'yes' is not a valid value for 'active': use true or false"}}},
		{"a boolean with a system", "Patient", "active=x|true", Invalid,
			[]issue{{IssueValue, "active", "'x|true' is not a valid value for 'active': use true or false"}}},
		{"a bare id for a parameter with several target types", "Observation", "subject=123", Invalid,
			[]issue{{IssueValue, "subject", "'123' needs a resource type for 'subject', which refers to Device, Group, Location or Patient: write Type/123"}}},
		{"a bare id for a parameter with any target type", "Task", "focus=123", Invalid,
			[]issue{{IssueValue, "focus", "'123' needs a resource type for 'focus', which refers to any resource type: write Type/123"}}},
		{"a reference to a type the parameter does not refer to", "Observation", "subject=Practitioner/1", Invalid,
			[]issue{{IssueValue, "subject", "'Practitioner/1' is not a valid reference for 'subject': it refers to Device, Group, Location or Patient"}}},
		{"an identifier given as a reference", "Task", "owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001", Invalid,
			[]issue{{IssueValue, "owner", "'https://fhir.nhs.uk/Id/ods-organization-code|A81001' is an identifier, not a reference: search it with owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001"}}},
		{"a malformed reference", "Observation", "subject=Patient/a%20b", Invalid,
			[]issue{{IssueValue, "subject", "'Patient/a b' is not a valid reference for 'subject': use Type/id, an id or an absolute URL"}}},
		{"a URL to a type the parameter does not refer to", "Observation", "patient=https://rio.example/fhir/Group/g1", Invalid,
			[]issue{{IssueValue, "patient", "'https://rio.example/fhir/Group/g1' is not a valid reference for 'patient': it refers to Patient"}}},
		{"a value with :// that is not a URL", "Observation", "subject=Patient/0000000://_history/", Invalid,
			[]issue{{IssueValue, "subject", "'Patient/0000000://_history/' is not a valid reference for 'subject': use Type/id, an id or an absolute URL"}}},
		{"a malformed id", "Observation", "patient=a%20b", Invalid,
			[]issue{{IssueValue, "patient", "'a b' is not a valid reference for 'patient': use Type/id, an id or an absolute URL"}}},
		{"a malformed id with a type modifier", "Task", "subject:Patient=a%20b", Invalid,
			[]issue{{IssueValue, "subject:Patient", "'a b' is not a valid Patient id for 'subject'"}}},
		{":missing with something else than true or false", "Task", "owner:missing=maybe", Invalid,
			[]issue{{IssueValue, "owner:missing", "':missing' takes true or false, not 'maybe'"}}},
		{":missing with two values", "Task", "owner:missing=true,false", Invalid,
			[]issue{{IssueValue, "owner:missing", "':missing' takes true or false, not 'true,false'"}}},
		{"an empty value between commas", "Task", "status=a,,b", Invalid,
			[]issue{{IssueInvalid, "status", "'a,,b' has an empty value between commas"}}},
		{"a malformed _id", "Patient", "_id=a%20b", Invalid,
			[]issue{{IssueValue, "_id", "'a b' is not a valid id for '_id'"}}},
		{"a string of white space only", "Patient", "name=%20%20", Invalid,
			[]issue{{IssueValue, "name", "'  ' has no text to search for in 'name'"}}},
		{"a negative _count", "Task", "_count=-1", Invalid,
			[]issue{{IssueValue, "_count", "'_count' must be a whole number, 0 or more, not '-1'"}}},
		{"a _count that is not a number", "Task", "_count=ten", Invalid,
			[]issue{{IssueValue, "_count", "'_count' must be a whole number, 0 or more, not 'ten'"}}},
		{"_count given twice", "Task", "_count=1&_count=2", Invalid,
			[]issue{{IssueInvalid, "_count", "'_count' may be given only once"}}},
		{"_count with a modifier", "Task", "_count:exact=1", Invalid,
			[]issue{{IssueNotSupported, "_count:exact", "modifier ':exact' is not supported for '_count'"}}},
		{"sorting by another parameter", "Task", "_sort=authored-on", Invalid,
			[]issue{{IssueNotSupported, "_sort", "sorting by 'authored-on' is not supported: use _lastUpdated or -_lastUpdated"}}},
		{"sorting by two keys", "Task", "_sort=_lastUpdated,_id", Invalid,
			[]issue{{IssueNotSupported, "_sort", "sorting by '_lastUpdated,_id' is not supported: use _lastUpdated or -_lastUpdated"}}},
		{"a bad _total", "Task", "_total=all", Invalid,
			[]issue{{IssueValue, "_total", "'_total' must be none, estimate or accurate, not 'all'"}}},
		{"_summary=true", "Task", "_summary=true", Invalid,
			[]issue{{IssueNotSupported, "_summary", "'_summary=true' is not supported: only _summary=count and _summary=false are"}}},
		{"a bad _summary", "Task", "_summary=short", Invalid,
			[]issue{{IssueValue, "_summary", "'_summary' must be true, text, data, count or false, not 'short'"}}},
		{"a page token this server did not issue", "Task", "_page_token=AAAA", Invalid,
			[]issue{{IssueValue, "_page_token", "'_page_token' is not one this server issued"}}},
		{"a bad _pretty", "Task", "_pretty=yes", Invalid,
			[]issue{{IssueValue, "_pretty", "'_pretty' must be true or false, not 'yes'"}}},
		{"every fault at once, in parameter order", "Task", "status:exact=x&ownr=y&authored-on=2025-13&_count=-1", Invalid,
			[]issue{
				{IssueValue, "_count", "'_count' must be a whole number, 0 or more, not '-1'"},
				{IssueValue, "authored-on", "'2025-13' is not a valid date for 'authored-on'"},
				{IssueNotSupported, "ownr", "unknown search parameter 'ownr' for Task (did you mean 'owner'?)"},
				{IssueNotSupported, "status:exact", "modifier ':exact' is not supported for token parameter 'status'"},
			}},
		{"a _format other than JSON is not acceptable", "Task", "_format=xml&ownr=y", NotAcceptable,
			[]issue{{IssueNotSupported, "_format", `_format "xml" is not supported: CareBridge returns JSON (json or application/fhir+json)`}}},
		{"a type that is not searchable", "Bundle", "", Invalid,
			[]issue{{IssueNotSupported, "", `resource type "Bundle" is not searchable`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, _, err := ParseQuery(tc.typ, spQuery(t, tc.query), QueryOptions{Location: time.UTC})
			if err == nil {
				t.Fatalf("ParseQuery(%q) = %+v, want an error", tc.query, q)
			}
			fe, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("ParseQuery(%q): %T %v, want *Error", tc.query, err, err)
			}
			if fe.Kind != tc.kind {
				t.Errorf("ParseQuery(%q) kind = %v, want %v", tc.query, fe.Kind, tc.kind)
			}
			var want []Issue
			for _, is := range tc.issues {
				want = append(want, Issue{Severity: SeverityError, Code: is.code, Expression: is.expression, Diagnostics: is.diag})
			}
			if diff := cmp.Diff(want, fe.Issues); diff != "" {
				t.Errorf("ParseQuery(%q) issues (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}

func TestParseQueryLenientSkipsUnknownAndUnsupportedParameters(t *testing.T) {
	q, warnings, err := ParseQuery("Task",
		spQuery(t, "status=requested&ownr=x&status:text=y&_include=Task:owner&subject.name=z&_sort=priority&_summary=data"),
		QueryOptions{Location: time.UTC, Lenient: true})
	if err != nil {
		t.Fatalf("ParseQuery: %v", err)
	}
	want := &Query{Type: "Task", Count: defaultSearchCount, Total: true, Clauses: []Clause{
		{Param: "status", Type: TokenParam, Values: []ClauseValue{{Code: "requested"}}},
	}}
	if diff := cmp.Diff(want, q, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ParseQuery (-want +got):\n%s", diff)
	}
	w := func(expr, diag string) Issue {
		return Issue{Severity: SeverityWarning, Code: IssueNotSupported, Expression: expr, Diagnostics: diag}
	}
	wantWarnings := []Issue{
		w("_include", "parameter '_include' is not supported; it was ignored"),
		w("_sort", "sorting by 'priority' is not supported: use _lastUpdated or -_lastUpdated; it was ignored"),
		w("_summary", "'_summary=data' is not supported: only _summary=count and _summary=false are; it was ignored"),
		w("ownr", "unknown search parameter 'ownr' for Task (did you mean 'owner'?); it was ignored"),
		w("status:text", "modifier ':text' is not supported for token parameter 'status'; it was ignored"),
		w("subject.name", "chained search 'subject.name' is not supported: search for the target first, then by its id; it was ignored"),
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("ParseQuery warnings (-want +got):\n%s", diff)
	}

	// Malformed values are errors even under lenient handling.
	_, _, err = ParseQuery("Task", spQuery(t, "authored-on=2025-13&ownr=x"), QueryOptions{Lenient: true})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("lenient ParseQuery of a bad date: err = %v, want Invalid", err)
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	opts := QueryOptions{Location: london(t), DefaultCount: 50, MaxCount: 200}
	for _, tc := range []struct{ typ, raw string }{
		{"Patient", ""},
		{"Task", "status=requested"},
		{"Task", "status:not=completed,cancelled&owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82005&_sort=-_lastUpdated"},
		{"Observation", "code=http://snomed.info/sct|1085871000000105,|local,http://loinc.org|&category:missing=false"},
		{"Organization", `name=Smith\,%20Jones,ó'brien&type=urn:x\|y|a\\b\$`},
		{"Patient", "_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient|2.0.1,https://x/y"},
		{"Task", "subject=Patient/p1,https://rio.example/fhir/Group/g1,urn:uuid:1&patient=p2&subject:Patient=p3&_id=a,b"},
		{"Observation", "date=ge2025-01-01&date=lt2025-04&date=2025-07-01T10:00:00+01:00,sa2025-07-01T10:00,eb2025-07-01T10:00:00.5Z"},
		{"Patient", "_lastUpdated=gt2025-06-12T10:15:02.123Z&_count=0"},
		{"Patient", "_summary=count&family:exact=Zoë&given:contains=ann"},
		{"Task", "_count=10&_total=estimate&_sort=_lastUpdated&_format=json&_pretty=true"},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|943%20476%205919&active=true"},
		{"Task", "focus=https://x.example/fhir/ServiceRequest/2/_history/1/_history/2,urn:uuid:3/_history/4"},
	} {
		t.Run(tc.typ+"?"+tc.raw, func(t *testing.T) {
			first, _, err := ParseQuery(tc.typ, spQuery(t, tc.raw), opts)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.raw, err)
			}
			link := first.Canonical().Encode()
			again, _, err := ParseQuery(first.Type, spQuery(t, link), opts)
			if err != nil {
				t.Fatalf("ParseQuery of the canonical %q: %v", link, err)
			}
			if diff := cmp.Diff(first, again, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the canonical form %q parses to another query (-first +again):\n%s", link, diff)
			}
			if link2 := again.Canonical().Encode(); link2 != link {
				t.Errorf("Canonical is not stable:\n%s\n%s", link, link2)
			}
		})
	}
}

func TestCanonicalForm(t *testing.T) {
	page := PageToken{Key: 9}
	q, _, err := ParseQuery("Task", spQuery(t,
		"status=requested,received&_page_token="+EncodePageToken(page)+"&owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82005&_sort=-_lastUpdated&_count=20&_total=accurate&_format=json"),
		QueryOptions{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"status":           {"requested,received"},
		"owner:identifier": {"https://fhir.nhs.uk/Id/ods-organization-code|B82005"},
		"_sort":            {"-_lastUpdated"},
		"_count":           {"20"},
	}
	if diff := cmp.Diff(want, q.Canonical()); diff != "" {
		t.Errorf("Canonical (-want +got):\n%s", diff)
	}
	if q.Page == nil || *q.Page != page {
		t.Errorf("Page = %v, want %v", q.Page, page)
	}
}

func TestCanonicalOfAHandBuiltQuery(t *testing.T) {
	q := &Query{Type: "Observation", Count: 5, Total: true, Clauses: []Clause{
		{Param: "date", Type: DateParam, Values: []ClauseValue{{Prefix: PrefixGe, Low: utcMicro(t, "2025-01-01T00:00:00Z"), High: utcMicro(t, "2025-01-02T00:00:00Z")}}},
		{Param: "subject", Type: ReferenceParam, Values: []ClauseValue{{TargetID: "p1"}}},
	}}
	want := url.Values{"date": {"ge2025-01-01T00:00:00.000000Z"}, "subject": {"p1"}, "_count": {"5"}}
	if diff := cmp.Diff(want, q.Canonical()); diff != "" {
		t.Errorf("Canonical (-want +got):\n%s", diff)
	}
}

// FuzzParseQueryCanonical checks, for any query that parses, that its
// canonical form parses to the same Query.
func FuzzParseQueryCanonical(f *testing.F) {
	for _, s := range []string{
		"status:not=a,b&owner:identifier=s|v&_sort=-_lastUpdated",
		`code=a\,b|c\|d&_count=0&date=ge2025-03&date=lt2025-04-01T10:00:00 01:00`,
		"subject=Patient/1,https://x/Patient/2/_history/1&patient=3&_id=x&_lastUpdated=sa2025",
		"name:contains=Zoë&given:exact=%20A%20&family=b&_summary=count&_total=accurate",
	} {
		f.Add("Task", s)
		f.Add("Patient", s)
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		f.Fatal(err)
	}
	opts := QueryOptions{Location: loc, DefaultCount: 50, MaxCount: 200}
	f.Fuzz(func(t *testing.T, typ, raw string) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		first, _, err := ParseQuery(typ, params, opts)
		if err != nil {
			return
		}
		link := first.Canonical().Encode()
		again, _, err := ParseQuery(typ, spQuery(t, link), opts)
		if err != nil {
			t.Fatalf("ParseQuery of the canonical %q of %q: %v", link, raw, err)
		}
		first.Page = nil
		if diff := cmp.Diff(first, again, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("the canonical %q of %q parses to another query (-first +again):\n%s", link, raw, diff)
		}
	})
}
