package synth

import (
	"errors"
	"fmt"
	"time"
)

// The shipped mapping profiles whose dialects the generator speaks
// (mappings/profiles/*.yaml).
const (
	ProfileUKCoreGP        = "uk-core-gp"         // GP: UK Core, SNOMED CT, UCUM, literal references
	ProfileGPNHSNumberRefs = "gp-nhs-number-refs" // GP: people referenced by NHS number only, LOINC, cholesterol in mg/dL
	ProfileUKCoreTrust     = "uk-core-trust"      // trust: UK Core, episodes as EpisodeOfCare
	ProfileTrustEPRICD10   = "trust-epr-icd10"    // trust: ICD-10, local observation codes, HbA1c in %, episodes as CarePlan
)

// The two sides of shared care, as Bundle.Side says.
const (
	SidePrimary   = "primary"   // GP practices
	SideSecondary = "secondary" // mental health trusts
)

// Org is an organisation that sends Bundles.
type Org struct {
	ODS     string // ODS organisation code
	Name    string // for its Organization resource; made up from the code when empty
	Source  string // meta.source of every resource it sends
	Profile string // the shipped mapping profile whose dialect it speaks (Profile* constants)
}

// Config says what population to make. The same Config gives the same
// Bundles, byte for byte.
type Config struct {
	People int    // how many people, at most MaxPeople
	Seed   uint64 // the seed of every random choice
	// AsOf is the reference date, YYYY-MM-DD: clinical dates fall in the
	// 30 months or so before it (diagnoses and episodes may be older), and
	// none after it.
	AsOf string
	// Practices are the GP practices people are registered with, in
	// contiguous blocks of people; each speaks a primary care dialect.
	Practices []Org
	// Trusts are the mental health trusts; the practices are split between
	// them in contiguous blocks (catchments). Without trusts everyone is
	// known to their GP only.
	Trusts []Org
	// PeoplePerBundle packs several people of one organisation into one
	// transaction Bundle, for bulk loads; 0 or 1 is one Bundle per person
	// per side.
	PeoplePerBundle int
}

// DefaultConfig is the demo population: 300 people of one primary care
// network of three practices (two speaking uk-core-gp, one
// gp-nhs-number-refs) and one trust speaking uk-core-trust, seed 1. AsOf is
// left empty: the reference date is the caller's choice (Generate reads no
// clock).
func DefaultConfig() Config {
	return Config{
		People: 300,
		Seed:   1,
		Practices: []Org{
			{ODS: "A12345", Name: "Riverside Medical Practice", Source: "urn:carebridge:source:uk-core-gp", Profile: ProfileUKCoreGP},
			{ODS: "B23456", Name: "Canal Street Surgery", Source: "urn:carebridge:source:uk-core-gp", Profile: ProfileUKCoreGP},
			{ODS: "C34567", Name: "Hillside Health Centre", Source: "urn:carebridge:source:gp-nhs-number-refs", Profile: ProfileGPNHSNumberRefs},
		},
		Trusts: []Org{
			{ODS: "RXX", Name: "Example Mental Health NHS Foundation Trust", Source: "urn:carebridge:source:uk-core-trust", Profile: ProfileUKCoreTrust},
		},
		PeoplePerBundle: 1,
	}
}

// NationalConfig spreads people over an England-sized set of organisations:
// one synthetic practice (P00001, P00002...; all uk-core-gp) for every 87
// people, the national average SMI register size of a practice, and one
// trust for every 125 practices (between 2 and 60): RYY speaking
// trust-epr-icd10, then R01, R02... speaking uk-core-trust, with every fifth
// one trust-epr-icd10. Seed 1, 100 people per Bundle; AsOf is left empty.
func NationalConfig(people int) Config {
	practices := max(1, (people+86)/87)
	trusts := min(60, max(2, practices/125))
	cfg := Config{People: people, Seed: 1, PeoplePerBundle: 100}
	for i := range practices {
		cfg.Practices = append(cfg.Practices, Org{
			ODS: fmt.Sprintf("P%05d", i+1), Source: "urn:carebridge:source:uk-core-gp", Profile: ProfileUKCoreGP,
		})
	}
	cfg.Trusts = append(cfg.Trusts, Org{ODS: "RYY", Source: "urn:carebridge:source:trust-epr-icd10", Profile: ProfileTrustEPRICD10})
	for i := 1; i < trusts; i++ {
		o := Org{ODS: fmt.Sprintf("R%02d", i), Source: "urn:carebridge:source:uk-core-trust", Profile: ProfileUKCoreTrust}
		if i%5 == 0 {
			o.Source, o.Profile = "urn:carebridge:source:trust-epr-icd10", ProfileTrustEPRICD10
		}
		cfg.Trusts = append(cfg.Trusts, o)
	}
	return cfg
}

// check validates the configuration and returns the reference date.
func (c *Config) check() (time.Time, error) {
	var errs []error
	if c.People < 1 || c.People > MaxPeople {
		errs = append(errs, fmt.Errorf("people: %d is not between 1 and %d", c.People, MaxPeople))
	}
	asOf, err := time.Parse(time.DateOnly, c.AsOf)
	if err != nil {
		errs = append(errs, fmt.Errorf("as-of date %q: want YYYY-MM-DD", c.AsOf))
	}
	if c.PeoplePerBundle < 0 {
		errs = append(errs, fmt.Errorf("people per bundle: %d is negative", c.PeoplePerBundle))
	}
	if len(c.Practices) == 0 {
		errs = append(errs, errors.New("no GP practices"))
	}
	seen := map[string]bool{}
	for _, set := range []struct {
		orgs []Org
		side string
	}{{c.Practices, SidePrimary}, {c.Trusts, SideSecondary}} {
		for _, o := range set.orgs {
			switch d, ok := dialectOf(o.Profile); {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: profile %q is not one the generator speaks", o.ODS, o.Profile))
			case d.side != set.side:
				errs = append(errs, fmt.Errorf("%s: profile %q is a %s care dialect", o.ODS, o.Profile, d.side))
			}
			if o.ODS == "" || o.Source == "" {
				errs = append(errs, fmt.Errorf("an organisation needs an ODS code and a source: %+v", o))
			}
			if seen[o.ODS] {
				errs = append(errs, fmt.Errorf("ODS code %s is given twice", o.ODS))
			}
			seen[o.ODS] = true
		}
	}
	return asOf, errors.Join(errs...)
}
