package mappings_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/mappings"
)

func TestCheckSNOMEDID(t *testing.T) {
	for _, id := range []string{"58214004", "75367002", "138875005", "999791000000106", "16238741000119105", "1127191000000108"} {
		if err := mappings.CheckSNOMEDID(id); err != nil {
			t.Errorf("CheckSNOMEDID(%s) = %v, want nil", id, err)
		}
	}
	for id, want := range map[string]string{
		"58214005":          "the Verhoeff check digit does not match (a mistyped or corrupted id)",
		"10826410000001000": "not a concept id: its partition is 00... ",                            // float-rounded 1082641000000106
		"85214004":          "the Verhoeff check digit does not match (a mistyped or corrupted id)", // two digits swapped
		"12345":             "a SNOMED CT id has 6 to 18 digits",
		"0582140":           "a SNOMED CT id does not start with 0",
		"58214O04":          "a SNOMED CT id has only digits",
		"1005671000000115":  "not a concept id: its partition is 11, not 00 or 10",
	} {
		err := mappings.CheckSNOMEDID(id)
		if err == nil {
			t.Errorf("CheckSNOMEDID(%s) = nil, want an error", id)
			continue
		}
		if want[len(want)-4:] == "... " {
			continue // any refusal will do
		}
		if err.Error() != want {
			t.Errorf("CheckSNOMEDID(%s) = %q, want %q", id, err, want)
		}
	}
}

func TestParseProfileReportsEveryProblemWithItsLine(t *testing.T) {
	const bad = `profile: broken
name: A broken profile
side: tertiary
version: "1"
organisations:
  - {ods: a1, name: lower case, role: hospital}
identifiers:
  nhsNumber: [https://fhir.nhs.uk/Id/nhs-number]
  ods: [https://fhir.nhs.uk/Id/ods-organization-code]
  patientReferences: literal
codes:
  passThrough: [http://snomed.info/sct]
  maps:
    - name: ICD-10
      source: http://hl7.org/fhir/sid/icd-10
      target: http://snomed.info/sct
      elements:
        - {code: F20, match: prefix, target: "58214004"}
        - {code: F31, match: prefix, target: "13746005"}
        - {code: F20, match: prefix, target: "13746004"}
        - {code: F25, match: fuzzy, target: "68890003"}
units:
  - {concept: "999791000000106", from: "%", to: mmol/mol, conversion: guess}
episodes:
  resource: CarePlan
`
	_, err := mappings.ParseProfile("broken.yaml", []byte(bad))
	var pe *mappings.ProfileError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ProfileError", err)
	}
	want := []mappings.Problem{
		{Line: 3, Message: `side must be primary or secondary, not "tertiary"`},
		{Line: 6, Message: `"a1" is not an ODS organisation code`},
		{Line: 6, Message: `role must be gp-practice, trust or team, not "hospital"`},
		{Line: 19, Message: `target "13746005": the Verhoeff check digit does not match (a mistyped or corrupted id)`},
		{Line: 20, Message: "code F20 conflicts with the element at line 18: it maps to 58214004 there and to 13746004 here"},
		{Line: 21, Message: `match must be exact or prefix, not "fuzzy"`},
		{Line: 23, Message: `unknown conversion "guess": use one of hba1c-dcct-to-ifcc, identity, mg/dL-cholesterol-to-mmol/L, mg/dL-glucose-to-mmol/L`},
		{Line: 24, Message: "episodes from CarePlan need the categories that mean an episode"},
	}
	if diff := cmp.Diff(want, pe.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestParseProfileRefusesUnknownKeysWithTheirLines(t *testing.T) {
	_, err := mappings.ParseProfile("typo.yaml", []byte("profile: x\nname: y\nside: primary\nversion: \"1\"\nidentifers:\n  nhsNumber: []\n"))
	if err == nil || err.Error() != "typo.yaml:5: field identifers not found in type mappings.Profile" {
		t.Errorf("err = %v", err)
	}
}
