package synth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/carebridge/carebridge/adapter/synth"
	"github.com/carebridge/carebridge/fhir"
)

const asOf = "2026-06-30"

func config(people int, seed uint64) synth.Config {
	cfg := synth.DefaultConfig()
	cfg.People, cfg.Seed, cfg.AsOf = people, seed, asOf
	return cfg
}

// generate runs Generate and keeps every Bundle.
func generate(t testing.TB, cfg synth.Config) ([]synth.Bundle, synth.Stats) {
	t.Helper()
	var out []synth.Bundle
	stats, err := synth.Generate(context.Background(), cfg, func(b synth.Bundle) error {
		out = append(out, b)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return out, stats
}

// digest hashes everything Generate emits, in order.
func digest(t *testing.T, cfg synth.Config) [32]byte {
	t.Helper()
	h := sha256.New()
	_, err := synth.Generate(context.Background(), cfg, func(b synth.Bundle) error {
		h.Write([]byte(b.Side + b.Org + b.Source + "\n"))
		h.Write(b.JSON)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestTheSameSeedGivesTheSameBytes(t *testing.T) {
	packed := config(400, 7)
	packed.PeoplePerBundle = 25
	for name, cfg := range map[string]synth.Config{"one person a Bundle": config(400, 7), "25 people a Bundle": packed} {
		t.Run(name, func(t *testing.T) {
			first := digest(t, cfg)
			if again := digest(t, cfg); again != first {
				t.Error("two runs with one seed differ")
			}
			other := cfg
			other.Seed++
			if digest(t, other) == first {
				t.Error("another seed gives the same bytes")
			}
		})
	}
}

// resource is what the tests read of a resource.
type resource struct {
	ResourceType   string `json:"resourceType"`
	Meta           struct{ Source string }
	Identifier     []struct{ System, Value string }
	Deceased       string `json:"deceasedDateTime"`
	ClinicalStatus struct {
		Coding []struct{ Code string }
	} `json:"clinicalStatus"`
	Code struct {
		Coding []struct{ System, Code string }
	}
	Period *struct{ End string }
}

type bundle struct {
	Entry []struct {
		Resource resource
	}
}

func decode(t *testing.T, b synth.Bundle) bundle {
	t.Helper()
	var out bundle
	if err := json.Unmarshal(b.JSON, &out); err != nil {
		t.Fatalf("bundle from %s: %v", b.Org, err)
	}
	return out
}

func nhsNumber(r resource) string {
	for _, id := range r.Identifier {
		if id.System == fhir.SystemNHSNumber {
			return id.Value
		}
	}
	return ""
}

func TestNHSNumbersAreValidUniqueAndSynthetic(t *testing.T) {
	const people = 5000
	bundles, _ := generate(t, config(people, 3))
	seen := map[string]bool{}
	for _, b := range bundles {
		if b.Side != synth.SidePrimary {
			continue
		}
		for _, e := range decode(t, b).Entry {
			if e.Resource.ResourceType != "Patient" {
				continue
			}
			n := nhsNumber(e.Resource)
			if _, ok := fhir.NormalizeNHSNumber(n); !ok || !strings.HasPrefix(n, "999") || n < "9990010000" {
				t.Errorf("NHS number %q is not a valid number of the synthetic range", n)
			}
			if seen[n] {
				t.Errorf("NHS number %s is given to two people", n)
			}
			seen[n] = true
		}
	}
	if len(seen) != people {
		t.Errorf("%d GP Patients, want one for each of %d people", len(seen), people)
	}
}

// clinicalDate finds the dates of what happened (not of planned reviews).
var clinicalDate = regexp.MustCompile(`"(effectiveDateTime|onsetDateTime|abatementDateTime|recordedDate|authoredOn|deceasedDateTime|birthDate|start)":"(\d{4}-\d{2}-\d{2})`)

func TestEveryBundleIsAValidTransaction(t *testing.T) {
	national := synth.NationalConfig(3000)
	national.AsOf = asOf
	packed := config(600, 5)
	packed.PeoplePerBundle = 40
	for name, cfg := range map[string]synth.Config{
		"demo population":   config(1500, 2),
		"packed Bundles":    packed,
		"national dialects": national,
	} {
		t.Run(name, func(t *testing.T) {
			bundles, stats := generate(t, cfg)
			entries, people := 0, 0
			for i, b := range bundles {
				v, err := fhir.DecodeResource(b.JSON)
				if err != nil {
					t.Fatalf("bundle %d from %s is not valid FHIR: %v", i, b.Org, err)
				}
				kind, planned, err := fhir.PlanBundle(v)
				if err != nil || kind != fhir.Transaction {
					t.Fatalf("bundle %d from %s: plan %v, %v", i, b.Org, kind, err)
				}
				entries += len(planned)
				for _, m := range clinicalDate.FindAllSubmatch(b.JSON, -1) {
					if string(m[2]) > cfg.AsOf {
						t.Fatalf("bundle %d from %s has %s %s, after the reference date %s", i, b.Org, m[1], m[2], cfg.AsOf)
					}
				}
				for _, e := range decode(t, b).Entry {
					if e.Resource.Meta.Source != b.Source {
						t.Fatalf("a %s from %s has meta.source %q, want %q", e.Resource.ResourceType, b.Org, e.Resource.Meta.Source, b.Source)
					}
				}
				if b.Side == synth.SidePrimary {
					people += b.People
				}
			}
			if entries != stats.Resources || len(bundles) != stats.Bundles || people != cfg.People || stats.People != cfg.People {
				t.Errorf("stats %d people, %d bundles, %d resources; emitted %d people, %d bundles, %d entries",
					stats.People, stats.Bundles, stats.Resources, people, len(bundles), entries)
			}
		})
	}
}

func TestEveryScenarioAppearsForHundredsOfPeople(t *testing.T) {
	const people = 10000
	bundles, stats := generate(t, config(people, 1))
	for _, s := range synth.Scenarios() {
		if n := stats.Scenarios[s]; n < 150 || n > people-150 {
			t.Errorf("scenario %s: %d of %d people", s, n, people)
		}
	}
	// Some scenarios, counted again from the FHIR itself.
	var remission, deceased, declined, trustPeople, discharged int
	for _, b := range bundles {
		if b.Side == synth.SideSecondary {
			trustPeople += b.People
		}
		for _, e := range decode(t, b).Entry {
			r := e.Resource
			switch r.ResourceType {
			case "Condition":
				if len(r.ClinicalStatus.Coding) > 0 && r.ClinicalStatus.Coding[0].Code == "remission" {
					remission++
				}
			case "Patient":
				if r.Deceased != "" && b.Side == synth.SidePrimary {
					deceased++
				}
			case "Observation":
				if len(r.Code.Coding) > 0 && r.Code.Coding[0].Code == "413123006" {
					declined++
				}
			case "EpisodeOfCare":
				if r.Period != nil && r.Period.End != "" {
					discharged++
				}
			}
		}
	}
	for _, c := range []struct {
		what       string
		got, stats int
	}{
		{"remission Conditions", remission, stats.Scenarios["remission"]},
		{"deceased Patients", deceased, stats.Scenarios["deceased"]},
		{"people known to the trust", trustPeople, people - stats.Scenarios["gp-only"]},
		{"ended episodes", discharged, stats.Scenarios["episode/discharged"]},
	} {
		if c.got != c.stats {
			t.Errorf("%s: %d in the Bundles, %d in the stats", c.what, c.got, c.stats)
		}
	}
	if declined < stats.Scenarios["decline/blood-pressure"] {
		t.Errorf("%d blood pressure declines in the Bundles, fewer than the %d people the stats count", declined, stats.Scenarios["decline/blood-pressure"])
	}
}

func TestBadConfigurationsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*synth.Config)
		want   string
	}{
		{"no reference date", func(c *synth.Config) { c.AsOf = "" }, `as-of date ""`},
		{"nobody", func(c *synth.Config) { c.People = 0 }, "people: 0"},
		{"a practice speaking a trust dialect", func(c *synth.Config) { c.Practices[0].Profile = synth.ProfileUKCoreTrust }, "is a secondary care dialect"},
		{"an unknown dialect", func(c *synth.Config) { c.Trusts[0].Profile = "rio-v2" }, `profile "rio-v2"`},
		{"an ODS code twice", func(c *synth.Config) { c.Trusts[0].ODS = "A12345" }, "ODS code A12345 is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(10, 1)
			tc.change(&cfg)
			_, err := synth.Generate(context.Background(), cfg, func(synth.Bundle) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestGenerateStopsAtTheFirstEmitError(t *testing.T) {
	calls := 0
	_, err := synth.Generate(context.Background(), config(50, 1), func(synth.Bundle) error {
		calls++
		if calls == 3 {
			return bytes.ErrTooLarge
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), bytes.ErrTooLarge.Error()) || calls != 3 {
		t.Errorf("err = %v after %d calls, want the third call's error", err, calls)
	}
}

func BenchmarkGenerate(b *testing.B) {
	const people = 10000
	cfg := config(people, 1)
	var bytesOut int
	for b.Loop() {
		_, err := synth.Generate(context.Background(), cfg, func(bu synth.Bundle) error {
			bytesOut += len(bu.JSON)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(people*b.N)/b.Elapsed().Seconds(), "people/s")
	b.ReportMetric(float64(bytesOut)/float64(b.N)/people, "bytes/person")
}
