package mappings_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/fhir"
	"github.com/carebridge/carebridge/mappings"
)

// fileResolver resolves literal references against the resources of one
// test file, as the gateway does against the store.
type fileResolver struct {
	patients map[string]string // id -> NHS number
	orgs     map[string]string // id -> ODS code
}

func (r fileResolver) PatientNHSNumber(_ context.Context, id string) (string, bool, error) {
	n, ok := r.patients[id]
	return n, ok, nil
}

func (r fileResolver) OrganizationODS(_ context.Context, id string) (string, bool, error) {
	c, ok := r.orgs[id]
	return c, ok, nil
}

func registry(t *testing.T) *mappings.Registry {
	t.Helper()
	cs, err := mappings.DefaultCodeSets()
	if err != nil {
		t.Fatalf("shipped code sets: %v", err)
	}
	profiles, err := mappings.ShippedProfiles()
	if err != nil {
		t.Fatalf("shipped profiles: %v", err)
	}
	r, err := mappings.NewRegistry(cs, profiles, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mapFile validates every resource of a test file as the gateway would and
// maps it through the profile.
func mapFile(t *testing.T, m *mappings.Mapper, file string) []sharedcare.Facts {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	res := make([]fhir.Value, len(raw))
	r := fileResolver{patients: map[string]string{}, orgs: map[string]string{}}
	for i, b := range raw {
		v, err := fhir.DecodeResource(b)
		if err != nil {
			t.Fatalf("%s entry %d is not valid FHIR: %v", file, i, err)
		}
		res[i] = v
		switch v.Str("resourceType") {
		case "Patient":
			ids, _ := v.Get("identifier")
			for _, id := range ids.Items() {
				if n, ok := fhir.NormalizeNHSNumber(id.Str("value")); ok && id.Str("system") == fhir.SystemNHSNumber {
					r.patients[v.Str("id")] = n
				}
			}
		case "Organization":
			ids, _ := v.Get("identifier")
			for _, id := range ids.Items() {
				if id.Str("system") == fhir.SystemODSCode {
					r.orgs[v.Str("id")] = id.Str("value")
				}
			}
		}
	}
	var out []sharedcare.Facts
	for _, v := range res {
		f, err := m.Map(context.Background(), sharedcare.SourceRef{Type: v.Str("resourceType"), ID: v.Str("id"), VersionID: 1}, v, r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// clinical strips a record of who sent what, leaving what is clinically
// true, which must not depend on the source system.
func clinical(r sharedcare.Record) sharedcare.Record {
	r.Person.Sources = nil
	for i := range r.Register {
		r.Register[i].Source, r.Register[i].Side, r.Register[i].Org = sharedcare.SourceRef{}, "", ""
	}
	for i := range r.Episodes {
		r.Episodes[i].Source = sharedcare.SourceRef{}
	}
	for i := range r.Evidence {
		r.Evidence[i].Source, r.Evidence[i].Side, r.Evidence[i].Performer = sharedcare.SourceRef{}, "", ""
	}
	return r
}

func float(f float64) *float64 { return &f }

func TestSameFactsThroughEveryProfileGiveTheSameRecord(t *testing.T) {
	reg := registry(t)
	ev := func(c sharedcare.Component, concept string, value *float64, unit, date string) sharedcare.Evidence {
		return sharedcare.Evidence{Component: c, Concept: concept, Value: value, Unit: unit, Date: date, Status: "final"}
	}
	evidence := []sharedcare.Evidence{
		ev(sharedcare.Alcohol, "763256006", float(6), "", "2025-02-03"),
		ev(sharedcare.Smoking, "77176002", nil, "", "2025-02-03"),
		ev(sharedcare.BMI, "60621009", float(27.4), "kg/m2", "2025-02-03T10:15:00+00:00"),
		ev(sharedcare.BloodPressure, "271649006", float(128), "mm[Hg]", "2025-02-03T10:20:00+00:00"),
		ev(sharedcare.BloodPressure, "271650006", float(82), "mm[Hg]", "2025-02-03T10:20:00+00:00"),
		ev(sharedcare.Glucose, "999791000000106", float(48), "mmol/mol", "2025-02-10"),
		ev(sharedcare.Lipids, "1005671000000105", float(5.2), "mmol/L", "2025-02-10"),
	}
	person := sharedcare.Person{NHSNumber: "9434765919", GPPractice: "A12345", BirthDate: "1980-01-02"}
	register := []sharedcare.RegisterEntry{{Category: sharedcare.Schizophrenia, Concept: "58214004", Date: "2024-03-01"}}
	episode := []sharedcare.Episode{{Trust: "RXX", Start: "2024-03-01", EarlyIntervention: true}}

	for _, tc := range []struct {
		profile  string
		side     sharedcare.Side
		episodes []sharedcare.Episode
		// converted lists the concepts whose values the profile converted.
		converted []string
	}{
		{"uk-core-gp", sharedcare.Primary, nil, nil},
		{"gp-nhs-number-refs", sharedcare.Primary, nil, []string{"1005671000000105"}},
		{"uk-core-trust", sharedcare.Secondary, episode, nil},
		{"trust-epr-icd10", sharedcare.Secondary, episode, []string{"999791000000106"}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			m, ok := reg.Mapper(tc.profile)
			if !ok {
				t.Fatalf("profile %s is not shipped", tc.profile)
			}
			facts := mapFile(t, m, filepath.Join("testdata", "equivalence", tc.profile+".json"))
			for _, f := range facts {
				if len(f.Unmapped) > 0 {
					t.Errorf("unmapped: %+v", f.Unmapped)
				}
				if f.Side != tc.side {
					t.Errorf("facts side = %q, want %q", f.Side, tc.side)
				}
			}
			rec := sharedcare.Assemble("9434765919", facts)
			for _, e := range rec.Evidence {
				if e.Source.Profile != tc.profile || e.Side != tc.side {
					t.Errorf("evidence %s came from profile %q side %q", e.Concept, e.Source.Profile, e.Side)
				}
				want := false
				for _, c := range tc.converted {
					want = want || c == e.Concept
				}
				if e.Converted != want {
					t.Errorf("evidence %s converted = %v, want %v", e.Concept, e.Converted, want)
				}
			}
			got := clinical(rec)
			for i := range got.Evidence {
				got.Evidence[i].Converted = false
			}
			want := sharedcare.Record{Person: person, Register: register, Episodes: tc.episodes, Evidence: evidence}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnmappedCodesUnitsAndIdentifiersAreReported(t *testing.T) {
	reg := registry(t)
	trust, _ := reg.Mapper("trust-epr-icd10")
	gp, _ := reg.Mapper("uk-core-gp")
	for _, tc := range []struct {
		name string
		m    *mappings.Mapper
		res  string
		want []sharedcare.Unmapped
	}{
		{
			"an ICD-10 code outside the map", trust,
			`{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G40.9"}]},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}}`,
			[]sharedcare.Unmapped{{Profile: "trust-epr-icd10", What: "code", System: "http://hl7.org/fhir/sid/icd-10", Code: "G40.9", Expression: "Condition.code", Reason: "no translation to SNOMED CT in this profile"}},
		},
		{
			"HbA1c without a unit is never guessed", trust,
			`{"resourceType":"Observation","id":"o","status":"final","code":{"coding":[{"system":"https://ryy.example.nhs.uk/CodeSystem/observation","code":"HBA1C"}]},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}},"effectiveDateTime":"2025-02-10","valueQuantity":{"value":6.5}}`,
			[]sharedcare.Unmapped{{Profile: "trust-epr-icd10", What: "unit", Code: "", Expression: "Observation.valueQuantity",
				Reason: `no rule turns "" into mmol/mol for concept 999791000000106; the value is kept in the stored resource but not used`}},
		},
		{
			"a local observation code from another system", gp,
			`{"resourceType":"Observation","id":"o","status":"final","code":{"coding":[{"system":"https://emis.example/codes","code":"EMISBMI"}]},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}}`,
			[]sharedcare.Unmapped{{Profile: "uk-core-gp", What: "code", System: "https://emis.example/codes", Code: "EMISBMI", Expression: "Observation.code", Reason: "no translation to SNOMED CT in this profile"}},
		},
		{
			"a Patient without an NHS number", gp,
			`{"resourceType":"Patient","id":"p","identifier":[{"system":"https://fhir.nhs.uk/Id/local","value":"X1"}]}`,
			[]sharedcare.Unmapped{{Profile: "uk-core-gp", What: "identifier", Expression: "Patient.identifier", Reason: "no NHS number: the Patient is stored but linked to no person"}},
		},
		{
			"a reference to a person nobody knows", gp,
			`{"resourceType":"Observation","id":"o","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"60621009"}]},"subject":{"reference":"Patient/nobody"}}`,
			[]sharedcare.Unmapped{{Profile: "uk-core-gp", What: "reference", Code: "Patient/nobody", Expression: "Observation.subject", Reason: "the person has no known NHS number"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := fhir.DecodeResource([]byte(tc.res))
			if err != nil {
				t.Fatal(err)
			}
			f, err := tc.m.Map(context.Background(), sharedcare.SourceRef{Type: v.Str("resourceType"), ID: v.Str("id"), VersionID: 1}, v,
				fileResolver{patients: map[string]string{}, orgs: map[string]string{}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Unmapped); diff != "" {
				t.Errorf("unmapped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemissionOnATrustConditionIsARemissionMarker(t *testing.T) {
	reg := registry(t)
	m, _ := reg.Mapper("uk-core-trust")
	v, err := fhir.DecodeResource([]byte(`{"resourceType":"Condition","id":"c","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"remission"}]},
		"code":{"coding":[{"system":"http://snomed.info/sct","code":"13746004"}]},"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}},
		"onsetDateTime":"2019-05-01","abatementDateTime":"2025-01-15"}`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Map(context.Background(), sharedcare.SourceRef{Type: "Condition", ID: "c", VersionID: 1}, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := sharedcare.SourceRef{Type: "Condition", ID: "c", VersionID: 1, Profile: "uk-core-trust"}
	want := []sharedcare.RegisterEntry{
		{Category: sharedcare.Bipolar, Concept: "13746004", Date: "2019-05-01", Side: sharedcare.Secondary, Source: src},
		{Category: sharedcare.Bipolar, Remission: true, Concept: "13746004", Date: "2025-01-15", Side: sharedcare.Secondary, Source: src},
	}
	if diff := cmp.Diff(want, f.Register); diff != "" {
		t.Errorf("register (-want +got):\n%s", diff)
	}
}

func TestRegistryChoosesTheProfileBySource(t *testing.T) {
	cs, _ := mappings.DefaultCodeSets()
	profiles, _ := mappings.ShippedProfiles()
	reg, err := mappings.NewRegistry(cs, profiles, "uk-core-gp")
	if err != nil {
		t.Fatal(err)
	}
	for source, want := range map[string]string{
		"urn:carebridge:source:trust-epr-icd10":          "trust-epr-icd10",
		"urn:carebridge:source:uk-core-trust#batch-2231": "uk-core-trust",
		"":                               "uk-core-gp",
		"https://unknown.example/system": "uk-core-gp",
	} {
		m, ok := reg.ForSource(source)
		if !ok || m.Profile().ID != want {
			t.Errorf("ForSource(%q) = %v, want %s", source, m, want)
		}
	}
	if _, err := mappings.NewRegistry(cs, profiles, "nope"); err == nil || !strings.Contains(err.Error(), `"nope" is not loaded`) {
		t.Errorf("unknown default profile: err = %v", err)
	}
}

func TestADeclineCodeIsADeclineNotEvidence(t *testing.T) {
	reg := registry(t)
	const subject = `"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}`
	for _, tc := range []struct {
		name    string
		profile string
		res     string
		side    sharedcare.Side
	}{
		{"an Observation from a GP", "uk-core-gp",
			`{"resourceType":"Observation","id":"d","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"413123006","display":"Blood pressure procedure declined"}]},` + subject + `,"effectiveDateTime":"2025-02-03T10:15:00+00:00"}`,
			sharedcare.Primary},
		{"a Procedure from a trust", "trust-epr-icd10",
			`{"resourceType":"Procedure","id":"d","status":"not-done","code":{"coding":[{"system":"http://snomed.info/sct","code":"413123006"}]},` + subject + `,"performedDateTime":"2025-02-03T10:15:00+00:00"}`,
			sharedcare.Secondary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := reg.Mapper(tc.profile)
			v, err := fhir.DecodeResource([]byte(tc.res))
			if err != nil {
				t.Fatal(err)
			}
			src := sharedcare.SourceRef{Type: v.Str("resourceType"), ID: "d", VersionID: 1}
			f, err := m.Map(context.Background(), src, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			src.Profile = tc.profile
			want := []sharedcare.Decline{{
				Component: sharedcare.BloodPressure, Concept: "413123006", Date: "2025-02-03T10:15:00+00:00", Side: tc.side, Source: src,
			}}
			if diff := cmp.Diff(want, f.Declines); diff != "" {
				t.Errorf("declines (-want +got):\n%s", diff)
			}
			if len(f.Evidence) > 0 || len(f.Unmapped) > 0 {
				t.Errorf("a decline gave evidence %+v, unmapped %+v", f.Evidence, f.Unmapped)
			}
		})
	}
}

func TestClosedEpisodesAreNotOpen(t *testing.T) {
	reg := registry(t)
	cases := []struct {
		profile, resource string
		want              []sharedcare.Episode // Trust, Start and End only
	}{
		{"uk-core-trust", `{"resourceType":"EpisodeOfCare","id":"e","status":"finished","patient":{"reference":"Patient/p"},"period":{"start":"2025-01-10"}}`,
			[]sharedcare.Episode{{Start: "2025-01-10", End: "2025-01-10"}}},
		{"uk-core-trust", `{"resourceType":"EpisodeOfCare","id":"e","status":"finished","patient":{"reference":"Patient/p"},"period":{"start":"2025-01-10","end":"2025-06-01"}}`,
			[]sharedcare.Episode{{Start: "2025-01-10", End: "2025-06-01"}}},
		{"uk-core-trust", `{"resourceType":"EpisodeOfCare","id":"e","status":"active","patient":{"reference":"Patient/p"},"period":{"start":"2025-01-10"}}`,
			[]sharedcare.Episode{{Start: "2025-01-10"}}},
		{"uk-core-trust", `{"resourceType":"EpisodeOfCare","id":"e","status":"entered-in-error","patient":{"reference":"Patient/p"},"period":{"start":"2025-01-10"}}`,
			nil},
		{"trust-epr-icd10", `{"resourceType":"CarePlan","id":"e","status":"revoked","intent":"plan","category":[{"coding":[{"system":"https://ryy.example.nhs.uk/CodeSystem/care-setting","code":"EIP"}]}],"subject":{"reference":"Patient/p"},"period":{"start":"2025-02-01"}}`,
			[]sharedcare.Episode{{Start: "2025-02-01", End: "2025-02-01"}}},
		{"trust-epr-icd10", `{"resourceType":"CarePlan","id":"e","status":"entered-in-error","intent":"plan","category":[{"coding":[{"system":"https://ryy.example.nhs.uk/CodeSystem/care-setting","code":"EIP"}]}],"subject":{"reference":"Patient/p"},"period":{"start":"2025-02-01"}}`,
			nil},
	}
	for _, c := range cases {
		m, _ := reg.Mapper(c.profile)
		v, err := fhir.DecodeResource([]byte(c.resource))
		if err != nil {
			t.Fatal(err)
		}
		f, err := m.Map(context.Background(), sharedcare.SourceRef{Type: v.Str("resourceType"), ID: "e", VersionID: 1}, v, fileResolver{patients: map[string]string{"p": "9434765919"}, orgs: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		var got []sharedcare.Episode
		for _, e := range f.Episodes {
			got = append(got, sharedcare.Episode{Start: e.Start, End: e.End})
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s %s: episodes (-want +got):\n%s", c.profile, c.resource[:60], diff)
		}
	}
}
