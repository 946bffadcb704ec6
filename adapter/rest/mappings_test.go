package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUnmappedCodesAreWarnedAndReported posts an Observation with a code its
// source's profile cannot map: it is stored (201), the OperationOutcome
// warns about it, and GET /fhir/$unmapped counts it until it is fixed.
func TestUnmappedCodesAreWarnedAndReported(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		patient := `{"resourceType":"Patient","id":"p1","meta":{"source":"urn:carebridge:source:uk-core-gp"},"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}`
		c.do("PUT", "Patient/p1", patient).mustStatus(t, http.StatusCreated)
		obs := func(system, code string) string {
			return `{"resourceType":"Observation","id":"o1","meta":{"source":"urn:carebridge:source:uk-core-gp"},"status":"final","code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]},"subject":{"reference":"Patient/p1"}}`
		}
		r := c.do("PUT", "Observation/o1", obs("https://emis.example/codes", "EMISBMI"), "Prefer", "return=OperationOutcome").mustStatus(t, http.StatusCreated)
		issues := r.issues(t)
		if len(issues) != 2 || issues[0].Code != "informational" || issues[0].Diagnostics != "Observation/o1 created" ||
			issues[1].Severity != "warning" || issues[1].Code != "code-invalid" || issues[1].Expression != "Observation.code" ||
			!strings.Contains(issues[1].Diagnostics, "https://emis.example/codes|EMISBMI") {
			t.Errorf("issues = %+v, want what was done, then one code-invalid warning at Observation.code", issues)
		}
		report := c.do("GET", "$unmapped", nil).mustStatus(t, http.StatusOK).json(t)
		want := map[string]any{"resourceType": "Parameters", "parameter": []any{map[string]any{"name": "item", "part": []any{
			map[string]any{"name": "profile", "valueString": "uk-core-gp"},
			map[string]any{"name": "kind", "valueCode": "code"},
			map[string]any{"name": "system", "valueUri": "https://emis.example/codes"},
			map[string]any{"name": "code", "valueString": "EMISBMI"},
			map[string]any{"name": "resources", "valueInteger": float64(1)},
		}}}}
		if diff := cmp.Diff(want, report); diff != "" {
			t.Errorf("$unmapped (-want +got):\n%s", diff)
		}
		// Fixed at the source: the report empties.
		c.do("PUT", "Observation/o1", obs("http://snomed.info/sct", "60621009")).mustStatus(t, http.StatusOK)
		report = c.do("GET", "$unmapped", nil).mustStatus(t, http.StatusOK).json(t)
		if _, has := report["parameter"]; has {
			t.Errorf("after the fix, $unmapped = %v, want no items", report)
		}
	})
}
