package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// BundleSize is the number of resources BenchmarkPutBundle writes per
// transaction.
const BundleSize = 100

// BenchmarkPutBundle measures Transact + Put of Bundles of BundleSize new,
// realistic resources (Patients, Observations, Conditions, Tasks and
// Encounters, with bodies of 0.5-1.5 KB and 8 to 10 index entries each), and
// reports resources/s.
func BenchmarkPutBundle(b *testing.B, st store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	at := epoch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		at = at.Add(time.Second)
		writes := bundle(rng, i, at)
		b.StartTimer()
		err := st.Transact(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.Put(ctx, writes)
		})
		if err != nil {
			b.Fatalf("Transact: %v", err)
		}
	}
	b.ReportMetric(float64(b.N*BundleSize)/b.Elapsed().Seconds(), "resources/s")
}

// BenchmarkSearchTasks stores tasks Tasks owned by 200 practices (by ODS
// code; a tenth of them by a literal reference to the Organization), each
// granting its owner and about one of tasks/4 people, each registered with
// one practice; calls loaded (when not nil: an engine may gather planner
// statistics there, as its autovacuum or maintenance would in production),
// then measures the polling search of one practice: owner:identifier=ods|code
// and status=requested, 50 per page, in creation order, without a Viewer,
// as the practice (store.Viewer), and as the practice seeing by person too.
// It reports searches/s.
func BenchmarkSearchTasks(b *testing.B, st store.Store, tasks int, loaded func(b *testing.B)) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	const practices = 200
	odsCode := func(p int) string { return fmt.Sprintf("A%05d", p) }
	var orgs []store.Write
	for p := range practices {
		orgs = append(orgs, newWrite("Organization", fmt.Sprintf("org%d", p), 1, epoch, index(token("identifier", ods, odsCode(p)))))
	}
	commit := func(fn func(ctx context.Context, tx store.Tx) error) {
		if err := st.Transact(ctx, fn); err != nil {
			b.Fatalf("Transact: %v", err)
		}
	}
	commit(func(ctx context.Context, tx store.Tx) error { return tx.Put(ctx, orgs) })
	people := tasks/4 + 1
	person := func(i int) string { return fmt.Sprintf("9%09d", i) }
	var batch []store.Write
	var rows []store.Projection
	put := func() {
		commit(func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(ctx, batch); err != nil {
				return err
			}
			return tx.PutProjections(ctx, rows)
		})
		batch, rows = batch[:0], rows[:0]
	}
	for i := range tasks {
		p := rng.IntN(practices)
		owner := logical("owner", ods, odsCode(p))
		if i%10 == 0 {
			owner = literal("owner", "Organization", fmt.Sprintf("org%d", p))
		}
		status := []string{"requested", "accepted", "completed", "completed", "completed"}[rng.IntN(5)]
		at := epoch.Add(time.Duration(i) * time.Second)
		id, patient := fmt.Sprintf("task%d", i), rng.IntN(people)
		batch = append(batch, store.Write{Type: "Task", ID: id, VersionID: 1, LastUpdated: at, Method: "POST",
			Body: body("Task", id, 1, at),
			Index: index(owner, token("status", "http://hl7.org/fhir/task-status", status), token("intent", "", "order"),
				token("code", snomed, "1240731000000104"), literal("for", "Patient", fmt.Sprintf("p%d", patient)),
				date("authored-on", at, at.Add(time.Millisecond))),
			Grants: []string{odsCode(p)}})
		rows = append(rows, store.Projection{Type: "Task", ID: id, VersionID: 1, Person: person(patient), Profile: "bench", Facts: []byte(`{}`)})
		if len(batch) == 500 {
			put()
		}
	}
	if len(batch) > 0 {
		put()
	}
	for first := 0; first < people; first += 1000 {
		var named []string
		var grants []store.PersonOrg
		for i := first; i < min(first+1000, people); i++ {
			named = append(named, person(i))
			grants = append(grants, store.PersonOrg{Person: person(i), ODS: odsCode(rng.IntN(practices)), Reason: store.ReasonRegistered})
		}
		commit(func(ctx context.Context, tx store.Tx) error { return tx.PutPersonOrgs(ctx, named, grants) })
	}
	if loaded != nil {
		loaded(b)
	}
	q := func(p int) *fhir.Query {
		return &fhir.Query{Type: "Task", Count: 50, Clauses: []fhir.Clause{
			{Param: "owner", Type: fhir.ReferenceParam, Modifier: fhir.ModifierIdentifier, Values: []fhir.ClauseValue{sysCode(ods, odsCode(p))}},
			tokenClause("status", 0, code("requested")),
		}}
	}
	for _, bc := range []struct {
		name   string
		viewer func(p int) *store.Viewer
	}{
		{"no viewer", func(int) *store.Viewer { return nil }},
		{"viewer", func(p int) *store.Viewer { return &store.Viewer{ODS: odsCode(p)} }},
		{"viewer by person", func(p int) *store.Viewer { return &store.Viewer{ODS: odsCode(p), ByPerson: true} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			found := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := i % practices
				res, err := st.Search(ctx, q(p), bc.viewer(p))
				if err != nil {
					b.Fatalf("Search: %v", err)
				}
				found += len(res.Resources)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "searches/s")
			if found == 0 {
				b.Fatal("the searches found nothing")
			}
		})
	}
}

// bundle returns BundleSize new resources for Bundle n: per five patients,
// ten Observations, four Conditions, four Tasks and two Encounters.
func bundle(rng *rand.Rand, n int, at time.Time) []store.Write {
	writes := make([]store.Write, 0, BundleSize)
	add := func(typ, id string, ix *fhir.Index, body []byte) {
		writes = append(writes, store.Write{Type: typ, ID: id, VersionID: 1, LastUpdated: at, Method: "POST", Body: body, Index: ix})
	}
	day := func(t time.Time) fhir.DateEntry {
		d := t.Truncate(24 * time.Hour)
		return date("date", d, d.Add(24*time.Hour))
	}
	for g := range BundleSize / 25 {
		for k := range 5 {
			pid := fmt.Sprintf("b%d-p%d-%d", n, g, k)
			nhsNo := fmt.Sprintf("9%09d", rng.IntN(1e9))
			family := []string{"smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies"}[rng.IntN(8)]
			given := []string{"oliver", "amelia", "george", "isla", "harry", "ava", "noah", "mia"}[rng.IntN(8)]
			birth := time.Date(1940+rng.IntN(60), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			add("Patient", pid, index(
				token("identifier", nhs, nhsNo), token("identifier", mrn, fmt.Sprintf("M%07d", rng.IntN(1e7))),
				token("gender", "", "female"), token("active", "", "true"),
				str("family", family), str("given", given), str("name", family), str("name", given),
				fhir.DateEntry{Param: "birthdate", Low: birth.UnixMicro(), High: birth.AddDate(0, 0, 1).UnixMicro()},
				literal("general-practitioner", "Organization", fmt.Sprintf("org%d", rng.IntN(200))),
			), fmt.Appendf(nil, `{"resourceType":"Patient","id":%q,"meta":{"versionId":"1","lastUpdated":%q,"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},"identifier":[{"system":%q,"value":%q,"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus","valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland","code":"01","display":"Number present and verified"}]}}]}],"active":true,"name":[{"use":"official","family":%q,"given":[%q]}],"gender":"female","birthDate":%q,"address":[{"line":["1 High Street"],"city":"Leeds","postalCode":"LS1 1AA"}],"generalPractitioner":[{"type":"Organization","identifier":{"system":%q,"value":"B82005"}}]}`,
				pid, fhir.FormatInstant(at), nhs, nhsNo, family, given, birth.Format("2006-01-02"), ods))
			for j := range 2 {
				oid := fmt.Sprintf("%s-o%d", pid, j)
				eff := at.Add(-time.Duration(rng.IntN(1e6)) * time.Second)
				add("Observation", oid, index(
					token("code", snomed, "365980008"), token("code", loinc, "8480-6"), token("category", "http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs"),
					token("status", "", "final"), literal("subject", "Patient", pid), literal("patient", "Patient", pid),
					literal("performer", "Organization", "org1"), day(eff), token("value-concept", snomed, "77176002"),
				), fmt.Appendf(nil, `{"resourceType":"Observation","id":%q,"meta":{"versionId":"1","lastUpdated":%q},"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":%q,"code":"365980008","display":"Tobacco smoking behaviour"},{"system":%q,"code":"8480-6"}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":%q,"performer":[{"reference":"Organization/org1"}],"valueCodeableConcept":{"coding":[{"system":%q,"code":"77176002","display":"Smoker"}]}}`,
					oid, fhir.FormatInstant(at), snomed, loinc, pid, fhir.FormatInstant(eff), snomed))
			}
		}
		for k := range 4 {
			pid := fmt.Sprintf("b%d-p%d-%d", n, g, k)
			cid := fmt.Sprintf("b%d-c%d-%d", n, g, k)
			onset := at.AddDate(-rng.IntN(20), 0, 0)
			add("Condition", cid, index(
				token("code", snomed, "69322001"), token("code", "http://hl7.org/fhir/sid/icd-10", "F20.9"),
				token("clinical-status", "http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
				token("verification-status", "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
				token("category", "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item"),
				literal("subject", "Patient", pid), literal("patient", "Patient", pid),
				fhir.DateEntry{Param: "onset-date", Low: onset.UnixMicro(), High: onset.Add(24 * time.Hour).UnixMicro()},
			), fmt.Appendf(nil, `{"resourceType":"Condition","id":%q,"meta":{"versionId":"1","lastUpdated":%q},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"code":{"coding":[{"system":%q,"code":"69322001","display":"Psychotic disorder"}]},"subject":{"reference":"Patient/%s"},"onsetDateTime":%q}`,
				cid, fhir.FormatInstant(at), snomed, pid, onset.Format("2006-01-02")))
			tid := fmt.Sprintf("b%d-t%d-%d", n, g, k)
			add("Task", tid, index(
				token("identifier", "https://carebridge.example/task", tid), token("status", "http://hl7.org/fhir/task-status", "requested"),
				token("intent", "", "order"), token("code", snomed, "1240731000000104"),
				logical("owner", ods, fmt.Sprintf("A%05d", rng.IntN(200))), literal("requester", "Organization", "trust1"),
				literal("for", "Patient", pid), literal("patient", "Patient", pid), literal("focus", "Condition", cid),
				fhir.DateEntry{Param: "authored-on", Low: at.UnixMicro(), High: at.Add(time.Millisecond).UnixMicro()},
			), fmt.Appendf(nil, `{"resourceType":"Task","id":%q,"meta":{"versionId":"1","lastUpdated":%q},"identifier":[{"system":"https://carebridge.example/task","value":%q}],"status":"requested","intent":"order","code":{"coding":[{"system":%q,"code":"1240731000000104","display":"Annual physical health check for severe mental illness"}]},"focus":{"reference":"Condition/%s"},"for":{"reference":"Patient/%s"},"authoredOn":%q,"requester":{"reference":"Organization/trust1"},"owner":{"identifier":{"system":%q,"value":"A%05d"}}}`,
				tid, fhir.FormatInstant(at), tid, snomed, cid, pid, fhir.FormatInstant(at), ods, rng.IntN(200)))
		}
		for k := range 2 {
			pid := fmt.Sprintf("b%d-p%d-%d", n, g, k)
			eid := fmt.Sprintf("b%d-e%d-%d", n, g, k)
			start := at.Add(-time.Duration(rng.IntN(1e6)) * time.Second)
			add("Encounter", eid, index(
				token("identifier", "https://trust.example/encounter", eid), token("status", "", "finished"),
				token("class", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"), token("type", snomed, "185389009"),
				literal("subject", "Patient", pid), literal("patient", "Patient", pid), literal("service-provider", "Organization", "trust1"),
				fhir.DateEntry{Param: "date", Low: start.UnixMicro(), High: start.Add(time.Hour).UnixMicro()},
			), fmt.Appendf(nil, `{"resourceType":"Encounter","id":%q,"meta":{"versionId":"1","lastUpdated":%q},"identifier":[{"system":"https://trust.example/encounter","value":%q}],"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"type":[{"coding":[{"system":%q,"code":"185389009","display":"Follow-up visit"}]}],"subject":{"reference":"Patient/%s"},"period":{"start":%q,"end":%q},"serviceProvider":{"reference":"Organization/trust1"}}`,
				eid, fhir.FormatInstant(at), eid, snomed, pid, fhir.FormatInstant(start), fhir.FormatInstant(start.Add(time.Hour))))
		}
	}
	return writes
}
