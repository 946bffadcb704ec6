package adapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/fhir"
	"github.com/carebridge/carebridge/mappings"
)

// eachStore runs f on a fresh SQLite and a fresh PostgreSQL store.
func eachStore(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLiteStore(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.Open(t)) })
}

// openSQLiteStore opens a fresh, migrated SQLite store for t.
func openSQLiteStore(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "p.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func newGateway(t *testing.T, st store.Store) *adapter.Gateway {
	t.Helper()
	reg, err := mappings.NewShippedRegistry(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return adapter.New(st, adapter.Config{Location: time.UTC, Mappings: reg})
}

var (
	idRe  = regexp.MustCompile(`"id":"([^"]+)"`)
	refRe = regexp.MustCompile(`"reference":"([A-Za-z]+)/([^"]+)"`)
)

// feedBundle turns a mappings equivalence file into a transaction Bundle
// from that profile's source: every resource PUT under an id prefixed by
// the profile, so that the four files do not collide.
func feedBundle(t *testing.T, profile string) fhir.Value {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "mappings", "testdata", "equivalence", profile+".json"))
	if err != nil {
		t.Fatal(err)
	}
	text := idRe.ReplaceAllString(string(data), `"id":"`+profile+`-$1"`)
	text = refRe.ReplaceAllString(text, `"reference":"$1/`+profile+`-$2"`)
	var resources []map[string]any
	if err := json.Unmarshal([]byte(text), &resources); err != nil {
		t.Fatal(err)
	}
	var entries []any
	for _, r := range resources {
		r["meta"] = map[string]any{"source": "urn:carebridge:source:" + profile}
		entries = append(entries, map[string]any{
			"resource": r,
			"request":  map[string]any{"method": "PUT", "url": fmt.Sprintf("%s/%s", r["resourceType"], r["id"])},
		})
	}
	return mustBundle(t, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

func mustBundle(t *testing.T, b any) fhir.Value {
	t.Helper()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := fhir.DecodeResource(data)
	if err != nil {
		t.Fatalf("invalid test bundle: %v", err)
	}
	return v
}

func process(t *testing.T, gw *adapter.Gateway, b fhir.Value) adapter.BundleResult {
	t.Helper()
	out, err := gw.ProcessBundle(context.Background(), b)
	if err != nil {
		t.Fatalf("ProcessBundle: %v", err)
	}
	return out
}

func record(t *testing.T, gw *adapter.Gateway, nhs string) *sharedcare.Record {
	t.Helper()
	r, err := gw.Record(context.Background(), nhs)
	if fhir.KindOf(err) == fhir.NotFound {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &r
}

func resource(t *testing.T, s string) fhir.Value {
	t.Helper()
	v, err := fhir.DecodeResource([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestProjectionFollowsWritesAndReindexRebuildsIt writes the same person's
// care from all four shipped profiles, a Patient that arrives after the
// Observation about them, updates, a delete and an unmappable code; checks
// the incremental projection; then rebuilds it with Reindex and checks that
// every record and the unmapped report are byte-for-byte the same.
func TestProjectionFollowsWritesAndReindexRebuildsIt(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gw := newGateway(t, st)
		for _, p := range []string{"uk-core-gp", "gp-nhs-number-refs", "uk-core-trust", "trust-epr-icd10"} {
			for _, e := range process(t, gw, feedBundle(t, p)).Entries {
				if len(e.Issues) > 0 {
					t.Errorf("%s: unexpected issues %+v", p, e.Issues)
				}
			}
		}
		rec := record(t, gw, "9434765919")
		if rec == nil {
			t.Fatal("no record for 9434765919")
		}
		sides := map[sharedcare.Side]int{}
		for _, e := range rec.Evidence {
			sides[e.Side]++
		}
		if sides[sharedcare.Primary] != 14 || sides[sharedcare.Secondary] != 14 {
			t.Errorf("evidence by side = %v, want 14 from each (7 per profile)", sides)
		}
		if len(rec.Register) != 4 || len(rec.Episodes) != 2 || len(rec.Person.Sources) != 4 || rec.Person.GPPractice != "A12345" {
			t.Errorf("record: %d register entries, %d episodes, %d Patient sources, GP %q; want 4, 2, 4, A12345",
				len(rec.Register), len(rec.Episodes), len(rec.Person.Sources), rec.Person.GPPractice)
		}

		// An Observation about a Patient the gateway does not know yet...
		late := `{"resourceType":"Observation","id":"late-bmi","meta":{"source":"urn:carebridge:source:uk-core-gp"},"status":"final",
			"code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"Patient/late"},
			"effectiveDateTime":"2025-03-01","valueQuantity":{"value":31.2,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}}`
		out, err := gw.Update(ctx, "Observation", "late-bmi", resource(t, late), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Issues) != 1 || !strings.Contains(out.Issues[0].Diagnostics, "could not map reference Patient/late") {
			t.Errorf("issues = %+v, want one warning about the unknown person", out.Issues)
		}
		if r := record(t, gw, "9000000009"); r != nil {
			t.Errorf("a record exists before the Patient: %+v", r)
		}
		// ...joins their record when the Patient arrives.
		if _, err := gw.Update(ctx, "Patient", "late", resource(t, `{"resourceType":"Patient","id":"late","meta":{"source":"urn:carebridge:source:uk-core-gp"},
			"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}`), ""); err != nil {
			t.Fatal(err)
		}
		if r := record(t, gw, "9000000009"); r == nil || len(r.Evidence) != 1 || *r.Evidence[0].Value != 31.2 {
			t.Errorf("after the Patient arrived, record = %+v, want the late BMI", r)
		}
		// ...moves with the Patient when its NHS number is corrected, and back.
		for _, nhs := range []string{"9000000017", "9000000009"} {
			if _, err := gw.Update(ctx, "Patient", "late", resource(t, `{"resourceType":"Patient","id":"late","meta":{"source":"urn:carebridge:source:uk-core-gp"},
				"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+nhs+`"}]}`), ""); err != nil {
				t.Fatal(err)
			}
			if r := record(t, gw, nhs); r == nil || len(r.Evidence) != 1 || r.Evidence[0].Source.ID != "late-bmi" {
				t.Errorf("after the correction to %s, record = %+v, want the late BMI", nhs, r)
			}
		}
		if r := record(t, gw, "9000000017"); r != nil {
			t.Errorf("after the correction back, the other number still has a record: %+v", r)
		}

		// An unmappable code is stored, warned about and reported, until fixed.
		local := `{"resourceType":"Observation","id":"local","meta":{"source":"urn:carebridge:source:uk-core-gp"},"status":"final",
			"code":{"coding":[{"system":"https://emis.example/codes","code":"EMISBMI"}]},"subject":{"reference":"Patient/late"},"effectiveDateTime":"2025-03-02"}`
		out, err = gw.Update(ctx, "Observation", "local", resource(t, local), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Issues) != 1 || out.Issues[0].Expression != "Observation.code" || out.Issues[0].Severity != fhir.SeverityWarning {
			t.Errorf("issues = %+v, want one warning at Observation.code", out.Issues)
		}
		report, err := gw.UnmappedReport(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.UnmappedCount{{Profile: "uk-core-gp", What: "code", System: "https://emis.example/codes", Code: "EMISBMI", Count: 1}}
		if diff := cmp.Diff(want, report); diff != "" {
			t.Errorf("unmapped report (-want +got):\n%s", diff)
		}

		// Updates and deletes reach the record.
		if _, err := gw.Delete(ctx, "Observation", "uk-core-trust-o-bmi", ""); err != nil {
			t.Fatal(err)
		}
		if r := record(t, gw, "9434765919"); len(r.Evidence) != len(rec.Evidence)-1 {
			t.Errorf("after a delete, %d evidence items, want %d", len(r.Evidence), len(rec.Evidence)-1)
		}

		// Rebuilding from the stored resources gives the same projection.
		before := snapshot(t, gw, "9434765919", "9000000009")
		n, err := gw.Reindex(ctx, 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 37 resources from the four feeds, late-bmi, Patient/late and local, less the deleted one.
		if n != 39 {
			t.Errorf("Reindex mapped %d resources, want all 39 current ones", n)
		}
		after := snapshot(t, gw, "9434765919", "9000000009")
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("reindexed projection differs from the incremental one (-incremental +rebuilt):\n%s", diff)
		}
	})
}

// snapshot captures the records of people and the unmapped report.
func snapshot(t *testing.T, gw *adapter.Gateway, nhs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range nhs {
		r, err := gw.Record(context.Background(), n)
		if err != nil {
			t.Fatalf("record %s: %v", n, err)
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(data)
	}
	report, err := gw.UnmappedReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out["unmapped"] = fmt.Sprint(report)
	return out
}

func TestTransactionResponseCarriesMappingWarnings(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		gw := newGateway(t, st)
		b := mustBundle(t, map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"fullUrl": "urn:uuid:0b8f0d1c-7a43-4f5e-9f0e-6d1f4b2a9c11", "resource": map[string]any{
				"resourceType": "Patient", "meta": map[string]any{"source": "urn:carebridge:source:trust-epr-icd10"},
				"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}}},
				"request": map[string]any{"method": "POST", "url": "Patient"}},
			map[string]any{"resource": map[string]any{
				"resourceType": "Condition", "meta": map[string]any{"source": "urn:carebridge:source:trust-epr-icd10"},
				"code":    map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/icd-10", "code": "G40.9"}}},
				"subject": map[string]any{"reference": "urn:uuid:0b8f0d1c-7a43-4f5e-9f0e-6d1f4b2a9c11"}},
				"request": map[string]any{"method": "POST", "url": "Condition"}},
		}})
		out := process(t, gw, b)
		if len(out.Entries[0].Issues) != 0 {
			t.Errorf("Patient entry issues = %+v", out.Entries[0].Issues)
		}
		is := out.Entries[1].Issues
		if len(is) != 1 || is[0].Expression != "Bundle.entry[1].resource.code" || !strings.Contains(is[0].Diagnostics, "http://hl7.org/fhir/sid/icd-10|G40.9") {
			t.Errorf("Condition entry issues = %+v, want one warning at Bundle.entry[1].resource.code", is)
		}
	})
}

// TestConcurrentWritesAboutOnePersonAllReachTheRecord runs writers in
// parallel, each adding evidence about the same person: the record must end
// with every item (no transaction may assemble it without another's facts).
func TestConcurrentWritesAboutOnePersonAllReachTheRecord(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		gw := newGateway(t, st)
		if _, err := gw.Update(ctx, "Patient", "p", resource(t, `{"resourceType":"Patient","id":"p","meta":{"source":"urn:carebridge:source:uk-core-trust"},
			"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}`), ""); err != nil {
			t.Fatal(err)
		}
		const writers = 12
		errs := make(chan error, writers)
		for i := range writers {
			go func() {
				obs := fmt.Sprintf(`{"resourceType":"Observation","meta":{"source":"urn:carebridge:source:uk-core-trust"},"status":"final",
					"code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"Patient/p"},
					"effectiveDateTime":"2025-03-%02d","valueQuantity":{"value":%d,"unit":"kg/m2","system":"http://unitsofmeasure.org","code":"kg/m2"}}`, i+1, 20+i)
				v, err := fhir.DecodeResource([]byte(obs))
				if err == nil {
					_, err = gw.Create(ctx, v, "")
				}
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if r := record(t, gw, "9434765919"); r == nil || len(r.Evidence) != writers {
			n := 0
			if r != nil {
				n = len(r.Evidence)
			}
			t.Errorf("record has %d evidence items, want %d", n, writers)
		}
	})
}
