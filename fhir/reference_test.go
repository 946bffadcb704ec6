package fhir

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in   string
		want Reference
	}{
		{"Patient/123", Reference{Kind: RefRelative, Type: "Patient", ID: "123"}},
		{"Observation/bp.1-a", Reference{Kind: RefRelative, Type: "Observation", ID: "bp.1-a"}},
		{"Patient/123/_history/4", Reference{Kind: RefRelative, Type: "Patient", ID: "123", Version: "4"}},
		{"https://example.org/fhir/Patient/123", Reference{Kind: RefAbsolute, Type: "Patient", ID: "123", URL: "https://example.org/fhir/Patient/123"}},
		{"https://example.org/fhir/Patient/123/_history/2", Reference{Kind: RefAbsolute, Type: "Patient", ID: "123", Version: "2", URL: "https://example.org/fhir/Patient/123/_history/2"}},
		{"http://example.org/documents/letter.pdf", Reference{Kind: RefAbsolute, URL: "http://example.org/documents/letter.pdf"}},
		{"https://example.org/fhir/Patient?identifier=x", Reference{Kind: RefAbsolute, URL: "https://example.org/fhir/Patient?identifier=x"}},
		{"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8", Reference{Kind: RefUUID, URL: "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"}},
		{"urn:uuid:9589FB37-87A2-48D8-968F-B371429208A8", Reference{Kind: RefUUID, URL: "urn:uuid:9589FB37-87A2-48D8-968F-B371429208A8"}},
		{"urn:oid:2.16.840.1.113883", Reference{Kind: RefOID, URL: "urn:oid:2.16.840.1.113883"}},
		{"urn:ietf:rfc:3986", Reference{Kind: RefAbsolute, URL: "urn:ietf:rfc:3986"}},
		{"#gp", Reference{Kind: RefContained, ID: "gp"}},
		{"#", Reference{Kind: RefContained}},
		{"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", Reference{Kind: RefConditional, Type: "Patient", Query: "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"}},
		{"Patient?", Reference{Kind: RefConditional, Type: "Patient"}},

		// Not references.
		{"", Reference{}},
		{"Patient", Reference{}},
		{"Patient/", Reference{}},
		{"Patients/123", Reference{}},
		{"patient/123", Reference{}},
		{"Patient/12_3", Reference{}},
		{"Patient/123/extra", Reference{}},
		{"Patient/123/_history/", Reference{}},
		{"fhir/Patient/123", Reference{}},
		{"Patient/123 ", Reference{}},
		{"#g p", Reference{}},
		{"#g_p", Reference{}},
		{"urn:uuid:not-a-uuid", Reference{}},
		{"urn:oid:1.02", Reference{}},
		{"Patients?name=x", Reference{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q is %v", tc.in, tc.want.Kind), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseReference(tc.in)); diff != "" {
				t.Errorf("ParseReference(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// refVisit is one call of ForEachReference's function.
type refVisit struct {
	Expression string
	Reference  string
}

func TestForEachReferenceVisitsEveryReference(t *testing.T) {
	const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[
	{"fullUrl":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8","resource":{"resourceType":"Patient",
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009","assigner":{"reference":"Organization/nhse"}}],
		"contained":[{"resourceType":"Practitioner","id":"gp","qualification":[{"code":{"text":"GP"},"issuer":{"reference":"Organization/gmc"}}]}],
		"generalPractitioner":[{"reference":"#gp"},{"reference":"Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|Y12345"}],
		"extension":[{"url":"http://example.org/carer","valueReference":{"reference":"RelatedPerson/r1"}},
			{"url":"http://example.org/complex","extension":[{"url":"who","valueReference":{"display":"a neighbour"}}]}],
		"link":[{"other":{"reference":"Patient/old"},"type":"replaces"}]},
	 "request":{"method":"POST","url":"Patient"}},
	{"resource":{"resourceType":"Observation","status":"final","code":{"text":"BP"},
		"subject":{"reference":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8","extension":[{"url":"http://example.org/via","valueReference":{"reference":"Device/d1"}}]},
		"effectiveDateTime":"2024-01-01",
		"performer":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"Y12345"}}],
		"component":[{"code":{"text":"x"},"valueString":"y"}]},
	 "request":{"method":"POST","url":"Observation"}}]}`
	v, err := DecodeResource([]byte(bundle))
	if err != nil {
		t.Fatalf("DecodeResource: %v", err)
	}
	var got []refVisit
	err = ForEachReference(&v, func(expression string, ref *Value) error {
		got = append(got, refVisit{expression, ref.Str("reference")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []refVisit{
		{"Bundle.entry[0].resource.identifier[0].assigner", "Organization/nhse"},
		{"Bundle.entry[0].resource.contained[0].qualification[0].issuer", "Organization/gmc"},
		{"Bundle.entry[0].resource.generalPractitioner[0]", "#gp"},
		{"Bundle.entry[0].resource.generalPractitioner[1]", "Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|Y12345"},
		{"Bundle.entry[0].resource.extension[0].value.ofType(Reference)", "RelatedPerson/r1"},
		{"Bundle.entry[0].resource.extension[1].extension[0].value.ofType(Reference)", ""},
		{"Bundle.entry[0].resource.link[0].other", "Patient/old"},
		{"Bundle.entry[1].resource.subject", "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"},
		{"Bundle.entry[1].resource.subject.extension[0].value.ofType(Reference)", "Device/d1"},
		{"Bundle.entry[1].resource.performer[0]", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("visits (-want +got):\n%s", diff)
	}
}

func TestForEachReferenceRewritesInPlace(t *testing.T) {
	v, err := DecodeResource([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"BP"},` +
		`"subject":{"reference":"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8","display":"Ann"},` +
		`"performer":[{"reference":"Practitioner?identifier=https://fhir.hl7.org.uk/Id/gmc-number|G1234567"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resolved := map[string]string{
		"urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8":                          "Patient/p1",
		"Practitioner?identifier=https://fhir.hl7.org.uk/Id/gmc-number|G1234567": "Practitioner/gp7",
	}
	err = ForEachReference(&v, func(_ string, ref *Value) error {
		if to, ok := resolved[ref.Str("reference")]; ok {
			ref.Set("reference", String(to))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Observation","status":"final","code":{"text":"BP"},` +
		`"subject":{"reference":"Patient/p1","display":"Ann"},"performer":[{"reference":"Practitioner/gp7"}]}`
	if got := compact(v); got != want {
		t.Errorf("after rewriting:\n got %s\nwant %s", got, want)
	}
}

func TestForEachReferenceStopsAtTheFirstError(t *testing.T) {
	v, err := DecodeResource([]byte(`{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner/a"},{"reference":"Practitioner/b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err = ForEachReference(&v, func(string, *Value) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("ForEachReference = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestForEachReferenceRefusesWhatIsNotAResource(t *testing.T) {
	for _, in := range []string{`{"resourceType":"Patients"}`, `{"reference":"Patient/1"}`, `[]`} {
		v, err := ParseJSON([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		err = ForEachReference(&v, func(string, *Value) error { return nil })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ForEachReference(%s) = %v, want an Invalid error", in, err)
		}
	}
}

func ExampleForEachReference() {
	obs, err := DecodeResource([]byte(`{
		"resourceType": "Observation",
		"status": "final",
		"code": {"text": "Body weight"},
		"subject": {"reference": "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"},
		"performer": [{"reference": "Practitioner/gp7"}]
	}`))
	if err != nil {
		panic(err)
	}
	_ = ForEachReference(&obs, func(expression string, ref *Value) error {
		r := ParseReference(ref.Str("reference"))
		fmt.Println(expression, r.Kind)
		if r.Kind == RefUUID {
			ref.Set("reference", String("Patient/p1")) // the entry's new id
		}
		return nil
	})
	fmt.Println(compact(*obs.Ptr("subject")))
	// Output:
	// Observation.subject uuid
	// Observation.performer[0] relative
	// {"reference":"Patient/p1"}
}
