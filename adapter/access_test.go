package adapter_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

const accessNHS = "9434765919"

// client returns a context in which a client of organisation ods, on side,
// acts with the meta.source of profile source.
func client(id, ods, side, source string) context.Context {
	return adapter.WithActor(context.Background(), adapter.Actor{ODS: ods, Side: side, Client: id, Source: source + "#" + id})
}

// putAs stores resources (JSON, without meta.source) in one transaction
// Bundle of PUTs made by the client acting in ctx.
func putAs(ctx context.Context, t *testing.T, gw *adapter.Gateway, resources ...string) {
	t.Helper()
	var entries []any
	for _, r := range resources {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatalf("test resource %s: %v", r, err)
		}
		entries = append(entries, map[string]any{
			"resource": m,
			"request":  map[string]any{"method": "PUT", "url": m["resourceType"].(string) + "/" + m["id"].(string)},
		})
	}
	if _, err := gw.ProcessBundle(ctx, mustBundle(t, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})); err != nil {
		t.Fatalf("ProcessBundle: %v", err)
	}
}

// total searches typ as the client in ctx and returns the total.
func total(ctx context.Context, t *testing.T, gw *adapter.Gateway, typ string, params url.Values) int {
	t.Helper()
	page, err := gw.Search(ctx, typ, params, false)
	if err != nil {
		t.Fatalf("search %s: %v", typ, err)
	}
	return page.Result.Total
}

// TestOrganisationBoundAccess runs the access policy over one person
// known to a GP practice and a trust, with another practice and another
// trust looking on: who sees what through reads, searches and history,
// who may change what, and what the audit trail keeps.
func TestOrganisationBoundAccess(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newGateway(t, st)
		gpA := client("gp-a", practice, adapter.SidePrimary, gpSource)
		gpB := client("gp-b", "B23456", adapter.SidePrimary, gpSource)
		trust := client("trust-x", "RXX", adapter.SideSecondary, mhSource)
		otherTrust := client("trust-y", "RYY", adapter.SideSecondary, mhSource)

		putAs(gpA, t, gw,
			`{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+accessNHS+`"}],
			  "birthDate":"1980-01-02","generalPractitioner":[{"identifier":{"system":"`+odsSystem+`","value":"`+practice+`"}}]}`,
			`{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
			  "code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01"}`)
		putAs(trust, t, gw,
			`{"resourceType":"Patient","id":"tp1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+accessNHS+`"}],"birthDate":"1980-01-02"}`,
			`{"resourceType":"Condition","id":"tc1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
			  "code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/tp1"},"onsetDateTime":"2016-03-01"}`)

		// The practice the person is registered with and the trust that
		// sent data about them see both sides; the others see nothing.
		for _, c := range []struct {
			name  string
			ctx   context.Context
			typ   string
			total int
		}{
			{"registered practice, Conditions", gpA, "Condition", 2},
			{"registered practice, Patients", gpA, "Patient", 2},
			{"sending trust, Conditions", trust, "Condition", 2},
			{"another practice, Conditions", gpB, "Condition", 0},
			{"another practice, Patients", gpB, "Patient", 0},
			{"another trust, Patients", otherTrust, "Patient", 0},
		} {
			if got := total(c.ctx, t, gw, c.typ, url.Values{"_count": {"1"}}); got != c.total {
				t.Errorf("%s: total %d, want %d", c.name, got, c.total)
			}
		}
		if _, err := gw.Read(gpA, "Condition", "tc1"); err != nil {
			t.Errorf("registered practice reads the trust's Condition: %v", err)
		}
		if _, err := gw.Read(trust, "Condition", "c1"); err != nil {
			t.Errorf("sending trust reads the practice's Condition: %v", err)
		}
		for name, read := range map[string]func() error{
			"read":             func() error { _, err := gw.Read(gpB, "Patient", "p1"); return err },
			"vread":            func() error { _, err := gw.VRead(gpB, "Patient", "p1", 1); return err },
			"instance history": func() error { _, err := gw.History(gpB, "Patient", "p1", nil); return err },
		} {
			err := read()
			if fhir.KindOf(err) != fhir.NotFound || !strings.Contains(err.Error(), "is not known") {
				t.Errorf("another practice, %s: %v, want not known", name, err)
			}
		}
		if h, err := gw.History(otherTrust, "Condition", "", nil); err != nil || h.Result.Total != 0 || len(h.Result.Versions) != 0 {
			t.Errorf("another trust, type history: %d versions, total %d, %v; want none", len(h.Result.Versions), h.Result.Total, err)
		}

		// Writes: only the writer changes a resource; meta.source is
		// stamped, and one naming another sender is refused.
		cond := resource(t, `{"resourceType":"Condition","id":"c1","code":{"text":"changed"},"subject":{"reference":"Patient/p1"}}`)
		_, err := gw.Update(trust, "Condition", "c1", cond, "")
		wantRefusal(t, "the trust changes the practice's Condition", err, fhir.Forbidden, "Condition", "written by another organisation")
		_, err = gw.Delete(gpB, "Condition", "c1", "")
		wantRefusal(t, "another practice deletes it", err, fhir.Forbidden, "", "written by another organisation")
		forged := resource(t, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"meta":{"source":"`+mhSource+`"}}`)
		_, err = gw.Create(gpB, forged, "")
		wantRefusal(t, "a forged meta.source", err, fhir.Forbidden, "Observation.meta.source", "another sender")
		r, err := gw.Read(gpA, "Condition", "c1")
		if err != nil || !strings.Contains(string(r.Body), `"source":"`+gpSource+`#gp-a"`) {
			t.Errorf("the practice's Condition carries %s, %v; want meta.source %s#gp-a", r.Body, err, gpSource)
		}
		// A conditional create sees only what its writer wrote.
		res, err := gw.Create(gpB, resource(t, `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+accessNHS+`"}]}`),
			"identifier=https://fhir.nhs.uk/Id/nhs-number|"+accessNHS)
		if err != nil || res.Status != 201 {
			t.Errorf("another practice's conditional create: status %d, %v; want a new Patient (201)", res.Status, err)
		}

		// Tasks: owner and requester see them; nobody else.
		task := func(requester string) fhir.Value {
			return resource(t, `{"resourceType":"Task","status":"requested","intent":"order",
				"owner":{"identifier":{"system":"`+odsSystem+`","value":"`+practice+`"}},
				"requester":{"identifier":{"system":"`+odsSystem+`","value":"`+requester+`"}}}`)
		}
		_, err = gw.Create(trust, task(practice), "")
		wantRefusal(t, "a Task in another's name", err, fhir.Forbidden, "Task.requester", "requester")
		created, err := gw.Create(trust, task("RXX"), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gw.Read(gpA, "Task", created.Resource.ID); err != nil {
			t.Errorf("the owner reads the Task: %v", err)
		}
		if got := total(gpB, t, gw, "Task", nil); got != 0 {
			t.Errorf("another practice finds %d Tasks, want 0", got)
		}
		if _, err := gw.Read(gpB, "Task", created.Resource.ID); fhir.KindOf(err) != fhir.NotFound {
			t.Errorf("another practice reads the Task: %v, want not found", err)
		}

		// The audit trail: the practice's read names the person; the
		// refused writes are there as failures.
		page, err := st.Audit(context.Background(), store.AuditQuery{Client: "gp-a", Type: "Condition", Resource: "tc1", Count: 10})
		if err != nil || len(page.Records) != 1 || page.Records[0].Person != accessNHS || page.Records[0].Action != "R" || page.Records[0].ODS != practice {
			t.Errorf("audit of the practice's read: %+v, %v; want one read of the person by %s", page.Records, err, practice)
		}
		page, err = st.Audit(context.Background(), store.AuditQuery{Client: "gp-b", Outcome: "4", Count: 10})
		if err != nil || len(page.Records) != 2 {
			t.Errorf("audit of the other practice's refused writes: %d records, %v; want 2", len(page.Records), err)
		}
		for _, rec := range page.Records {
			if _, err := fhir.DecodeResource(rec.Body); err != nil {
				t.Errorf("AuditEvent %s is not valid FHIR: %v\n%s", rec.ID, err, rec.Body)
			}
		}
	})
}

// TestConcurrentReadsAreEachAudited reads one resource from many
// goroutines at once, as one client: each read leaves its own record, in
// the groups the audit queue commits together.
func TestConcurrentReadsAreEachAudited(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newGateway(t, st)
		gp := client("gp-a", practice, adapter.SidePrimary, gpSource)
		putAs(gp, t, gw, `{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+accessNHS+`"}],
			"generalPractitioner":[{"identifier":{"system":"`+odsSystem+`","value":"`+practice+`"}}]}`)
		const readers = 40
		errs := make(chan error, readers)
		for range readers {
			go func() { _, err := gw.Read(gp, "Patient", "p1"); errs <- err }()
		}
		for range readers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		page, err := st.Audit(context.Background(), store.AuditQuery{Client: "gp-a", Action: "R", Count: 100})
		if err != nil || len(page.Records) != readers {
			t.Fatalf("%d read records, %v; want %d", len(page.Records), err, readers)
		}
		for _, r := range page.Records {
			if r.Person != accessNHS {
				t.Errorf("record %s is about %q, want the person read", r.ID, r.Person)
			}
		}
		// The one-entry Bundle that stored the Patient is recorded as a
		// Bundle, about the person, naming no resource of its own.
		page, err = st.Audit(context.Background(), store.AuditQuery{Client: "gp-a", Action: "E", Count: 10})
		if err != nil || len(page.Records) != 1 || page.Records[0].Type != "Bundle" || page.Records[0].Resource != "" || page.Records[0].Person != accessNHS {
			t.Errorf("audit of the Bundle: %+v, %v; want one Bundle record about the person", page.Records, err)
		}
	})
}
