package fhir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ixValue parses a JSON resource written in a test.
func ixValue(t testing.TB, s string) Value {
	t.Helper()
	v, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJSON: %v", err)
	}
	return v
}

// indexOrder compares Index values whatever the order of their entries.
var indexOrder = cmp.Options{
	cmpopts.EquateEmpty(),
	cmpopts.SortSlices(func(a, b TokenEntry) bool {
		return a.Param+"\x00"+a.System+"\x00"+a.Code < b.Param+"\x00"+b.System+"\x00"+b.Code
	}),
	cmpopts.SortSlices(func(a, b ReferenceEntry) bool {
		return strings.Join([]string{a.Param, a.TargetType, a.TargetID, a.URL, a.IdentifierSystem, a.IdentifierValue}, "\x00") <
			strings.Join([]string{b.Param, b.TargetType, b.TargetID, b.URL, b.IdentifierSystem, b.IdentifierValue}, "\x00")
	}),
	cmpopts.SortSlices(func(a, b DateEntry) bool {
		return a.Param < b.Param || a.Param == b.Param && (a.Low < b.Low || a.Low == b.Low && a.High < b.High)
	}),
	cmpopts.SortSlices(func(a, b StringEntry) bool { return a.Param+"\x00"+a.Value < b.Param+"\x00"+b.Value }),
}

// only keeps the entries of the named parameters, so that a test looks at
// what it is about.
func only(ix *Index, params ...string) *Index {
	keep := func(p string) bool {
		return len(params) == 0 || strings.Contains(" "+strings.Join(params, " ")+" ", " "+p+" ")
	}
	out := &Index{}
	for _, e := range ix.Tokens {
		if keep(e.Param) {
			out.Tokens = append(out.Tokens, e)
		}
	}
	for _, e := range ix.References {
		if keep(e.Param) {
			out.References = append(out.References, e)
		}
	}
	for _, e := range ix.Dates {
		if keep(e.Param) {
			out.Dates = append(out.Dates, e)
		}
	}
	for _, e := range ix.Strings {
		if keep(e.Param) {
			out.Strings = append(out.Strings, e)
		}
	}
	return out
}

func TestExtractIndexByDataType(t *testing.T) {
	ldn := london(t)
	day := func(param, d string) DateEntry {
		lo, hi, ok := ixDateInterval(d, ldn)
		if !ok {
			t.Fatalf("bad test date %q", d)
		}
		return DateEntry{Param: param, Low: lo, High: hi}
	}
	tests := []struct {
		name   string
		typ    string
		json   string
		params []string // the parameters looked at
		want   Index
	}{
		{
			name: "CodeableConcept gives a token per coding with a code",
			typ:  "Observation", params: []string{"code"},
			json: `{"resourceType":"Observation","code":{"coding":[
				{"system":"http://snomed.info/sct","code":"271594007","display":"Syncope"},
				{"system":"http://read.info/ctv3","code":"X0041"},
				{"system":"http://loinc.org","display":"no code"}],"text":"Fainting"}}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "code", System: "http://snomed.info/sct", Code: "271594007"},
				{Param: "code", System: "http://read.info/ctv3", Code: "X0041"},
			}},
		},
		{
			name: "CodeableConcept arrays give every coding of every concept",
			typ:  "Condition", params: []string{"category"},
			json: `{"resourceType":"Condition","category":[
				{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]},
				{"coding":[{"system":"http://snomed.info/sct","code":"439401001"}]}]}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "category", System: "http://terminology.hl7.org/CodeSystem/condition-category", Code: "problem-list-item"},
				{Param: "category", System: "http://snomed.info/sct", Code: "439401001"},
			}},
		},
		{
			name: "Coding gives its system and code",
			typ:  "Encounter", params: []string{"class"},
			json: `{"resourceType":"Encounter","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}}`,
			want: Index{Tokens: []TokenEntry{{Param: "class", System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "AMB"}}},
		},
		{
			name: "Identifier gives system and value, NHS numbers without spaces or dashes",
			typ:  "Patient", params: []string{"identifier"},
			json: `{"resourceType":"Patient","identifier":[
				{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943 476 5919"},
				{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943-476-5919"},
				{"system":"https://trust.example/mrn","value":"RX1 234"},
				{"value":"LOCAL-1"},
				{"system":"https://trust.example/mrn"}]}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "identifier", System: SystemNHSNumber, Code: "9434765919"},
				{Param: "identifier", System: "https://trust.example/mrn", Code: "RX1 234"},
				{Param: "identifier", Code: "LOCAL-1"},
			}},
		},
		{
			name: "Task.groupIdentifier is a single Identifier",
			typ:  "Task", params: []string{"group-identifier"},
			json: `{"resourceType":"Task","groupIdentifier":{"system":"https://trust.example/referral","value":"R-77"}}`,
			want: Index{Tokens: []TokenEntry{{Param: "group-identifier", System: "https://trust.example/referral", Code: "R-77"}}},
		},
		{
			name: "code gives a token without a system",
			typ:  "Task", params: []string{"status", "intent", "priority"},
			json: `{"resourceType":"Task","status":"requested","intent":"order","priority":"urgent"}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "status", Code: "requested"}, {Param: "intent", Code: "order"}, {Param: "priority", Code: "urgent"},
			}},
		},
		{
			name: "boolean gives true or false",
			typ:  "Patient", params: []string{"active"},
			json: `{"resourceType":"Patient","active":false}`,
			want: Index{Tokens: []TokenEntry{{Param: "active", Code: "false"}}},
		},
		{
			name: "uri, canonical and the meta Codings give the common parameters",
			typ:  "Patient", params: []string{"_profile", "_source", "_tag", "_security"},
			json: `{"resourceType":"Patient","meta":{
				"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient|2.0.1"],
				"source":"https://rio.trust.example/fhir",
				"tag":[{"system":"https://carebridge.example/tag","code":"smi-register"}],
				"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "_profile", Code: "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient|2.0.1"},
				{Param: "_profile", Code: "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"},
				{Param: "_source", Code: "https://rio.trust.example/fhir"},
				{Param: "_tag", System: "https://carebridge.example/tag", Code: "smi-register"},
				{Param: "_security", System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "R"},
			}},
		},
		{
			name: "a date is the day in the server's zone",
			typ:  "Patient", params: []string{"birthdate"},
			json: `{"resourceType":"Patient","birthDate":"1974-07-25"}`,
			want: Index{Dates: []DateEntry{day("birthdate", "1974-07-25")}},
		},
		{
			name: "a partial date is the month it names",
			typ:  "Patient", params: []string{"birthdate"},
			json: `{"resourceType":"Patient","birthDate":"1974-07"}`,
			want: Index{Dates: []DateEntry{day("birthdate", "1974-07")}},
		},
		{
			name: "an instant is its second",
			typ:  "Provenance", params: []string{"recorded"},
			json: `{"resourceType":"Provenance","recorded":"2025-07-01T10:00:00+01:00"}`,
			want: Index{Dates: []DateEntry{{Param: "recorded", Low: utcMicro(t, "2025-07-01T09:00:00Z"), High: utcMicro(t, "2025-07-01T09:00:01Z")}}},
		},
		{
			name: "a Period runs from its start's start to its end's end",
			typ:  "CarePlan", params: []string{"date"},
			json: `{"resourceType":"CarePlan","period":{"start":"2025-01-15","end":"2025-07"}}`,
			want: Index{Dates: []DateEntry{{Param: "date", Low: utcMicro(t, "2025-01-15T00:00:00Z"), High: utcMicro(t, "2025-07-31T23:00:00Z")}}},
		},
		{
			name: "a Period without an end is open",
			typ:  "EpisodeOfCare", params: []string{"date"},
			json: `{"resourceType":"EpisodeOfCare","period":{"start":"2025-01-15T09:30:00Z"}}`,
			want: Index{Dates: []DateEntry{{Param: "date", Low: utcMicro(t, "2025-01-15T09:30:00Z"), High: MaxTime}}},
		},
		{
			name: "a Period without a start is open",
			typ:  "Task", params: []string{"period"},
			json: `{"resourceType":"Task","executionPeriod":{"end":"2025-01-15T09:30:00Z"}}`,
			want: Index{Dates: []DateEntry{{Param: "period", Low: MinTime, High: utcMicro(t, "2025-01-15T09:30:01Z")}}},
		},
		{
			name: "an empty Period and one ending before it starts are skipped",
			typ:  "Encounter", params: []string{"date"},
			json: `{"resourceType":"Encounter","period":{"start":"2025-02-01","end":"2025-01-01"}}`,
			want: Index{},
		},
		{
			name: "string gives its normalised text",
			typ:  "Organization", params: []string{"name"},
			json: `{"resourceType":"Organization","name":"  Leeds and York PARTNERSHIP NHS Foundation Trust ","alias":["LYPFT","Café  Clinic"]}`,
			want: Index{Strings: []StringEntry{
				{Param: "name", Value: "leeds and york partnership nhs foundation trust"},
				{Param: "name", Value: "lypft"},
				{Param: "name", Value: "cafe clinic"},
			}},
		},
		{
			name: "HumanName gives family, given, prefix, suffix and text",
			typ:  "Practitioner", params: []string{"name", "family", "given"},
			json: `{"resourceType":"Practitioner","name":[{"use":"official","text":"Dr Siân Ó Briain","family":"Ó Briain",
				"given":["Siân","Mair"],"prefix":["Dr"],"suffix":["MRCPsych"]}]}`,
			want: Index{Strings: []StringEntry{
				{Param: "name", Value: "o briain"}, {Param: "name", Value: "sian"}, {Param: "name", Value: "mair"},
				{Param: "name", Value: "dr"}, {Param: "name", Value: "mrcpsych"}, {Param: "name", Value: "dr sian o briain"},
				{Param: "family", Value: "o briain"},
				{Param: "given", Value: "sian"}, {Param: "given", Value: "mair"},
			}},
		},
		{
			name: "Address.postalCode gives address-postalcode",
			typ:  "Patient", params: []string{"address-postalcode"},
			json: `{"resourceType":"Patient","address":[{"postalCode":"LS1 4HR"},{"postalCode":"ls1  4hr"},{"city":"Leeds"}]}`,
			want: Index{Strings: []StringEntry{{Param: "address-postalcode", Value: "ls1 4hr"}}},
		},
		{
			name: "equal values are indexed once",
			typ:  "Observation", params: []string{"category"},
			json: `{"resourceType":"Observation","category":[
				{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]},
				{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]}`,
			want: Index{Tokens: []TokenEntry{
				{Param: "category", System: "http://terminology.hl7.org/CodeSystem/observation-category", Code: "vital-signs"},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := ExtractIndex(tc.typ, ixValue(t, tc.json), ldn)
			if err != nil {
				t.Fatalf("ExtractIndex: %v", err)
			}
			if diff := cmp.Diff(&tc.want, only(ix, tc.params...), indexOrder); diff != "" {
				t.Errorf("ExtractIndex (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractIndexRemovesDuplicatesOfLongLists(t *testing.T) {
	// Forty values, ten distinct, of each kind: more than the in-place
	// de-duplication handles, so the entries are sorted and compacted.
	var ids, given, gps, events []string
	for i := range 40 {
		n := string(rune('a' + i%10))
		ids = append(ids, `{"system":"https://trust.example/mrn","value":"`+n+`"}`)
		given = append(given, `"`+strings.ToUpper(n)+`"`)
		gps = append(gps, `{"reference":"Practitioner/`+n+`"}`)
		events = append(events, `"2025-01-0`+string(rune('0'+i%10))+`"`)
	}
	pat := ixValue(t, `{"resourceType":"Patient","identifier":[`+strings.Join(ids, ",")+`],"name":[{"given":[`+strings.Join(given, ",")+
		`]}],"generalPractitioner":[`+strings.Join(gps, ",")+`]}`)
	ix, err := ExtractIndex("Patient", pat, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got := only(ix, "identifier", "given", "general-practitioner")
	if len(got.Tokens) != 10 || len(got.Strings) != 10 || len(got.References) != 10 {
		t.Errorf("got %d tokens, %d strings, %d references; want 10 of each", len(got.Tokens), len(got.Strings), len(got.References))
	}
	obs := ixValue(t, `{"resourceType":"Observation","effectiveTiming":{"event":[`+strings.Join(events, ",")+`]}}`)
	ix, err = ExtractIndex("Observation", obs, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	// 2025-01-00 is not a date: nine distinct days.
	if n := len(only(ix, "date").Dates); n != 9 {
		t.Errorf("got %d dates, want 9", n)
	}
}

func TestExtractIndexAddressAndContactPoint(t *testing.T) {
	// No registered parameter uses these data types yet; check them on
	// parameters made for the test.
	params := []SearchParam{
		{Name: "address", Type: StringParam, paths: []ixPath{ixAt(ixAddress, "address")}},
		{Name: "telecom", Type: TokenParam, paths: []ixPath{ixAt(ixContactPoint, "telecom")}},
	}
	res := ixValue(t, `{"resourceType":"Patient",
		"address":[{"use":"home","text":"123 High Street, Leeds LS1 4HR","line":["123 High Street","Flat 2"],
			"city":"Leeds","district":"West Yorkshire","state":"England","postalCode":"LS1 4HR","country":"GB"}],
		"telecom":[{"system":"phone","value":"0113 869 8975","use":"home"},{"system":"email","value":"jo@example.org"},{"system":"phone"}]}`)
	want := &Index{
		Strings: []StringEntry{
			{Param: "address", Value: "123 high street"}, {Param: "address", Value: "flat 2"},
			{Param: "address", Value: "leeds"}, {Param: "address", Value: "west yorkshire"},
			{Param: "address", Value: "england"}, {Param: "address", Value: "ls1 4hr"},
			{Param: "address", Value: "gb"}, {Param: "address", Value: "123 high street, leeds ls1 4hr"},
		},
		Tokens: []TokenEntry{{Param: "telecom", Code: "0113 869 8975"}, {Param: "telecom", Code: "jo@example.org"}},
	}
	if diff := cmp.Diff(want, extractParams(params, res, time.UTC), indexOrder); diff != "" {
		t.Errorf("extract (-want +got):\n%s", diff)
	}
}

func TestExtractIndexChoiceTypes(t *testing.T) {
	ldn := london(t)
	second := func(param, s string) DateEntry {
		return DateEntry{Param: param, Low: utcMicro(t, s), High: utcMicro(t, s) + 1e6}
	}
	tests := []struct {
		name  string
		typ   string
		json  string
		param string
		want  []DateEntry
	}{
		{"Observation.effectiveDateTime", "Observation",
			`{"resourceType":"Observation","effectiveDateTime":"2021-11-26T15:00:00+00:00"}`, "date",
			[]DateEntry{second("date", "2021-11-26T15:00:00Z")}},
		{"Observation.effectivePeriod", "Observation",
			`{"resourceType":"Observation","effectivePeriod":{"start":"2021-11-26T15:00:00Z","end":"2021-11-26T15:20:00Z"}}`, "date",
			[]DateEntry{{Param: "date", Low: utcMicro(t, "2021-11-26T15:00:00Z"), High: utcMicro(t, "2021-11-26T15:20:01Z")}}},
		{"Observation.effectiveInstant", "Observation",
			`{"resourceType":"Observation","effectiveInstant":"2021-11-26T15:00:00.250Z"}`, "date",
			[]DateEntry{{Param: "date", Low: utcMicro(t, "2021-11-26T15:00:00.25Z"), High: utcMicro(t, "2021-11-26T15:00:00.251Z")}}},
		{"Observation.effectiveTiming events and bounds", "Observation",
			`{"resourceType":"Observation","effectiveTiming":{"event":["2021-11-26T15:00:00Z","2021-11-27T15:00:00Z"],
				"repeat":{"boundsPeriod":{"start":"2021-11-26T00:00:00Z","end":"2021-11-28T00:00:00Z"}}}}`, "date",
			[]DateEntry{second("date", "2021-11-26T15:00:00Z"), second("date", "2021-11-27T15:00:00Z"),
				{Param: "date", Low: utcMicro(t, "2021-11-26T00:00:00Z"), High: utcMicro(t, "2021-11-28T00:00:01Z")}}},
		{"Observation.effectiveString is not a date", "Observation",
			`{"resourceType":"Observation","effectiveString":"last Tuesday"}`, "date", nil},
		{"ServiceRequest.occurrenceDateTime", "ServiceRequest",
			`{"resourceType":"ServiceRequest","occurrenceDateTime":"2025-07-01"}`, "occurrence",
			[]DateEntry{{Param: "occurrence", Low: utcMicro(t, "2025-06-30T23:00:00Z"), High: utcMicro(t, "2025-07-01T23:00:00Z")}}},
		{"ServiceRequest.occurrencePeriod", "ServiceRequest",
			`{"resourceType":"ServiceRequest","occurrencePeriod":{"start":"2025-07-01"}}`, "occurrence",
			[]DateEntry{{Param: "occurrence", Low: utcMicro(t, "2025-06-30T23:00:00Z"), High: MaxTime}}},
		{"ServiceRequest.occurrenceTiming", "ServiceRequest",
			`{"resourceType":"ServiceRequest","occurrenceTiming":{"event":["2025-07-01T10:00:00Z"]}}`, "occurrence",
			[]DateEntry{second("occurrence", "2025-07-01T10:00:00Z")}},
		{"Condition.onsetDateTime", "Condition",
			`{"resourceType":"Condition","onsetDateTime":"2019"}`, "onset-date",
			[]DateEntry{{Param: "onset-date", Low: utcMicro(t, "2019-01-01T00:00:00Z"), High: utcMicro(t, "2020-01-01T00:00:00Z")}}},
		{"Condition.onsetPeriod", "Condition",
			`{"resourceType":"Condition","onsetPeriod":{"start":"2019-03","end":"2019-04"}}`, "onset-date",
			[]DateEntry{{Param: "onset-date", Low: utcMicro(t, "2019-03-01T00:00:00Z"), High: utcMicro(t, "2019-04-30T23:00:00Z")}}},
		{"Condition.onsetAge is not a date", "Condition",
			`{"resourceType":"Condition","onsetAge":{"value":19,"unit":"a"}}`, "onset-date", nil},
		{"Procedure.performedDateTime", "Procedure",
			`{"resourceType":"Procedure","performedDateTime":"2025-01-10T11:00:00Z"}`, "date",
			[]DateEntry{second("date", "2025-01-10T11:00:00Z")}},
		{"Procedure.performedPeriod", "Procedure",
			`{"resourceType":"Procedure","performedPeriod":{"end":"2025-01-10"}}`, "date",
			[]DateEntry{{Param: "date", Low: MinTime, High: utcMicro(t, "2025-01-11T00:00:00Z")}}},
		{"Patient.deceasedDateTime", "Patient",
			`{"resourceType":"Patient","deceasedDateTime":"2024-12-25"}`, "death-date",
			[]DateEntry{{Param: "death-date", Low: utcMicro(t, "2024-12-25T00:00:00Z"), High: utcMicro(t, "2024-12-26T00:00:00Z")}}},
		{"Patient.deceasedBoolean is not a date", "Patient",
			`{"resourceType":"Patient","deceasedBoolean":true}`, "death-date", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := ExtractIndex(tc.typ, ixValue(t, tc.json), ldn)
			if err != nil {
				t.Fatalf("ExtractIndex: %v", err)
			}
			want := &Index{Dates: tc.want}
			if diff := cmp.Diff(want, only(ix, tc.param), indexOrder); diff != "" {
				t.Errorf("ExtractIndex dates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractIndexReferences(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		json   string
		params []string
		want   []ReferenceEntry
	}{
		{
			name: "a relative reference gives its type and id, patient only for a Patient",
			typ:  "Observation", params: []string{"subject", "patient"},
			json: `{"resourceType":"Observation","subject":{"reference":"Patient/p1"}}`,
			want: []ReferenceEntry{
				{Param: "subject", TargetType: "Patient", TargetID: "p1"},
				{Param: "patient", TargetType: "Patient", TargetID: "p1"},
			},
		},
		{
			name: "a versioned reference drops its version",
			typ:  "Provenance", params: []string{"target", "patient"},
			json: `{"resourceType":"Provenance","target":[{"reference":"Patient/p1/_history/3"},{"reference":"Observation/o1/_history/1"}]}`,
			want: []ReferenceEntry{
				{Param: "target", TargetType: "Patient", TargetID: "p1"},
				{Param: "target", TargetType: "Observation", TargetID: "o1"},
				{Param: "patient", TargetType: "Patient", TargetID: "p1"},
			},
		},
		{
			name: "a reference to a Group is a subject but not a patient",
			typ:  "Condition", params: []string{"subject", "patient"},
			json: `{"resourceType":"Condition","subject":{"reference":"Group/g1"}}`,
			want: []ReferenceEntry{{Param: "subject", TargetType: "Group", TargetID: "g1"}},
		},
		{
			name: "an absolute URL fills URL, and its path tells a Patient",
			typ:  "Observation", params: []string{"subject", "patient"},
			json: `{"resourceType":"Observation","subject":{"reference":"https://rio.trust.example/fhir/Patient/123/_history/2"}}`,
			want: []ReferenceEntry{
				{Param: "subject", URL: "https://rio.trust.example/fhir/Patient/123"},
				{Param: "patient", URL: "https://rio.trust.example/fhir/Patient/123"},
			},
		},
		{
			name: "a urn fills URL, and is a patient only when its type says so",
			typ:  "Observation", params: []string{"subject", "patient", "encounter"},
			json: `{"resourceType":"Observation","subject":{"reference":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8","type":"Patient"},
				"encounter":{"reference":"urn:uuid:8c63d621-4d86-4f57-8699-e8e22d49935d"}}`,
			want: []ReferenceEntry{
				{Param: "subject", URL: "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"},
				{Param: "patient", URL: "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"},
				{Param: "encounter", URL: "urn:uuid:8c63d621-4d86-4f57-8699-e8e22d49935d"},
			},
		},
		{
			name: "a urn without a type is not a patient",
			typ:  "Observation", params: []string{"patient"},
			json: `{"resourceType":"Observation","subject":{"reference":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"}}`,
			want: nil,
		},
		{
			name: "a logical reference by NHS number is normalised, and is a patient without a type",
			typ:  "Task", params: []string{"subject", "patient"},
			json: `{"resourceType":"Task","for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943 476 5919"}}}`,
			want: []ReferenceEntry{
				{Param: "subject", IdentifierSystem: SystemNHSNumber, IdentifierValue: "9434765919"},
				{Param: "patient", IdentifierSystem: SystemNHSNumber, IdentifierValue: "9434765919"},
			},
		},
		{
			name: "a logical reference typed as another resource is not a patient",
			typ:  "Task", params: []string{"subject", "patient"},
			json: `{"resourceType":"Task","for":{"type":"Group","identifier":{"system":"https://trust.example/cohort","value":"SMI-1"}}}`,
			want: []ReferenceEntry{{Param: "subject", IdentifierSystem: "https://trust.example/cohort", IdentifierValue: "SMI-1"}},
		},
		{
			name: "a GP practice owner by ODS code",
			typ:  "Task", params: []string{"owner"},
			json: `{"resourceType":"Task","owner":{"type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82005"}}}`,
			want: []ReferenceEntry{{Param: "owner", IdentifierSystem: "https://fhir.nhs.uk/Id/ods-organization-code", IdentifierValue: "B82005"}},
		},
		{
			name: "a reference with a literal and a logical part gives one entry with both",
			typ:  "ServiceRequest", params: []string{"subject", "patient"},
			json: `{"resourceType":"ServiceRequest","subject":{"reference":"Patient/p1",
				"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}}`,
			want: []ReferenceEntry{
				{Param: "subject", TargetType: "Patient", TargetID: "p1", IdentifierSystem: SystemNHSNumber, IdentifierValue: "9434765919"},
				{Param: "patient", TargetType: "Patient", TargetID: "p1", IdentifierSystem: SystemNHSNumber, IdentifierValue: "9434765919"},
			},
		},
		{
			name: "a contained reference and a display are present without a target",
			typ:  "Observation", params: []string{"performer", "patient"},
			json: `{"resourceType":"Observation","performer":[{"reference":"#pr1"},{"display":"Dr Jones"}],"subject":{"reference":"#p1"}}`,
			want: []ReferenceEntry{{Param: "performer"}},
		},
		{
			name: "nested references: Procedure.performer.actor and Encounter.participant.individual",
			typ:  "Procedure", params: []string{"performer"},
			json: `{"resourceType":"Procedure","performer":[{"actor":{"reference":"Practitioner/pr1"}},{"actor":{"reference":"Organization/o1"}},{"function":{}}]}`,
			want: []ReferenceEntry{
				{Param: "performer", TargetType: "Practitioner", TargetID: "pr1"},
				{Param: "performer", TargetType: "Organization", TargetID: "o1"},
			},
		},
		{
			name: "care-manager keeps only references to a Practitioner",
			typ:  "EpisodeOfCare", params: []string{"care-manager"},
			json: `{"resourceType":"EpisodeOfCare","careManager":{"reference":"PractitionerRole/pr1"}}`,
			want: nil,
		},
		{
			name: "a malformed reference keeps its identifier",
			typ:  "Encounter", params: []string{"service-provider"},
			json: `{"resourceType":"Encounter","serviceProvider":{"reference":"Organization?identifier=x|1",
				"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RGD"}}}`,
			want: []ReferenceEntry{{Param: "service-provider", IdentifierSystem: "https://fhir.nhs.uk/Id/ods-organization-code", IdentifierValue: "RGD"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := ExtractIndex(tc.typ, ixValue(t, tc.json), time.UTC)
			if err != nil {
				t.Fatalf("ExtractIndex: %v", err)
			}
			if diff := cmp.Diff(&Index{References: tc.want}, only(ix, tc.params...), indexOrder); diff != "" {
				t.Errorf("ExtractIndex references (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractIndexRefusesWhatIsNotAResourceOfTheType(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		json string
	}{
		{"a type without search parameters", "Bundle", `{"resourceType":"Bundle"}`},
		{"a JSON array", "Patient", `[]`},
		{"a resource of another type", "Patient", `{"resourceType":"Observation"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ExtractIndex(tc.typ, ixValue(t, tc.json), time.UTC)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ExtractIndex: err = %v, want an Invalid *Error", err)
			}
		})
	}
}

// fixtureResources returns the NHS BaRS example resources, by file name.
func fixtureResources(t testing.TB) map[string]Value {
	t.Helper()
	files, err := filepath.Glob("../testdata/fixtures/external/nhs-bars/resources/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string]Value{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = v
	}
	return out
}

func TestExtractIndexOnNHSExamples(t *testing.T) {
	ldn := london(t)
	res := fixtureResources(t)
	for name, v := range res {
		t.Run(name, func(t *testing.T) {
			typ := v.Str("resourceType")
			ix, err := ExtractIndex(typ, v, ldn)
			if err != nil {
				t.Fatalf("ExtractIndex: %v", err)
			}
			if len(ix.Tokens)+len(ix.References)+len(ix.Dates)+len(ix.Strings) == 0 {
				t.Errorf("ExtractIndex found nothing in a %s", typ)
			}
			again, _ := ExtractIndex(typ, v, ldn)
			if diff := cmp.Diff(ix, again); diff != "" {
				t.Errorf("ExtractIndex is not deterministic:\n%s", diff)
			}
		})
	}

	t.Run("the BaRS Patient", func(t *testing.T) {
		v := res["examples-process_message-POST-body--02-Patient.json"]
		ix, err := ExtractIndex("Patient", v, ldn)
		if err != nil {
			t.Fatal(err)
		}
		want := &Index{
			Tokens: []TokenEntry{
				{Param: "_profile", Code: "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"},
				{Param: "gender", Code: "male"},
				{Param: "identifier", System: SystemNHSNumber, Code: "9476719931"},
			},
			References: []ReferenceEntry{{Param: "general-practitioner", URL: "urn:uuid:c8c21609-cb27-4958-8eb2-37c76f3def85"}},
			Dates:      []DateEntry{{Param: "birthdate", Low: utcMicro(t, "1974-12-25T00:00:00Z"), High: utcMicro(t, "1974-12-26T00:00:00Z")}},
			Strings: []StringEntry{
				{Param: "address-postalcode", Value: "ls1 4hr"},
				{Param: "family", Value: "chalmers"},
				{Param: "given", Value: "peter"},
				{Param: "name", Value: "chalmers"}, {Param: "name", Value: "peter"}, {Param: "name", Value: "mr"},
				{Param: "name", Value: "mr peter chalmers"},
			},
		}
		if diff := cmp.Diff(want, ix, indexOrder); diff != "" {
			t.Errorf("ExtractIndex (-want +got):\n%s", diff)
		}
	})

	t.Run("the BaRS ServiceRequest", func(t *testing.T) {
		v := res["examples-process_message-request-ValidationRequest-POST---01-ServiceRequest.json"]
		ix, err := ExtractIndex("ServiceRequest", v, ldn)
		if err != nil {
			t.Fatal(err)
		}
		want := &Index{
			Tokens: []TokenEntry{
				{Param: "_profile", Code: "https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-validation"},
				{Param: "category", System: "https://fhir.nhs.uk/CodeSystem/message-category-servicerequest", Code: "validation"},
				{Param: "intent", Code: "plan"},
				{Param: "status", Code: "active"},
			},
			References: []ReferenceEntry{
				{Param: "based-on", URL: "urn:uuid:68d3c42e-f76e-4f66-9498-d96e1040c81c"},
				{Param: "encounter", URL: "urn:uuid:8c63d621-4d86-4f57-8699-e8e22d49935d"},
				{Param: "performer", URL: "urn:uuid:d482d092-6efc-4eef-b4a0-730718b1fbfd"},
				{Param: "requester", URL: "urn:uuid:7d948662-bade-450e-b6c5-9bb6ee39cb56"},
				{Param: "subject", URL: "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"},
			},
			Dates: []DateEntry{{Param: "occurrence", Low: utcMicro(t, "2021-11-26T15:00:00Z"), High: utcMicro(t, "2021-11-26T15:20:01Z")}},
		}
		if diff := cmp.Diff(want, ix, indexOrder); diff != "" {
			t.Errorf("ExtractIndex (-want +got):\n%s", diff)
		}
	})
}

// TestExtractIndexSkipsBadShapes replaces, one at a time, every element of
// the example resources with values of every other JSON kind: extraction
// must never panic, and must still succeed.
func TestExtractIndexSkipsBadShapes(t *testing.T) {
	replacements := []Value{{}, String("x"), Number("1"), Bool(true), Object(), Array(), Array(String("x")), Object(Member{Name: "reference", Value: Number("2")})}
	for name, res := range fixtureResources(t) {
		typ := res.Str("resourceType")
		n := 0
		var mutate func(v *Value)
		mutate = func(v *Value) {
			orig := *v
			for _, r := range replacements {
				*v = r
				if _, err := ExtractIndex(typ, res, time.UTC); err != nil {
					// Only a changed resourceType may make it fail.
					if !errors.Is(err, ErrInvalid) {
						t.Errorf("%s: ExtractIndex: %v", name, err)
					}
				}
				n++
			}
			*v = orig
			switch orig.Kind() {
			case JSONObject:
				for i := range v.Members() {
					mutate(&v.members[i].Value)
				}
			case JSONArray:
				for i := range v.Items() {
					mutate(v.ItemPtr(i))
				}
			}
		}
		for i := range res.Members() {
			mutate(&res.members[i].Value)
		}
		if n == 0 {
			t.Errorf("%s: nothing was mutated", name)
		}
	}
}

func FuzzExtractIndex(f *testing.F) {
	f.Add("Observation", []byte(`{"resourceType":"Observation","code":{"coding":[{"system":"s","code":"c"}]},"effectivePeriod":{"start":"2025"}}`))
	f.Add("Patient", []byte(`{"resourceType":"Patient","name":[{"given":["A",1,null]}],"birthDate":"2025-02-29"}`))
	f.Add("Task", []byte(`{"resourceType":"Task","for":{"reference":"/"},"owner":{"reference":"Organization/_history/"}}`))
	f.Add("Provenance", []byte(`{"resourceType":"Provenance","target":[{"reference":"https://x/Patient/1/_history/"}]}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		v, err := ParseJSON(data)
		if err != nil {
			return
		}
		ix, err := ExtractIndex(typ, v, time.UTC)
		if err != nil {
			return
		}
		for _, d := range ix.Dates {
			if d.Low >= d.High {
				t.Errorf("empty interval %+v", d)
			}
		}
	})
}

// benchObservation is a realistic Observation as a trust sends it: a QRISK3
// score with identifiers, codes, category, subject by NHS number and
// reference, encounter, performer and basedOn.
const benchObservation = `{
  "resourceType": "Observation",
  "id": "0190f7a4-3c2e-7d1a-9b7e-2d4c6f8a1b3c",
  "meta": {"versionId": "1", "lastUpdated": "2025-06-12T10:15:02.123Z",
    "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation"],
    "source": "https://rio.trust.example/fhir",
    "tag": [{"system": "https://carebridge.example/tag", "code": "smi-health-check"}]},
  "identifier": [{"system": "https://trust.example/Id/observation", "value": "OBS-2025-000123"}],
  "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey", "display": "Survey"}]}],
  "code": {"coding": [
    {"system": "http://snomed.info/sct", "code": "1085871000000105", "display": "QRISK3 cardiovascular disease 10 year risk calculator score"},
    {"system": "http://read.info/ctv3", "code": "XaQVY"}]},
  "subject": {"reference": "Patient/0190f7a4-1111-7d1a-9b7e-2d4c6f8a1b3c",
    "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "943 476 5919"}, "display": "Peter CHALMERS"},
  "encounter": {"reference": "Encounter/0190f7a4-2222-7d1a-9b7e-2d4c6f8a1b3c"},
  "effectiveDateTime": "2025-06-12T09:40:00+01:00",
  "issued": "2025-06-12T10:15:00.000+01:00",
  "performer": [{"reference": "Practitioner/0190f7a4-3333-7d1a-9b7e-2d4c6f8a1b3c"},
    {"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RGD"}}],
  "basedOn": [{"reference": "ServiceRequest/0190f7a4-4444-7d1a-9b7e-2d4c6f8a1b3c"}],
  "valueQuantity": {"value": 12.4, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
  "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H"}]}]
}`

func BenchmarkExtractIndex(b *testing.B) {
	v := ixValue(b, benchObservation)
	loc := london(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ExtractIndex("Observation", v, loc); err != nil {
			b.Fatal(err)
		}
	}
}
