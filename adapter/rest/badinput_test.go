package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const validPatient = `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],"name":[{"family":"Smith","given":["Jo"]}],"birthDate":"1980-01-02"}`

// TestBadInputIsRefusedWithOperationOutcome covers every kind of bad input
// the gateway refuses: each gets the right 4xx and an OperationOutcome whose
// issue says what is wrong and where. None is a 500, and none is stored.
func TestBadInputIsRefusedWithOperationOutcome(t *testing.T) {
	big := `{"resourceType":"Patient","name":[{"text":"` + strings.Repeat("x", 70<<10) + `"}]}`
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		want    outcome // Diagnostics is matched as a substring
	}{
		{
			name: "malformed JSON", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patient",` + "\n" + `"name": [}`,
			status: 400, want: outcome{Severity: "error", Code: "structure", Diagnostics: "line 2, column"},
		},
		{
			name: "an unknown element", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patient","colour":"blue"}`,
			status: 400, want: outcome{Severity: "error", Code: "structure", Expression: "Patient.colour", Diagnostics: "unknown element"},
		},
		{
			name: "an unknown element deep inside", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patient","name":[{"family":"Smith","middle":"J"}]}`,
			status: 400, want: outcome{Severity: "error", Code: "structure", Expression: "Patient.name[0].middle", Diagnostics: "unknown element"},
		},
		{
			name: "a resource of another type than the URL", method: "POST", path: "Patient",
			body:   `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`,
			status: 400, want: outcome{Severity: "error", Code: "invalid", Expression: "resourceType", Diagnostics: "the body is a Observation but the URL is for Patient"},
		},
		{
			name: "an unknown resourceType", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patientt"}`,
			status: 400, want: outcome{Severity: "error", Expression: "resourceType", Diagnostics: "Patientt"},
		},
		{
			name: "an id in the body that differs from the URL on update", method: "PUT", path: "Patient/abc",
			body:   `{"resourceType":"Patient","id":"xyz"}`,
			status: 400, want: outcome{Severity: "error", Code: "invalid", Expression: "Patient.id", Diagnostics: `"xyz" does not match the id "abc"`},
		},
		{
			name: "an update without an id in the body", method: "PUT", path: "Patient/abc",
			body:   `{"resourceType":"Patient"}`,
			status: 400, want: outcome{Severity: "error", Code: "required", Expression: "Patient.id"},
		},
		{
			name: "a missing required element", method: "POST", path: "Observation",
			body:   `{"resourceType":"Observation","code":{"text":"BMI"}}`,
			status: 400, want: outcome{Severity: "error", Code: "required", Expression: "Observation.status"},
		},
		{
			name: "a code outside a required value set", method: "POST", path: "Observation",
			body:   `{"resourceType":"Observation","status":"finalised","code":{"text":"BMI"}}`,
			status: 400, want: outcome{Severity: "error", Code: "value", Expression: "Observation.status", Diagnostics: "finalised"},
		},
		{
			name: "an impossible date", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patient","birthDate":"1980-02-30"}`,
			status: 400, want: outcome{Severity: "error", Code: "value", Expression: "Patient.birthDate"},
		},
		{
			name: "an NHS number that fails the modulus 11 check", method: "POST", path: "Patient",
			body:   `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000001"}]}`,
			status: 422, want: outcome{Severity: "error", Code: "value", Expression: "Patient.identifier[0].value", Diagnostics: "not a valid NHS number"},
		},
		{
			name: "a body over the size limit", method: "POST", path: "Patient",
			body:   big,
			status: 413, want: outcome{Severity: "error", Code: "too-long", Diagnostics: "larger than"},
		},
		{
			name: "a body that is not FHIR JSON", method: "POST", path: "Patient",
			body: `<Patient xmlns="http://hl7.org/fhir"/>`, headers: []string{"Content-Type", "application/fhir+xml"},
			status: 415, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "application/fhir+xml"},
		},
		{
			name: "a body without a Content-Type", method: "POST", path: "Patient",
			body: validPatient, headers: []string{"Content-Type", ""},
			status: 415, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "Content-Type is missing"},
		},
		{
			name: "a body in another charset", method: "POST", path: "Patient",
			body: validPatient, headers: []string{"Content-Type", "application/fhir+json; charset=latin1"},
			status: 415, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "latin1"},
		},
		{
			name: "a request for XML", method: "GET", path: "Patient",
			headers: []string{"Accept", "application/fhir+xml"},
			status:  406, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "application/fhir+xml"},
		},
		{
			name: "a _format other than JSON", method: "GET", path: "Patient?_format=xml",
			status: 406, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "xml"},
		},
		{
			name: "an empty body", method: "POST", path: "Patient", body: "",
			status: 400, want: outcome{Severity: "error", Code: "required", Diagnostics: "no body"},
		},
		{
			name: "a resource type the server does not serve", method: "GET", path: "Medication/1",
			status: 404, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "Medication"},
		},
		{
			name: "an unknown search parameter", method: "GET", path: "Task?ownr=A12345",
			status: 400, want: outcome{Severity: "error", Expression: "ownr", Diagnostics: "ownr"},
		},
		{
			name: "a search date that is not a date", method: "GET", path: "Observation?date=2025-13",
			status: 400, want: outcome{Severity: "error", Expression: "date"},
		},
		{
			name: "PATCH", method: "PATCH", path: "Patient/abc", body: `[]`,
			status: 405, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "PATCH is not supported"},
		},
		{
			name: "POST to a resource's id", method: "POST", path: "Patient/abc", body: validPatient,
			status: 405, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "it takes GET, PUT, DELETE"},
		},
		{
			name: "a conditional delete of a type the server does not serve", method: "DELETE", path: "Medication",
			status: 404, want: outcome{Severity: "error", Code: "not-supported", Diagnostics: "Medication"},
		},
		{
			name: "a path that is not an endpoint", method: "GET", path: "/nowhere",
			status: 404, want: outcome{Severity: "error", Code: "not-found"},
		},
		{
			name: "a Bundle of type message posted to the base", method: "POST", path: "",
			body:   `{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Patient"}}]}`,
			status: 400, want: outcome{Severity: "error", Code: "not-supported", Expression: "Bundle.type", Diagnostics: "'transaction' and 'batch'"},
		},
		{
			name: "a resource posted to the base", method: "POST", path: "",
			body:   validPatient,
			status: 400, want: outcome{Severity: "error", Expression: "resourceType", Diagnostics: "accepts a Bundle, not a Patient"},
		},
		{
			name: "a transaction entry without a request", method: "POST", path: "",
			body:   `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + validPatient + `}]}`,
			status: 400, want: outcome{Severity: "error", Code: "required", Expression: "Bundle.entry[0].request"},
		},
		{
			name: "an invalid resource inside a transaction", method: "POST", path: "",
			body: `{"resourceType":"Bundle","type":"transaction","entry":[` +
				`{"resource":` + validPatient + `,"request":{"method":"POST","url":"Patient"}},` +
				`{"resource":{"resourceType":"Observation","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}}]}`,
			status: 400, want: outcome{Severity: "error", Code: "required", Expression: "Bundle.entry[1].resource.status"},
		},
	}
	eachBackend(t, func(t *testing.T, c *client) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.method == "POST" || tc.method == "PUT" || tc.method == "PATCH" {
					body = tc.body
				}
				r := c.do(tc.method, tc.path, body, tc.headers...)
				r.mustStatus(t, tc.status)
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
					t.Errorf("Content-Type = %q, want application/fhir+json", ct)
				}
				issues := r.issues(t)
				if len(issues) == 0 {
					t.Fatalf("no issues in %s", r.body)
				}
				got := issues[0]
				if !strings.Contains(got.Diagnostics, tc.want.Diagnostics) {
					t.Errorf("diagnostics = %q, want it to contain %q", got.Diagnostics, tc.want.Diagnostics)
				}
				got.Diagnostics = tc.want.Diagnostics
				if tc.want.Code == "" {
					got.Code = ""
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("first issue (-want +got):\n%s", diff)
				}
			})
		}
		// Nothing of the above was stored.
		r := c.do("GET", "Patient?_summary=count", nil).mustStatus(t, http.StatusOK)
		if total := r.json(t)["total"]; total != float64(0) {
			t.Errorf("after refusals, Patient total = %v, want 0", total)
		}
	})
}
