package rest_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestCreateReadUpdateDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		// Create: 201, Location, ETag, Last-Modified, the stored resource back.
		r := c.do("POST", "Patient", validPatient).mustStatus(t, http.StatusCreated)
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, c.base+"/Patient/") || !strings.HasSuffix(loc, "/_history/1") {
			t.Fatalf("Location = %q, want %s/Patient/{id}/_history/1", loc, c.base)
		}
		if et := r.header.Get("ETag"); et != `W/"1"` {
			t.Errorf(`ETag = %q, want W/"1"`, et)
		}
		if lm := r.header.Get("Last-Modified"); lm == "" {
			t.Error("Last-Modified is missing")
		}
		created := r.json(t)
		id, _ := created["id"].(string)
		meta, _ := created["meta"].(map[string]any)
		if id == "" || meta["versionId"] != "1" || meta["lastUpdated"] == nil {
			t.Fatalf("created resource lacks id or meta: %s", r.body)
		}
		// The stored JSON is what was sent, plus id and meta, in the sender's order.
		want := `{"resourceType":"Patient","id":"` + id + `","meta":{"versionId":"1","lastUpdated":"` + meta["lastUpdated"].(string) + `"},` + validPatient[len(`{"resourceType":"Patient",`):]
		if string(r.body) != want {
			t.Errorf("stored body\n got %s\nwant %s", r.body, want)
		}

		// Read and vread return the same bytes.
		got := c.do("GET", "Patient/"+id, nil).mustStatus(t, http.StatusOK)
		if string(got.body) != want {
			t.Errorf("read body differs from create body:\n%s", got.body)
		}
		c.do("GET", "Patient/"+id+"/_history/1", nil).mustStatus(t, http.StatusOK)
		c.do("GET", "Patient/"+id+"/_history/2", nil).mustStatus(t, http.StatusNotFound)
		c.do("GET", "Patient/does-not-exist", nil).mustStatus(t, http.StatusNotFound)

		// Update with the right If-Match: version 2.
		upd := `{"resourceType":"Patient","id":"` + id + `","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],"name":[{"family":"Smith","given":["Joanna"]}]}`
		r = c.do("PUT", "Patient/"+id, upd, "If-Match", `W/"1"`).mustStatus(t, http.StatusOK)
		if et := r.header.Get("ETag"); et != `W/"2"` {
			t.Errorf(`ETag after update = %q, want W/"2"`, et)
		}
		// A stale If-Match is refused with 412 and changes nothing.
		r = c.do("PUT", "Patient/"+id, upd, "If-Match", `W/"1"`).mustStatus(t, http.StatusPreconditionFailed)
		if is := r.issues(t); !strings.Contains(is[0].Diagnostics, "version 2") {
			t.Errorf("412 diagnostics = %q, want it to name the current version", is[0].Diagnostics)
		}
		// The same content again makes no new version.
		r = c.do("PUT", "Patient/"+id, upd).mustStatus(t, http.StatusOK)
		if et := r.header.Get("ETag"); et != `W/"2"` {
			t.Errorf(`ETag after an unchanged update = %q, want W/"2"`, et)
		}

		// Delete: 204; then read is 410 Gone, and history keeps every version.
		c.do("DELETE", "Patient/"+id, nil).mustStatus(t, http.StatusNoContent)
		c.do("GET", "Patient/"+id, nil).mustStatus(t, http.StatusGone)
		c.do("DELETE", "Patient/"+id, nil).mustStatus(t, http.StatusNoContent) // idempotent
		h := c.do("GET", "Patient/"+id+"/_history", nil).mustStatus(t, http.StatusOK).json(t)
		if h["type"] != "history" || h["total"] != float64(3) {
			t.Fatalf("history type %v total %v, want history 3", h["type"], h["total"])
		}
		entries := h["entry"].([]any)
		first := entries[0].(map[string]any)
		if first["request"].(map[string]any)["method"] != "DELETE" {
			t.Errorf("newest history entry is %v, want the DELETE", first["request"])
		}
		c.do("GET", "Patient/"+id+"/_history/3", nil).mustStatus(t, http.StatusGone)

		// Update as create with a client-chosen id: 201.
		r = c.do("PUT", "Patient/nhs-9000000009", `{"resourceType":"Patient","id":"nhs-9000000009"}`).mustStatus(t, http.StatusCreated)
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/Patient/nhs-9000000009/_history/1") {
			t.Errorf("Location = %q", loc)
		}
	})
}

func TestPreferReturn(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		r := c.do("POST", "Patient", validPatient, "Prefer", "return=minimal").mustStatus(t, http.StatusCreated)
		if len(r.body) != 0 {
			t.Errorf("return=minimal body = %s, want none", r.body)
		}
		if r.header.Get("Location") == "" || r.header.Get("ETag") == "" {
			t.Error("return=minimal lacks Location or ETag")
		}
		r = c.do("POST", "Patient", validPatient, "Prefer", "return=OperationOutcome").mustStatus(t, http.StatusCreated)
		if is := r.issues(t); is[0].Severity != "information" || !strings.Contains(is[0].Diagnostics, "created") {
			t.Errorf("return=OperationOutcome issues = %+v", is)
		}
	})
}

func TestConditionalCreate(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		cond := "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
		r1 := c.do("POST", "Patient", validPatient, "If-None-Exist", cond).mustStatus(t, http.StatusCreated)
		r2 := c.do("POST", "Patient", validPatient, "If-None-Exist", cond).mustStatus(t, http.StatusOK)
		if a, b := r1.json(t)["id"], r2.json(t)["id"]; a != b {
			t.Errorf("conditional create made a second Patient: %v and %v", a, b)
		}
		// The NHS number matches with spaces too.
		c.do("POST", "Patient", validPatient, "If-None-Exist", "identifier=https://fhir.nhs.uk/Id/nhs-number|900 000 0009").mustStatus(t, http.StatusOK)
		// Two matches: 412.
		c.do("POST", "Patient", validPatient).mustStatus(t, http.StatusCreated)
		r := c.do("POST", "Patient", validPatient, "If-None-Exist", cond).mustStatus(t, http.StatusPreconditionFailed)
		if is := r.issues(t); is[0].Code != "multiple-matches" {
			t.Errorf("issue code = %q, want multiple-matches", is[0].Code)
		}
	})
}

func TestConditionalUpdateAndDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		q := "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"
		// No match: creates.
		r := c.do("PUT", q, validPatient).mustStatus(t, http.StatusCreated)
		id := r.json(t)["id"].(string)
		// One match: updates that one.
		changed := strings.Replace(validPatient, `"Jo"`, `"Joe"`, 1)
		r = c.do("PUT", q, changed).mustStatus(t, http.StatusOK)
		if got := r.json(t)["id"]; got != id {
			t.Errorf("conditional update changed %v, want %v", got, id)
		}
		// Conditional delete of the one match.
		c.do("DELETE", q, nil).mustStatus(t, http.StatusNoContent)
		c.do("GET", "Patient/"+id, nil).mustStatus(t, http.StatusGone)
		// Without a search: refused.
		c.do("DELETE", "Patient", nil).mustStatus(t, http.StatusBadRequest)
	})
}

func TestHealthAndMetrics(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		c.do("GET", "/healthz", nil).mustStatus(t, http.StatusOK)
		c.do("GET", "/readyz", nil).mustStatus(t, http.StatusOK)
		r := c.do("GET", "Patient/x", nil, "X-Request-Id", "trace-123")
		if got := r.header.Get("X-Request-Id"); got != "trace-123" {
			t.Errorf("X-Request-Id = %q, want the caller's", got)
		}
		if got := c.do("GET", "Patient/x", nil).header.Get("X-Request-Id"); got == "" {
			t.Error("no X-Request-Id made for a request without one")
		}
		m := c.do("GET", "/metrics", nil).mustStatus(t, http.StatusOK)
		if !strings.Contains(string(m.body), `carebridge_http_requests_total{method="GET",route="/fhir/:type/:id",status="404"}`) {
			t.Errorf("metrics lack the request counter by route:\n%.2000s", m.body)
		}
	})
}
