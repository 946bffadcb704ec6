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

func TestHealthCheckOperationAndReport(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := newCheckServer(t, b.open(t))
			c.do("POST", "", checkPerson).mustStatus(t, http.StatusOK)
			// The trust records a blood pressure the practice has not.
			c.do("POST", "", `{"resourceType":"Bundle","type":"transaction","entry":[
			 {"resource":{"resourceType":"Observation","meta":{"source":"urn:carebridge:source:uk-core-trust"},"status":"final",
			   "code":{"coding":[{"system":"http://snomed.info/sct","code":"75367002"}]},
			   "subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}},"effectiveDateTime":"2026-05-03",
			   "component":[{"code":{"coding":[{"system":"http://snomed.info/sct","code":"271649006"}]},"valueQuantity":{"value":150,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			                {"code":{"coding":[{"system":"http://snomed.info/sct","code":"271650006"}]},"valueQuantity":{"value":85,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]},
			  "request":{"method":"PUT","url":"Observation/hc-bp"}}]}`).mustStatus(t, http.StatusOK)

			got := c.do("GET", "Patient/hc-p1/$health-check?date=2026-11-23", nil).mustStatus(t, http.StatusOK)
			v, err := fhir.DecodeResource(got.body)
			if err != nil {
				t.Fatalf("$health-check is not valid FHIR: %v\n%s", err, got.body)
			}
			text := string(got.body)
			for _, want := range []string{
				`"name":"nhsNumber"`, `"value":"9434765919"`,
				`"valueCode":"blood-pressure"`, `"valueCode":"secondary"`, // done by the trust only
				`"reference":"Observation/hc-bp/_history/1"`, `"reference":"Observation/hc-bmi/_history/1"`,
				`"valueCode":"bmi-high"`, `"valueCode":"blood-pressure-high"`,
				`"valueCode":"write-back"`, `"valueCode":"missing-component"`,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("$health-check lacks %s:\n%s", want, fhir.Indent(got.body))
				}
			}
			if v.Str("resourceType") != "Parameters" {
				t.Errorf("resourceType %s", v.Str("resourceType"))
			}
			meta := string(c.do("GET", "metadata", nil).mustStatus(t, http.StatusOK).body)
			for _, op := range []string{"health-check", "health-check-report", "reconcile", "unmapped"} {
				if !strings.Contains(meta, `"name":"`+op+`"`) {
					t.Errorf("the CapabilityStatement does not list $%s", op)
				}
			}
			// The read of the Patient itself still works beside the operation.
			c.do("GET", "Patient/hc-p1", nil).mustStatus(t, http.StatusOK)

			report := c.do("GET", "$health-check-report?date=2026-11-23&kind=practice", nil).mustStatus(t, http.StatusOK)
			bundle, err := fhir.DecodeResource(report.body)
			if err != nil {
				t.Fatalf("the report is not valid FHIR: %v\n%s", err, report.body)
			}
			entries, _ := bundle.Get("entry")
			if entries.Len() != 1 || !strings.Contains(string(report.body), `"value":"A12345"`) {
				t.Errorf("practice report: %d entries, want one for A12345:\n%s", entries.Len(), fhir.Indent(report.body))
			}
			// A numerator of 1 (BMI done) over 1 eligible person.
			if !strings.Contains(string(report.body), `"measureScore":{"value":1.0000}`) {
				t.Errorf("no score of 1 in the practice report:\n%s", fhir.Indent(report.body))
			}

			for _, bad := range []struct{ path, want string }{
				{"Patient/hc-p1/$health-check?date=tomorrow", "date must be a day"},
				{"Patient/hc-p1/$health-check?mode=monthly", "mode must be rolling or qof"},
				{"Patient/hc-p1/$health-check?when=2026-01-01", `parameter "when" is not supported`},
				{"$health-check-report?kind=ward", "kind must be practice, pcn or trust"},
			} {
				r := c.do("GET", bad.path, nil)
				if r.status != http.StatusBadRequest || !strings.Contains(r.issues(t)[0].Diagnostics, bad.want) {
					t.Errorf("GET %s: %d %s, want 400 saying %q", bad.path, r.status, r.body, bad.want)
				}
			}
			if r := c.do("GET", "Patient/nobody/$health-check", nil); r.status != http.StatusNotFound {
				t.Errorf("an unknown Patient: %d, want 404", r.status)
			}
		})
	}
}
