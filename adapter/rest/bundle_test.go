package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const nhs = "https://fhir.nhs.uk/Id/nhs-number"

// transactionBundle is a trust's typical feed: a Patient created only if the
// NHS number is new, a Condition and an Observation pointing at it by
// urn:uuid, and a Task pointing at it with a conditional reference.
const transactionBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:0b3e3ac6-6a6b-4e0b-9d4e-1f6c2f6d9a01",
  "resource":{"resourceType":"Patient","identifier":[{"system":"` + nhs + `","value":"9476719931"}],"name":[{"family":"Chalmers"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=` + nhs + `|9476719931"}},
 {"fullUrl":"urn:uuid:0b3e3ac6-6a6b-4e0b-9d4e-1f6c2f6d9a02",
  "resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"urn:uuid:0b3e3ac6-6a6b-4e0b-9d4e-1f6c2f6d9a01"}},
  "request":{"method":"POST","url":"Condition"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"urn:uuid:0b3e3ac6-6a6b-4e0b-9d4e-1f6c2f6d9a01"},"effectiveDateTime":"2025-02-03","valueQuantity":{"value":27.4,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}},
  "request":{"method":"POST","url":"Observation"}},
 {"resource":{"resourceType":"Task","status":"requested","intent":"order","for":{"reference":"Patient?identifier=` + nhs + `|9476719931"},"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}}},
  "request":{"method":"POST","url":"Task"}}
]}`

func TestTransaction(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		r := c.do("POST", "", transactionBundle).mustStatus(t, http.StatusOK)
		b := r.json(t)
		if b["type"] != "transaction-response" {
			t.Fatalf("type = %v", b["type"])
		}
		entries := b["entry"].([]any)
		var statuses []string
		var locations []string
		for _, e := range entries {
			resp := e.(map[string]any)["response"].(map[string]any)
			statuses = append(statuses, resp["status"].(string))
			locations = append(locations, resp["location"].(string))
			if resp["etag"] != `W/"1"` {
				t.Errorf("etag = %v, want W/\"1\"", resp["etag"])
			}
		}
		if diff := cmp.Diff([]string{"201 Created", "201 Created", "201 Created", "201 Created"}, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		patient := strings.TrimSuffix(locations[0], "/_history/1")
		// Every reference now names the Patient literally.
		for i, loc := range locations[1:] {
			res := c.do("GET", strings.TrimSuffix(loc, "/_history/1"), nil).mustStatus(t, http.StatusOK).json(t)
			ref := res["subject"]
			if ref == nil {
				ref = res["for"]
			}
			if got := ref.(map[string]any)["reference"]; got != patient {
				t.Errorf("entry %d reference = %v, want %s", i+1, got, patient)
			}
		}
		// The Task is found by its owner's ODS code.
		got := ids(t, c.do("GET", "Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A12345", nil).mustStatus(t, http.StatusOK))
		if len(got) != 1 {
			t.Errorf("Task by owner ODS code: %d matches, want 1", len(got))
		}

		// Sent again, the Patient is not duplicated: its entry answers 200.
		r = c.do("POST", "", transactionBundle).mustStatus(t, http.StatusOK)
		first := r.json(t)["entry"].([]any)[0].(map[string]any)["response"].(map[string]any)
		if first["status"] != "200 OK" || first["location"] != locations[0] {
			t.Errorf("retried conditional create answered %v at %v, want 200 OK at %s", first["status"], first["location"], locations[0])
		}
		if n := len(ids(t, c.do("GET", "Patient", nil))); n != 1 {
			t.Errorf("%d Patients after a retry, want 1", n)
		}
	})
}

func TestTransactionIsAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		before := c.do("GET", "Observation?_summary=count", nil).json(t)["total"]
		failing := []struct {
			name   string
			bundle string
			status int
			expr   string
		}{
			{"a dangling urn:uuid reference", `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}},
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":"urn:uuid:0b3e3ac6-6a6b-4e0b-9d4e-1f6c2f6d9aff"}},"request":{"method":"POST","url":"Observation"}}]}`,
				422, "Bundle.entry[1].resource.subject.reference"},
			{"a conditional reference that matches nothing", `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}},
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":"Patient?identifier=` + nhs + `|9434765919"}},"request":{"method":"POST","url":"Observation"}}]}`,
				412, "Bundle.entry[1].resource.subject.reference"},
			{"a stale ifMatch", `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}},
				{"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"y"}},"request":{"method":"PUT","url":"Observation/o1","ifMatch":"W/\"4\""}}]}`,
				412, "Bundle.entry[1].request.ifMatch"},
			{"one resource changed twice", `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"}},"request":{"method":"PUT","url":"Observation/o2"}},
				{"request":{"method":"DELETE","url":"Observation/o2"}}]}`,
				400, "Bundle.entry[1].request.url"},
			{"an unsupported method", `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Observation"}},
				{"request":{"method":"PATCH","url":"Observation/o3"}}]}`,
				400, "Bundle.entry[1].request.method"},
		}
		for _, tc := range failing {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do("POST", "", tc.bundle).mustStatus(t, tc.status)
				if got := r.issues(t)[0].Expression; got != tc.expr {
					t.Errorf("expression = %q, want %q (%s)", got, tc.expr, r.body)
				}
				after := c.do("GET", "Observation?_summary=count", nil).json(t)["total"]
				if after != before {
					t.Errorf("a failed transaction stored something: %v Observations before, %v after", before, after)
				}
			})
		}
	})
}

func TestBatchEntriesAreIndependent(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		batch := `{"resourceType":"Bundle","type":"batch","entry":[
			{"resource":` + validPatient + `,"request":{"method":"POST","url":"Patient"}},
			{"resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":"Patient?identifier=` + nhs + `|9434765919"}},"request":{"method":"POST","url":"Observation"}},
			{"request":{"method":"GET","url":"Patient/nope"}},
			{"request":{"method":"GET","url":"Patient?identifier=9000000009"}}]}`
		r := c.do("POST", "", batch).mustStatus(t, http.StatusOK)
		b := r.json(t)
		if b["type"] != "batch-response" {
			t.Fatalf("type = %v", b["type"])
		}
		var statuses []string
		entries := b["entry"].([]any)
		for _, e := range entries {
			statuses = append(statuses, e.(map[string]any)["response"].(map[string]any)["status"].(string))
		}
		want := []string{"201 Created", "412 Precondition Failed", "404 Not Found", "200 OK"}
		if diff := cmp.Diff(want, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		outcome := entries[1].(map[string]any)["response"].(map[string]any)["outcome"].(map[string]any)
		if outcome["resourceType"] != "OperationOutcome" {
			t.Errorf("failed batch entry has no OperationOutcome: %v", outcome)
		}
		search := entries[3].(map[string]any)["resource"].(map[string]any)
		if search["type"] != "searchset" || search["total"] != float64(1) {
			t.Errorf("GET search entry = %v, want a searchset with the one Patient", search)
		}
	})
}
