package adapter

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/sharedcare"
	"github.com/carebridge/carebridge/adapter/store"
)

// TestStoredFactsRoundTrip encodes facts of every kind, with source
// references to the row's own resource and to another one, and checks that
// decoding gives the same facts back while the stored bytes leave out what
// the row already says.
func TestStoredFactsRoundTrip(t *testing.T) {
	own := sharedcare.SourceRef{Type: "Observation", ID: "obs-7f3c", VersionID: 3, Profile: "uk-core-gp"}
	other := sharedcare.SourceRef{Type: "Encounter", ID: "enc-1", VersionID: 1, Profile: "uk-core-gp"}
	v := 48.0
	facts := func() sharedcare.Facts {
		return sharedcare.Facts{
			NHSNumber: "9434765919", PatientRef: "pat-1", Org: "A12345", Side: sharedcare.Primary,
			Person:    &sharedcare.Person{NHSNumber: "9434765919", GPPractice: "A12345", Sources: []sharedcare.SourceRef{own, other}},
			Register:  []sharedcare.RegisterEntry{{Category: "schizophrenia", Concept: "58214004", Date: "2020-01-02", Side: sharedcare.Primary, Source: own}},
			Episodes:  []sharedcare.Episode{{Trust: "RX1", Start: "2024-05-01", Source: other}},
			Referrals: []sharedcare.Referral{{From: "A12345", To: "RX1", Status: "active", Source: own}},
			CarePlans: []sharedcare.CarePlan{{Status: "active", Owners: []string{"A12345"}, Source: own}},
			Evidence:  []sharedcare.Evidence{{Component: "glucose", Concept: "1049301000000100", Value: &v, Unit: "mmol/mol", Date: "2026-03-01", Status: "final", Side: sharedcare.Primary, Source: own}},
			Declines:  []sharedcare.Decline{{Component: "lipids", Concept: "x", Date: "2026-01-01", Side: sharedcare.Primary, Source: own}},
			WorkItems: []sharedcare.WorkItem{{Status: "requested", Owner: "A12345", Source: own}},
			Unmapped:  []sharedcare.Unmapped{{Profile: "uk-core-gp", What: "unit", Code: "%", Expression: "Observation.valueQuantity", Reason: "no conversion"}},
		}
	}
	plain, err := json.Marshal(facts())
	if err != nil {
		t.Fatal(err)
	}
	row, err := encodeFacts(store.Projection{Type: own.Type, ID: own.ID, VersionID: own.VersionID}, own.Profile, facts())
	if err != nil {
		t.Fatal(err)
	}
	if row.Person != "9434765919" || row.PatientRef != "pat-1" || row.Org != "A12345" || row.Profile != own.Profile || len(row.Unmapped) != 1 {
		t.Errorf("row columns = %+v", row)
	}
	if bytes.Contains(row.Facts, []byte(own.ID)) || bytes.Contains(row.Facts, []byte("9434765919\",\"patientRef")) {
		t.Errorf("stored facts repeat the row: %s", row.Facts)
	}
	if !bytes.Contains(row.Facts, []byte(other.ID)) {
		t.Errorf("stored facts lost the reference to another resource: %s", row.Facts)
	}
	if len(row.Facts) >= len(plain)*2/3 {
		t.Errorf("stored facts are %d bytes, plain JSON %d: want a third fewer at least", len(row.Facts), len(plain))
	}
	got, err := decodeFacts(row)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(facts(), got); diff != "" {
		t.Errorf("decode(encode(facts)) (-want +got):\n%s", diff)
	}
	if _, err := decodeFacts(store.Projection{Type: "Observation", ID: "x", Facts: []byte(`{"side":`)}); err == nil {
		t.Error("decodeFacts of broken JSON: no error")
	}
}

func TestFactsThatSayNothingGetNoRow(t *testing.T) {
	row, err := encodeFacts(store.Projection{Type: "Encounter", ID: "e1", VersionID: 2}, "uk-core-trust",
		sharedcare.Facts{NHSNumber: "9434765919", PatientRef: "p1", Side: sharedcare.Secondary})
	if err != nil {
		t.Fatal(err)
	}
	if row.Facts != nil || row.Person != "" || row.PatientRef != "" {
		t.Errorf("row = %+v, want the removal of Encounter/e1's row", row)
	}
}
