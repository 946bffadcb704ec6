package sharedcare_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/sharedcare"
)

func TestAssembleIgnoresArrivalOrderAndPrefersThePrimaryRegistration(t *testing.T) {
	src := func(typ, id string) sharedcare.SourceRef {
		return sharedcare.SourceRef{Type: typ, ID: id, VersionID: 1}
	}
	v := 27.4
	facts := []sharedcare.Facts{
		{Side: sharedcare.Secondary, Person: &sharedcare.Person{NHSNumber: "9434765919", GPPractice: "B23456", Sources: []sharedcare.SourceRef{src("Patient", "t1")}}},
		{Side: sharedcare.Primary, Person: &sharedcare.Person{NHSNumber: "9434765919", GPPractice: "A12345", BirthDate: "1980-01-02", Sources: []sharedcare.SourceRef{src("Patient", "g1")}}},
		{Side: sharedcare.Primary, Person: &sharedcare.Person{NHSNumber: "9434765919", Deceased: true, DeathDate: "2026-01-05", Sources: []sharedcare.SourceRef{src("Patient", "g2")}}},
		{Evidence: []sharedcare.Evidence{{Component: sharedcare.BMI, Concept: "60621009", Value: &v, Date: "2025-02-03", Source: src("Observation", "b")}}},
		{Evidence: []sharedcare.Evidence{{Component: sharedcare.BMI, Concept: "60621009", Value: &v, Date: "2025-02-03", Source: src("Observation", "a")}}},
		{Register: []sharedcare.RegisterEntry{{Category: sharedcare.Bipolar, Concept: "13746004", Date: "2020-01-01", Source: src("Condition", "c")}}},
		{Register: []sharedcare.RegisterEntry{{Category: sharedcare.Bipolar, Remission: true, Concept: "13746004", Date: "2020-01-01", Source: src("Condition", "c")}}},
	}
	want := sharedcare.Assemble("9434765919", facts)
	if want.Person.GPPractice != "A12345" || !want.Person.Deceased || want.Person.BirthDate != "1980-01-02" {
		t.Errorf("person = %+v, want the GP's practice, the birth date and the death", want.Person)
	}
	if want.Evidence[0].Source.ID != "a" || want.Register[0].Remission {
		t.Errorf("order: evidence %v first, register %+v first", want.Evidence[0].Source, want.Register[0])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rng.Shuffle(len(facts), func(i, j int) { facts[i], facts[j] = facts[j], facts[i] })
		if diff := cmp.Diff(want, sharedcare.Assemble("9434765919", facts)); diff != "" {
			t.Fatalf("a different arrival order gave a different record (-want +got):\n%s", diff)
		}
	}
}
