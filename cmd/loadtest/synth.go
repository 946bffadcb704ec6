package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// resourcesPerPerson is how many resources the generator writes per person:
// Patient, Condition, CarePlan, ServiceRequest, Encounter, three
// Observations, Procedure and Task.
const resourcesPerPerson = 10

// generator writes synthetic trust feeds: valid, distinct NHS numbers and a
// realistic mix of resource types linked by urn:uuid references.
type generator struct {
	rng    *rand.Rand
	seq    uint64
	source string // meta.source of every resource: picks the gateway's mapping profile
}

func newGenerator(seed uint64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// nhsNumber returns a random valid NHS number (modulus 11 check digit).
func (g *generator) nhsNumber() string {
	for {
		var d [10]int
		sum := 0
		for i := range 9 {
			d[i] = g.rng.IntN(10)
			sum += d[i] * (10 - i)
		}
		check := 11 - sum%11
		if check == 10 {
			continue
		}
		if check == 11 {
			check = 0
		}
		d[9] = check
		s := make([]byte, 10)
		for i, x := range d {
			s[i] = byte('0' + x)
		}
		return string(s)
	}
}

func (g *generator) uuid() string {
	g.seq++
	return fmt.Sprintf("urn:uuid:%08x-%04x-4%03x-8%03x-%012x", g.rng.Uint32(), g.seq&0xffff, g.rng.IntN(0x1000), g.rng.IntN(0x1000), g.rng.Uint64()&0xffffffffffff)
}

type obj = map[string]any

func coding(system, code, display string) obj {
	return obj{"coding": []obj{{"system": system, "code": code, "display": display}}}
}

func ods(code string) obj {
	return obj{"identifier": obj{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": code}}
}

const snomed = "http://snomed.info/sct"

// person returns the resources of one synthetic person, each with its fullUrl.
func (g *generator) person() (fullURLs []string, resources []obj) {
	practices := []string{"A12345", "B23456", "C34567", "D45678"}
	practice := practices[g.rng.IntN(len(practices))]
	day := func() string { return fmt.Sprintf("2026-%02d-%02d", 1+g.rng.IntN(10), 1+g.rng.IntN(28)) }
	when := func() string { return day() + fmt.Sprintf("T%02d:%02d:00+00:00", 8+g.rng.IntN(9), g.rng.IntN(60)) }
	pat := g.uuid()
	subject := obj{"reference": pat}
	sr := g.uuid()
	add := func(url string, r obj) {
		if g.source != "" {
			meta, _ := r["meta"].(obj)
			if meta == nil {
				meta = obj{}
			}
			meta["source"] = g.source
			r["meta"] = meta
		}
		fullURLs = append(fullURLs, url)
		resources = append(resources, r)
	}
	add(pat, obj{
		"resourceType":        "Patient",
		"meta":                obj{"profile": []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"}},
		"identifier":          []obj{{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": g.nhsNumber()}},
		"name":                []obj{{"use": "official", "family": fmt.Sprintf("Synth%d", g.seq), "given": []string{"Alex"}}},
		"gender":              []string{"female", "male"}[g.rng.IntN(2)],
		"birthDate":           fmt.Sprintf("%d-%02d-%02d", 1950+g.rng.IntN(50), 1+g.rng.IntN(12), 1+g.rng.IntN(28)),
		"generalPractitioner": []obj{ods(practice)},
	})
	add(g.uuid(), obj{
		"resourceType":   "Condition",
		"clinicalStatus": coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
		"category":       []obj{coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")},
		"code":           coding(snomed, "58214004", "Schizophrenia"),
		"subject":        subject,
		"recordedDate":   day(),
	})
	add(g.uuid(), obj{
		"resourceType": "CarePlan",
		"status":       "active",
		"intent":       "plan",
		"category":     []obj{coding(snomed, "736353004", "Inpatient care plan")},
		"subject":      subject,
		"period":       obj{"start": day()},
	})
	add(sr, obj{
		"resourceType": "ServiceRequest",
		"status":       "active",
		"intent":       "order",
		"code":         coding(snomed, "1287741000000107", "Physical health check for people with serious mental illness"),
		"subject":      subject,
		"authoredOn":   when(),
		"requester":    ods("RXX"),
		"performer":    []obj{ods(practice)},
	})
	add(g.uuid(), obj{
		"resourceType": "Encounter",
		"status":       "finished",
		"class":        obj{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
		"subject":      subject,
		"period":       obj{"start": when()},
	})
	for _, o := range []struct {
		code, display string
		value         float64
		unit, ucum    string
	}{
		{"60621009", "Body mass index", 22 + g.rng.Float64()*14, "kg/m2", "kg/m2"},
		{"1005671000000105", "Serum cholesterol level", 3 + g.rng.Float64()*4, "mmol/L", "mmol/L"},
		{"999791000000106", "Haemoglobin A1c level - IFCC standardised", float64(30 + g.rng.IntN(40)), "mmol/mol", "mmol/mol"},
	} {
		add(g.uuid(), obj{
			"resourceType":      "Observation",
			"status":            "final",
			"category":          []obj{coding("http://terminology.hl7.org/CodeSystem/observation-category", "exam", "Exam")},
			"code":              coding(snomed, o.code, o.display),
			"subject":           subject,
			"effectiveDateTime": when(),
			"valueQuantity":     obj{"value": float64(int(o.value*10)) / 10, "unit": o.unit, "system": "http://unitsofmeasure.org", "code": o.ucum},
		})
	}
	add(g.uuid(), obj{
		"resourceType":      "Procedure",
		"status":            "completed",
		"code":              coding(snomed, "75367002", "Blood pressure"),
		"subject":           subject,
		"performedDateTime": when(),
	})
	add(g.uuid(), obj{
		"resourceType": "Task",
		"status":       "requested",
		"intent":       "order",
		"priority":     "routine",
		"code":         obj{"text": "SMI physical health check: blood pressure outstanding"},
		"focus":        obj{"reference": sr},
		"for":          subject,
		"authoredOn":   when(),
		"requester":    ods("RXX"),
		"owner":        ods(practice),
	})
	return fullURLs, resources
}

// transaction returns a transaction Bundle of about size resources (whole
// people of resourcesPerPerson each) and the number of resources in it.
func (g *generator) transaction(size int) ([]byte, int, error) {
	people := max(1, size/resourcesPerPerson)
	entries := make([]obj, 0, people*resourcesPerPerson)
	for range people {
		urls, res := g.person()
		for i, r := range res {
			entries = append(entries, obj{
				"fullUrl":  urls[i],
				"resource": r,
				"request":  obj{"method": "POST", "url": r["resourceType"]},
			})
		}
	}
	data, err := json.Marshal(obj{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return data, len(entries), err
}

// resources returns n resources without a Bundle, with references between
// them left as urn:uuid (for the ceiling, which does not resolve them).
func (g *generator) resources(n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for len(out) < n {
		_, res := g.person()
		for _, r := range res {
			data, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			out = append(out, data)
		}
	}
	return out[:n], nil
}

// patient returns one Patient resource.
func (g *generator) patient() ([]byte, error) {
	_, res := g.person()
	return json.Marshal(res[0])
}
