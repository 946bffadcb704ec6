package fhir

import (
	"strings"
	"testing"
)

func TestPlanBundleRequestURLs(t *testing.T) {
	cases := []struct {
		url     string
		refused string // part of the error, "" when accepted
	}{
		{"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", ""},
		{"Patient?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000009", ""},
		{"Patient/123", ""},
		{"https://example.org/fhir/Patient/123", "must be relative"},
		{"/Patient/123", "must be relative"},
		{"Nonsense?x=https://y", "does not start with a resource type"},
	}
	for _, c := range cases {
		v, err := ParseJSON([]byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + c.url + `"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, entries, err := PlanBundle(v)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		got := ""
		if entries[0].Err != nil {
			got = entries[0].Err.Error()
		}
		if (c.refused == "") != (got == "") || !strings.Contains(got, c.refused) {
			t.Errorf("%s: error %q, want %q", c.url, got, c.refused)
		}
	}
}
