package fhir

import (
	"net/url"
	"testing"
	"time"
)

// matchCase is a search and whether it finds the resource.
type matchCase struct {
	query string
	want  bool
}

// runMatches parses each query on typ and checks Matches against the index
// of res.
func runMatches(t *testing.T, typ, id string, lastUpdated time.Time, res string, cases []matchCase) {
	t.Helper()
	loc := london(t)
	ix, err := ExtractIndex(typ, ixValue(t, res), loc)
	if err != nil {
		t.Fatalf("ExtractIndex: %v", err)
	}
	for _, tc := range cases {
		params, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		q, _, err := ParseQuery(typ, params, QueryOptions{Location: loc})
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.query, err)
			continue
		}
		if got := q.Matches(id, lastUpdated, ix); got != tc.want {
			t.Errorf("%s?%s matches = %v, want %v", typ, tc.query, got, tc.want)
		}
	}
}

func TestMatchesDatePrefixesAtDayBoundaries(t *testing.T) {
	// The target is the whole of 10 March 2025 (GMT); the searches are the
	// day before, the day itself, the day after, and the month.
	obs := `{"resourceType":"Observation","effectiveDateTime":"2025-03-10"}`
	tests := []struct {
		prefix                   string
		before, on, after, month bool
	}{
		{"eq", false, true, false, true},
		{"ne", true, false, true, false},
		{"gt", true, false, false, false},
		{"lt", false, false, true, false},
		{"ge", true, true, false, true},
		{"le", false, true, true, true},
		{"sa", true, false, false, false},
		{"eb", false, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			runMatches(t, "Observation", "o1", time.Time{}, obs, []matchCase{
				{"date=" + tc.prefix + "2025-03-09", tc.before},
				{"date=" + tc.prefix + "2025-03-10", tc.on},
				{"date=" + tc.prefix + "2025-03-11", tc.after},
				{"date=" + tc.prefix + "2025-03", tc.month},
			})
		})
	}
}

func TestMatchesDatesInTheServerZone(t *testing.T) {
	// 23:30 UTC on 10 July is 00:30 BST on 11 July: an English date search
	// finds it on the 11th.
	runMatches(t, "Observation", "o1", time.Time{},
		`{"resourceType":"Observation","effectiveDateTime":"2025-07-10T23:30:00Z"}`, []matchCase{
			{"date=2025-07-11", true},
			{"date=2025-07-10", false},
			{"date=2025-07-11T00:30", true},
			{"date=2025-07-10T23:30Z", true},
			{"date=2025-07-10T23:30:00%2B00:00", true},
			{"date=2025-07-11T00:30:00 01:00", true}, // "+" read as a space
			{"date=lt2025-07-11T00:30:01", true},
			{"date=gt2025-07-11T00:29:59", true},
			{"date=gt2025-07-11T00:30:00", false},
		})
}

func TestMatchesOpenPeriods(t *testing.T) {
	runMatches(t, "EpisodeOfCare", "e1", time.Time{},
		`{"resourceType":"EpisodeOfCare","period":{"start":"2024-04-01"}}`, []matchCase{
			{"date=2024", false},                          // the period runs past 2024
			{"date=ge2024-04-01", true},                   // and goes on after the day
			{"date=gt2099", true},                         // open ended: later than anything
			{"date=lt2024-04-01", false},                  // starts on the day, not before
			{"date=sa2024-03-31", true},                   // starts after 31 March
			{"date=eb2099", false},                        // never ends
			{"date=ne2024-04-01", true},                   // not within the day
			{"date=ge2024-01-01&date=le2024-12-31", true}, // overlaps 2024 from both sides
		})
}

func TestMatchesTokens(t *testing.T) {
	obs := `{"resourceType":"Observation","status":"final",
		"code":{"coding":[{"system":"http://snomed.info/sct","code":"1085871000000105"},{"system":"http://read.info/ctv3","code":"XaQVY"}]},
		"category":[{"coding":[{"code":"local-cat"}]}],
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"943 476 5919"}],
		"meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation|2.0.1"]}}`
	runMatches(t, "Observation", "o1", time.Time{}, obs, []matchCase{
		{"code=1085871000000105", true},
		{"code=http://snomed.info/sct|1085871000000105", true},
		{"code=http://read.info/ctv3|1085871000000105", false},
		{"code=http://read.info/ctv3|", true},
		{"code=http://loinc.org|", false},
		{"code=|1085871000000105", false},
		{"category=|local-cat", true},
		{"category=local-cat", true},
		{"code=xaqvy", false}, // codes are case-sensitive
		{"code=nope,XaQVY", true},
		{"code=1085871000000105&code=XaQVY", true},
		{"code=1085871000000105&code=nope", false},
		{"status:not=final", false},
		{"status:not=preliminary,amended", true},
		{"code:not=http://loinc.org|", true},
		{"identifier=https://fhir.nhs.uk/Id/nhs-number|943-476-5919", true},
		{"identifier=9434765919", true},
		{"_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation|2.0.1", true},
		{"_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation", true},
		{"_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation|1.0.0", false},
		{"code:missing=false", true},
		{"code:missing=true", false},
		{"encounter:missing=true", true},
		{"_tag:missing=true", true},
	})
}

func TestMatchesReferences(t *testing.T) {
	task := `{"resourceType":"Task","status":"requested",
		"for":{"reference":"Patient/p1","identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}},
		"owner":{"type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82005"}},
		"focus":{"reference":"https://rio.trust.example/fhir/ServiceRequest/sr1/_history/3"},
		"basedOn":[{"reference":"#contained"}],
		"partOf":[{"reference":"Task/t0/_history/1"}]}`
	runMatches(t, "Task", "t1", time.Time{}, task, []matchCase{
		{"patient=p1", true},
		{"patient=Patient/p1", true},
		{"patient=p2", false},
		{"subject=Patient/p1", true},
		{"subject:Patient=p1", true},
		{"subject=Group/p1", false},
		{"patient:identifier=https://fhir.nhs.uk/Id/nhs-number|943%20476%205919", true},
		{"patient:identifier=9434765919", true},
		{"patient:identifier=|9434765919", false},
		{"owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B82005", true},
		{"owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|", true},
		{"owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001", false},
		// Matches does not link a literal reference to the target's identifiers;
		// the stores do.
		{"owner=Organization/org1", false},
		{"focus=https://rio.trust.example/fhir/ServiceRequest/sr1", true},
		{"focus=https://rio.trust.example/fhir/ServiceRequest/sr1/_history/3", true},
		{"focus=ServiceRequest/sr1", false},
		{"part-of=Task/t0", true},
		{"part-of=t0", true},
		{"based-on:missing=false", true}, // a contained reference is there, with no target
		{"encounter:missing=true", true},
		{"requester:missing=false", false},
	})
}

func TestMatchesStrings(t *testing.T) {
	pat := `{"resourceType":"Patient","name":[{"family":"Ó Briain","given":["Siân","Mair"],"text":"Siân Mair Ó Briain"}],
		"address":[{"postalCode":"LS1 4HR"}]}`
	runMatches(t, "Patient", "p1", time.Time{}, pat, []matchCase{
		{"family=o", true},
		{"family=Ó%20Bri", true},
		{"family=OBRIAIN", false},
		{"family=briain", false}, // starts with, not contains
		{"family:contains=briain", true},
		{"family:exact=o%20briain", true},
		{"family:exact=ó%20briain", true}, // exact only up to case and accents: the index is normalised
		{"family:exact=o%20bri", false},
		{"given=sian", true},
		{"given=mair", true},
		{"given=ma,xx", true},
		{"name=sian%20mair", true},
		{"name:contains=mair%20o", true},
		{"address-postalcode=ls1", true},
		{"address-postalcode=LS1%204", true},
		{"address-postalcode=LS14HR", false},
		{"birthdate:missing=true", true},
	})
}

func TestMatchesIDAndLastUpdated(t *testing.T) {
	lu := time.Date(2025, 6, 12, 10, 15, 2, 123456789, time.UTC) // kept to the millisecond: .123
	runMatches(t, "Patient", "p1", lu, `{"resourceType":"Patient"}`, []matchCase{
		{"_id=p1", true},
		{"_id=p2,p1", true},
		{"_id=p2", false},
		{"_lastUpdated=2025-06-12", true},
		{"_lastUpdated=2025-06-12T11:15:02 01:00", true},
		{"_lastUpdated=2025-06-12T10:15:02.123Z", true},
		{"_lastUpdated=2025-06-12T10:15:02.1234Z", false},
		{"_lastUpdated=gt2025-06-12T10:15:02.122Z", true},
		{"_lastUpdated=gt2025-06-12T10:15:02.123Z", false},
		{"_lastUpdated=lt2025-06-12T10:15:02.124Z", true},
		{"_lastUpdated=lt2025-06-12T10:15:02.123Z", false},
		{"_lastUpdated=ge2025-06-12T10:15:02.123Z", true},
		{"_lastUpdated=le2025-06-12T10:15:02.123Z", true},
		{"_lastUpdated=sa2025-06-11", true},
		{"_lastUpdated=eb2025-06-13", true},
		{"_lastUpdated=eb2025-06-12", false},
		{"_lastUpdated=ne2025-06-12", false},
		{"_lastUpdated=ge2025-06-01&_lastUpdated=lt2025-07-01", true},
	})
}

func TestMatchesHandBuiltClauses(t *testing.T) {
	ix := &Index{
		Tokens:     []TokenEntry{{Param: "status", Code: "final"}},
		References: []ReferenceEntry{{Param: "subject", TargetType: "Group", TargetID: "p1"}},
	}
	tests := []struct {
		name string
		c    Clause
		want bool
	}{
		{"a clause without values matches nothing", Clause{Param: "status", Type: TokenParam}, false},
		{"an id without a type matches a reference to any type",
			Clause{Param: "subject", Type: ReferenceParam, Values: []ClauseValue{{TargetID: "p1"}}}, true},
		{"reference :not", Clause{Param: "subject", Type: ReferenceParam, Modifier: ModifierNot,
			Values: []ClauseValue{{TargetType: "Group", TargetID: "p1"}}}, false},
		{"_id :not", Clause{Param: "_id", Type: IDParam, Modifier: ModifierNot, Values: []ClauseValue{{Code: "x"}}}, true},
		{"_id :missing=true never holds", Clause{Param: "_id", Type: IDParam, Modifier: ModifierMissing, Values: []ClauseValue{{Missing: true}}}, false},
		{"_lastUpdated :missing=false always holds", Clause{Param: "_lastUpdated", Type: LastUpdatedParam, Modifier: ModifierMissing, Values: []ClauseValue{{}}}, true},
		{"a modifier without meaning does not match", Clause{Param: "status", Type: TokenParam, Modifier: ModifierExact,
			Values: []ClauseValue{{Code: "final"}}}, false},
		{"a date modifier without meaning does not match", Clause{Param: "date", Type: DateParam, Modifier: ModifierNot,
			Values: []ClauseValue{{Low: MinTime, High: MaxTime}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &Query{Type: "Observation", Clauses: []Clause{tc.c}}
			if got := q.Matches("id", time.Time{}, ix); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
	if !(&Query{Type: "Observation"}).Matches("id", time.Time{}, nil) {
		t.Errorf("a query without clauses does not match a resource without an index")
	}
}
