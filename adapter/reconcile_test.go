package adapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/synth"
	"github.com/carebridge/carebridge/fhir"
	"github.com/carebridge/carebridge/mappings"
)

const (
	checkNHS  = "9434765919"
	gpSource  = "urn:carebridge:source:uk-core-gp"
	mhSource  = "urn:carebridge:source:uk-core-trust"
	practice  = "A12345"
	odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"
)

// today is the clock of the health check tests: 15 June 2026, London.
var today = time.Date(2026, 6, 15, 11, 0, 0, 0, time.UTC)

// newCheckGateway returns a Gateway that reconciles the health check at
// today's date with the shipped profiles and rules, in rolling mode.
func newCheckGateway(t *testing.T, st store.Store) *adapter.Gateway {
	t.Helper()
	reg, err := mappings.NewShippedRegistry(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := healthcheck.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return adapter.New(st, adapter.Config{
		Location: london, Mappings: reg, Now: func() time.Time { return today },
		HealthCheck: &healthcheck.Config{Rules: rules, Location: london, CodeSetsVersion: reg.CodeSetsVersion()},
	})
}

// put stores resources (JSON) from source in one transaction Bundle of PUTs.
func put(t *testing.T, gw *adapter.Gateway, source string, resources ...string) {
	t.Helper()
	var entries []any
	for _, r := range resources {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatalf("test resource %s: %v", r, err)
		}
		m["meta"] = map[string]any{"source": source}
		entries = append(entries, map[string]any{
			"resource": m,
			"request":  map[string]any{"method": "PUT", "url": fmt.Sprintf("%s/%s", m["resourceType"], m["id"])},
		})
	}
	process(t, gw, mustBundle(t, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}))
}

// gpPatient is the person at practice A12345, on the register since 2015.
var gpPatient = []string{
	`{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + checkNHS + `"}],
	  "birthDate":"1980-01-02","generalPractitioner":[{"identifier":{"system":"` + odsSystem + `","value":"` + practice + `"}}]}`,
	`{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
	  "code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2015-03-01"}`,
}

func observation(id, code, day string, value float64, unit string) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":%q}]},
	  "subject":{"reference":"Patient/p1"},"effectiveDateTime":%q,"valueQuantity":{"value":%g,"unit":%q,"system":"http://unitsofmeasure.org","code":%q}}`,
		id, code, day, value, unit, unit)
}

// checkTasks returns the stored health check Tasks of the practice, by key.
func checkTasks(t *testing.T, gw *adapter.Gateway, owner string) map[string]fhir.Value {
	t.Helper()
	page, err := gw.Search(context.Background(), "Task", url.Values{
		"owner:identifier": {odsSystem + "|" + owner}, "_count": {"1000"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fhir.Value{}
	for _, r := range page.Result.Resources {
		// Every byte the gateway wrote must be valid FHIR.
		v, err := fhir.DecodeResource(r.Body)
		if err != nil {
			t.Fatalf("Task/%s is not valid FHIR: %v\n%s", r.ID, err, r.Body)
		}
		ids, _ := v.Get("identifier")
		key := ids.Items()[0].Str("value")
		if _, dup := out[key]; dup {
			t.Errorf("two Tasks with key %s", key)
		}
		out[key] = v
	}
	return out
}

func businessStatus(v fhir.Value) string {
	bs, _ := v.Get("businessStatus")
	c, _ := bs.Get("coding")
	return c.Items()[0].Str("code")
}

// TestReconciliationRaisesCompletesAndCancelsTasks follows one person
// through writes: the Tasks raised for a new register entry, completed by
// evidence (rule 17, with output), a write-back Task for a trust-only
// result (rule 18), cancelled by remission; and a full reconciliation run
// twice that changes nothing (rule 23).
func TestReconciliationRaisesCompletesAndCancelsTasks(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gw := newCheckGateway(t, st)
		put(t, gw, gpSource, gpPatient...)
		tasks := checkTasks(t, gw, practice)
		if len(tasks) != 6 {
			t.Fatalf("after the diagnosis: %d Tasks, want one per component", len(tasks))
		}
		bmiKey := ""
		for key, task := range tasks {
			if task.Str("status") != "requested" || businessStatus(task) != "component-missing" {
				t.Errorf("Task %s: status %s/%s, want requested/component-missing", key, task.Str("status"), businessStatus(task))
			}
			if kind, subject, _ := healthcheck.ParseKey(key); kind == healthcheck.MissingComponent && subject == "bmi" {
				bmiKey = key
			}
		}

		// The GP records a BMI: its Task completes, pointing at it.
		put(t, gw, gpSource, observation("bmi1", "60621009", "2026-06-10", 23.1, "kg/m2"))
		tasks = checkTasks(t, gw, practice)
		bmi := tasks[bmiKey]
		if bmi.Str("status") != "completed" || businessStatus(bmi) != healthcheck.SatisfiedByEvidence {
			t.Fatalf("BMI Task after the BMI: %s/%s, want completed/satisfied-by-evidence", bmi.Str("status"), businessStatus(bmi))
		}
		out, _ := bmi.Get("output")
		if out.Len() != 1 || out.Items()[0].Ptr("valueReference").Str("reference") != "Observation/bmi1/_history/1" {
			t.Errorf("BMI Task output = %s, want the Observation", out.AppendJSON(nil))
		}
		if len(tasks) != 6 {
			t.Errorf("after the BMI: %d Tasks, want the same 6", len(tasks))
		}

		// The trust records a cholesterol: the lipids Task completes, and
		// a write-back Task asks the practice to record it.
		put(t, gw, mhSource, `{"resourceType":"Patient","id":"mh1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+checkNHS+`"}]}`,
			`{"resourceType":"Observation","id":"chol1","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"1005671000000105"}]},
			  "subject":{"reference":"Patient/mh1"},"effectiveDateTime":"2026-05-02","valueQuantity":{"value":4.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}`)
		tasks = checkTasks(t, gw, practice)
		var writeBack fhir.Value
		for key, task := range tasks {
			if kind, subject, _ := healthcheck.ParseKey(key); kind == healthcheck.WriteBack && subject == "lipids" {
				writeBack = task
			}
		}
		if writeBack.Kind() != fhir.JSONObject || writeBack.Str("status") != "requested" {
			t.Fatalf("no open write-back Task for the trust's cholesterol in %d Tasks", len(tasks))
		}

		// A full run, twice: the second changes nothing, and the verdicts
		// are byte for byte the same.
		asOf := healthcheck.DateOf(today, time.UTC)
		first, err := gw.Reconcile(ctx, asOf, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first.People != 1 || first.Eligible != 1 || first.Raised+first.Completed+first.Cancelled != 0 {
			t.Errorf("full run after incremental ones = %+v, want 1 eligible person and no change", first)
		}
		verdicts := func() string {
			var all []healthcheck.Verdict
			if err := gw.Verdicts(ctx, asOf, "", 1, func(v healthcheck.Verdict) error { all = append(all, v); return nil }); err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(all)
			return string(data)
		}
		v1 := verdicts()
		if second, err := gw.Reconcile(ctx, asOf, 1, nil); err != nil || second != first {
			t.Errorf("second full run = %+v, %v; want %+v", second, err, first)
		}
		if v2 := verdicts(); v1 != v2 {
			t.Errorf("verdicts differ between runs:\n%s\n%s", v1, v2)
		}
		if n := len(checkTasks(t, gw, practice)); n != 7 {
			t.Errorf("after two full runs: %d Tasks, want 7", n)
		}

		// Remission ends eligibility: every open Task is cancelled.
		put(t, gw, mhSource, `{"resourceType":"Condition","id":"rem1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"remission"}]},
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/mh1"},"onsetDateTime":"2015-03-01","abatementDateTime":"2026-06-01"}`)
		for key, task := range checkTasks(t, gw, practice) {
			switch task.Str("status") {
			case "completed":
			case "cancelled":
				if businessStatus(task) != healthcheck.NoLongerEligible {
					t.Errorf("Task %s cancelled as %s, want no-longer-eligible", key, businessStatus(task))
				}
			default:
				t.Errorf("Task %s is still %s after remission", key, task.Str("status"))
			}
		}
		v, open, err := gw.HealthCheck(ctx, checkNHS, asOf, "")
		if err != nil || v.Eligibility.Eligible || len(open) != 0 {
			t.Errorf("HealthCheck after remission: eligible %v, open %+v, %v", v.Eligibility.Eligible, open, err)
		}
	})
}

// TestConcurrentWritesAboutOnePersonRaiseEachTaskOnce has writers record
// results about one person at once: each Task key is raised once, and each
// component with a result ends completed.
func TestConcurrentWritesAboutOnePersonRaiseEachTaskOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newCheckGateway(t, st)
		put(t, gw, gpSource, gpPatient[0]) // not yet on the register: no Tasks
		obs := []string{
			observation("o1", "60621009", "2026-06-01", 22, "kg/m2"),
			observation("o2", "1005671000000105", "2026-06-02", 4.5, "mmol/L"),
			observation("o3", "999791000000106", "2026-06-03", 35, "mmol/mol"),
			`{"resourceType":"Observation","id":"o4","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"8517006"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-06-04"}`,
			`{"resourceType":"Observation","id":"o5","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"160573003"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-06-04"}`,
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Every writer puts the person on the register, so each
				// would raise the six Tasks; they repeat each other's
				// results too.
				diagnosis := strings.Replace(gpPatient[1], `"id":"c1"`, fmt.Sprintf(`"id":"c%d"`, i), 1)
				put(t, gw, gpSource, diagnosis, obs[i%len(obs)], obs[(i+1)%len(obs)])
			}()
		}
		wg.Wait()
		tasks := checkTasks(t, gw, practice)
		open := 0
		for key, task := range tasks {
			if task.Str("status") != "completed" {
				open++
				if _, subject, _ := healthcheck.ParseKey(key); subject != "blood-pressure" {
					t.Errorf("Task %s is %s; its result was recorded", key, task.Str("status"))
				}
			}
		}
		// Which components had a Task before their result depends on
		// which writer came first; blood pressure always has one.
		if len(tasks) > 6 || open != 1 {
			t.Errorf("%d Tasks, %d open; want at most one per component, and only blood pressure open", len(tasks), open)
		}
	})
}

// TestVerdictsAgreeWhateverTheBatch evaluates a synthetic population in
// batches of one (one goroutine) and of everyone (every CPU): the verdicts
// are the same, byte for byte, and in NHS number order.
func TestVerdictsAgreeWhateverTheBatch(t *testing.T) {
	ctx := context.Background()
	st := openSQLiteStore(t)
	gw := newCheckGateway(t, st)
	cfg := synth.DefaultConfig()
	cfg.People, cfg.AsOf, cfg.PeoplePerBundle = 120, "2026-06-15", 20
	if _, err := synth.Generate(ctx, cfg, func(b synth.Bundle) error {
		bundle, err := fhir.DecodeResource(b.JSON)
		if err != nil {
			return err
		}
		_, err = gw.ProcessBundle(ctx, bundle)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	asOf := healthcheck.DateOf(today, time.UTC)
	collect := func(batch int) []byte {
		var all []healthcheck.Verdict
		if err := gw.Verdicts(ctx, asOf, "", batch, func(v healthcheck.Verdict) error { all = append(all, v); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].NHSNumber >= all[i].NHSNumber {
				t.Fatalf("verdicts out of order: %s before %s", all[i-1].NHSNumber, all[i].NHSNumber)
			}
		}
		if len(all) != cfg.People {
			t.Fatalf("%d verdicts, want %d", len(all), cfg.People)
		}
		data, err := json.Marshal(all)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if one, all := collect(1), collect(1000); string(one) != string(all) {
		t.Error("verdicts differ between batches of one and of everyone")
	}
}
