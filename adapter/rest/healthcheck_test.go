package rest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// newCheckServer is newServer with the health check on, in rolling mode.
func newCheckServer(t *testing.T, st store.Store) *client {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := healthcheck.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	reg := shippedMappings(t)
	gw := adapter.New(st, adapter.Config{Location: loc, Now: clk.now, Mappings: reg,
		HealthCheck: &healthcheck.Config{Rules: rules, Location: loc, CodeSetsVersion: reg.CodeSetsVersion()}})
	prom := prometheus.NewRegistry()
	srv, err := rest.NewServer(rest.Config{MaxBodyBytes: 64 << 10, Version: "test"}, gw, slog.New(slog.NewTextHandler(io.Discard, nil)), prom, prom)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &client{t: t, base: ts.URL + "/fhir", root: ts.URL}
}

// checkPerson is a GP transaction Bundle: a person on the SMI register at
// practice A12345 since 2015, with a BMI in May 2026.
const checkPerson = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:3b1f4a8e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","meta":{"source":"urn:carebridge:source:uk-core-gp"},
   "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],
   "generalPractitioner":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}}]},
  "request":{"method":"PUT","url":"Patient/hc-p1"}},
 {"resource":{"resourceType":"Condition","meta":{"source":"urn:carebridge:source:uk-core-gp"},
   "code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/hc-p1"},"onsetDateTime":"2015-03-01"},
  "request":{"method":"PUT","url":"Condition/hc-c1"}},
 {"resource":{"resourceType":"Observation","meta":{"source":"urn:carebridge:source:uk-core-gp"},"status":"final",
   "code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"Patient/hc-p1"},
   "effectiveDateTime":"2026-05-03","valueQuantity":{"value":31.5,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}},
  "request":{"method":"PUT","url":"Observation/hc-bmi"}}]}`

func TestReconcileOperation(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := newCheckServer(t, b.open(t))
			c.do("POST", "", checkPerson).mustStatus(t, http.StatusOK)
			// The write raised the Tasks at today's date; a run at a
			// date two years on raises the next cycle's, then nothing.
			got := c.do("POST", "$reconcile?date=2028-12-01", nil).mustStatus(t, http.StatusOK)
			params := parameters(t, got.body)
			if params["date"] != "2028-12-01" || params["people"] != "1" || params["eligible"] != "1" || params["tasksRaised"] == "0" {
				t.Errorf("first run: %v", params)
			}
			body := `{"resourceType":"Parameters","parameter":[{"name":"date","valueDate":"2028-12-01"}]}`
			again := parameters(t, c.do("POST", "$reconcile", body).mustStatus(t, http.StatusOK).body)
			if again["tasksRaised"] != "0" || again["tasksCompleted"] != "0" || again["tasksCancelled"] != "0" || again["people"] != "1" {
				t.Errorf("second run: %v, want no change", again)
			}
			for _, bad := range []struct{ path, body, want string }{
				{"$reconcile?date=31/03/2027", "", "date must be a day"},
				{"$reconcile", `{"resourceType":"Parameters","parameter":[{"name":"when","valueDate":"2027-03-31"}]}`, `no parameter "when"`},
				{"$reconcile", `{"resourceType":"Patient"}`, "takes a Parameters resource"},
				{"$reconcile", `{"resourceType":"Parameters","parameter":[{"name":"date","valueString":"2027-03-31"}]}`, "valueDate"},
			} {
				var body any // none, without a Content-Type
				if bad.body != "" {
					body = bad.body
				}
				r := c.do("POST", bad.path, body)
				if r.status != http.StatusBadRequest || len(r.issues(t)) == 0 || !strings.Contains(r.issues(t)[0].Diagnostics, bad.want) {
					t.Errorf("POST %s %s: %d %s, want 400 saying %q", bad.path, bad.body, r.status, r.body, bad.want)
				}
			}
		})
	}
}

// parameters returns the top-level values of a Parameters body as text.
func parameters(t *testing.T, body []byte) map[string]string {
	t.Helper()
	v, err := fhir.DecodeResource(body)
	if err != nil || v.Str("resourceType") != "Parameters" {
		t.Fatalf("not a valid Parameters resource (%v): %s", err, body)
	}
	out := map[string]string{}
	list, _ := v.Get("parameter")
	for _, p := range list.Items() {
		for _, m := range p.Members() {
			if strings.HasPrefix(m.Name, "value") {
				out[p.Str("name")] = m.Value.Text()
			}
		}
	}
	return out
}
