package fhir

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSearchableTypesAreTheServedTypes(t *testing.T) {
	if diff := cmp.Diff(ServedTypes(), SearchableTypes()); diff != "" {
		t.Errorf("SearchableTypes() differs from ServedTypes() (-served +searchable):\n%s", diff)
	}
}

// The parameters each type must have: the R4 parameters CareBridge serves.
var wantSearchParams = map[string]string{
	"Patient":          "identifier name family given birthdate gender general-practitioner organization active address-postalcode death-date",
	"Organization":     "identifier name active type partof",
	"Practitioner":     "identifier name family given active",
	"PractitionerRole": "identifier practitioner organization role specialty active",
	"ServiceRequest":   "identifier patient subject status intent category code requester performer authored occurrence based-on encounter priority",
	"Condition":        "identifier patient subject code clinical-status verification-status category onset-date recorded-date encounter asserter",
	"CarePlan":         "identifier patient subject status intent category date encounter based-on care-team activity-code",
	"Task": "identifier patient subject focus owner requester status business-status code intent priority authored-on modified period " +
		"based-on part-of encounter group-identifier",
	"Observation":   "identifier patient subject code category status date encounter performer based-on",
	"Procedure":     "identifier patient subject code status date category performer encounter based-on",
	"EpisodeOfCare": "identifier patient status type date organization care-manager condition incoming-referral",
	"Encounter":     "identifier patient subject status class type date service-provider participant episode-of-care based-on reason-code",
	"Provenance":    "target patient agent recorded entity",
	"Subscription":  "status type url criteria payload",
}

func TestSearchParamsHaveTheR4ParametersAndTheCommonOnes(t *testing.T) {
	for _, typ := range SearchableTypes() {
		t.Run(typ, func(t *testing.T) {
			want := append(strings.Fields(wantSearchParams[typ]), "_id", "_lastUpdated", "_profile", "_security", "_source", "_tag")
			slices.Sort(want)
			var got []string
			for _, p := range SearchParams(typ) {
				got = append(got, p.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SearchParams(%q) names, sorted (-want +got):\n%s", typ, diff)
			}
		})
	}
}

func TestSearchParamsAreWellFormed(t *testing.T) {
	for _, typ := range SearchableTypes() {
		for _, p := range SearchParams(typ) {
			where := typ + "." + p.Name
			if p.Documentation == "" {
				t.Errorf("%s has no documentation", where)
			}
			if !strings.HasPrefix(strings.TrimPrefix(p.Expression, "("), typ+".") {
				t.Errorf("%s: expression %q is not on %s", where, p.Expression, typ)
			}
			if (p.Type == IDParam || p.Type == LastUpdatedParam) != (len(p.paths) == 0) {
				t.Errorf("%s: %d extraction paths for a %v parameter", where, len(p.paths), p.Type)
			}
			if !slices.IsSorted(p.Targets) {
				t.Errorf("%s: targets %v are not sorted", where, p.Targets)
			}
			if p.Type != ReferenceParam && len(p.Targets) > 0 {
				t.Errorf("%s: a %v parameter has targets", where, p.Type)
			}
			for _, pa := range p.paths {
				isRef := pa.typ == ixReference
				if isRef != (p.Type == ReferenceParam) {
					t.Errorf("%s: path %v of data type %d on a %v parameter", where, pa.elems, pa.typ, p.Type)
				}
				isDate := pa.typ == ixDate || pa.typ == ixPeriod || pa.typ == ixTiming
				if isDate != (p.Type == DateParam) {
					t.Errorf("%s: path %v of data type %d on a %v parameter", where, pa.elems, pa.typ, p.Type)
				}
				isString := pa.typ == ixString || pa.typ == ixHumanName || pa.typ == ixAddress
				if isString != (p.Type == StringParam) {
					t.Errorf("%s: path %v of data type %d on a %v parameter", where, pa.elems, pa.typ, p.Type)
				}
			}
			if p.Name == "patient" {
				if diff := cmp.Diff([]string{"Patient"}, p.Targets); diff != "" {
					t.Errorf("%s targets (-want +got):\n%s", where, diff)
				}
				if len(p.paths) != 1 || p.paths[0].only != "Patient" {
					t.Errorf("%s does not keep only references to a Patient", where)
				}
			}
		}
	}
}

func TestLookupSearchParam(t *testing.T) {
	tests := []struct {
		name       string
		typ, param string
		wantOK     bool
		wantType   ParamType
		wantCode   string
	}{
		{"a resource parameter", "Task", "owner", true, ReferenceParam, "reference"},
		{"a common parameter", "Task", "_lastUpdated", true, LastUpdatedParam, "date"},
		{"_id is a token", "Patient", "_id", true, IDParam, "token"},
		{"_profile is a uri", "Patient", "_profile", true, TokenParam, "uri"},
		{"_source is a uri", "Patient", "_source", true, TokenParam, "uri"},
		{"_tag is a token", "Patient", "_tag", true, TokenParam, "token"},
		{"names are case-sensitive", "Task", "Owner", false, 0, ""},
		{"a parameter of another type", "Task", "birthdate", false, 0, ""},
		{"a type that is not searchable", "Bundle", "_id", false, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := LookupSearchParam(tc.typ, tc.param)
			if ok != tc.wantOK {
				t.Fatalf("LookupSearchParam(%q, %q) ok = %v, want %v", tc.typ, tc.param, ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if p.Name != tc.param || p.Type != tc.wantType || p.TypeCode() != tc.wantCode {
				t.Errorf("LookupSearchParam(%q, %q) = %s %v %q, want %s %v %q",
					tc.typ, tc.param, p.Name, p.Type, p.TypeCode(), tc.param, tc.wantType, tc.wantCode)
			}
		})
	}
}

func TestSearchParamsReturnCopies(t *testing.T) {
	ps := SearchParams("Observation")
	for i := range ps {
		if ps[i].Name == "subject" {
			ps[i].Targets[0] = "Changed"
		}
	}
	p, _ := LookupSearchParam("Observation", "subject")
	p.Targets[1] = "Changed"
	again, _ := LookupSearchParam("Observation", "subject")
	if diff := cmp.Diff([]string{"Device", "Group", "Location", "Patient"}, again.Targets); diff != "" {
		t.Errorf("the registry changed through a returned copy (-want +got):\n%s", diff)
	}
	if SearchParams("Bundle") != nil {
		t.Errorf("SearchParams(Bundle) is not nil")
	}
}
