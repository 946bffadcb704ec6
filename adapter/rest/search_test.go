package rest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ids returns the ids of a searchset's match entries, in order.
func ids(t *testing.T, r response) []string {
	t.Helper()
	b := r.json(t)
	if b["type"] != "searchset" {
		t.Fatalf("not a searchset: %s", r.body)
	}
	var out []string
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		em := e.(map[string]any)
		if em["search"].(map[string]any)["mode"] != "match" {
			continue
		}
		out = append(out, em["resource"].(map[string]any)["id"].(string))
	}
	return out
}

// link returns a searchset's link of the given relation.
func link(t *testing.T, r response, rel string) string {
	t.Helper()
	links, _ := r.json(t)["link"].([]any)
	for _, l := range links {
		lm := l.(map[string]any)
		if lm["relation"] == rel {
			return lm["url"].(string)
		}
	}
	return ""
}

func create(t *testing.T, c *client, typ, body string) string {
	t.Helper()
	return c.do("POST", typ, body).mustStatus(t, http.StatusCreated).json(t)["id"].(string)
}

func TestSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		pat := create(t, c, "Patient", validPatient)
		obs := func(code, date, subject string) string {
			return create(t, c, "Observation", `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://snomed.info/sct","code":"`+code+`"}]},"subject":`+subject+`,"effectiveDateTime":"`+date+`"}`)
		}
		bmiLiteral := obs("60621009", "2025-02-03T10:15:00+00:00", `{"reference":"Patient/`+pat+`"}`)
		bmiByNHS := obs("60621009", "2025-06-01T00:30:00+01:00", `{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}}`)
		bpOther := obs("75367002", "2024-12-31T23:59:00+00:00", `{"reference":"Patient/someone-else"}`)

		tests := []struct {
			query string
			want  []string
		}{
			{"Observation?code=60621009", []string{bmiLiteral, bmiByNHS}},
			{"Observation?code=http://snomed.info/sct|60621009", []string{bmiLiteral, bmiByNHS}},
			{"Observation?code=http://loinc.org|60621009", nil},
			{"Observation?code=60621009,75367002", []string{bmiLiteral, bmiByNHS, bpOther}},
			{"Observation?code:not=60621009", []string{bpOther}},
			{"Observation?category=vital-signs&code=75367002", []string{bpOther}},
			{"Observation?_id=" + bpOther, []string{bpOther}},
			// References: literally, and by identifier, each finding the other way.
			{"Observation?subject=Patient/" + pat, []string{bmiLiteral, bmiByNHS}},
			{"Observation?patient=" + pat, []string{bmiLiteral, bmiByNHS}},
			{"Observation?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009", []string{bmiLiteral, bmiByNHS}},
			{"Observation?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|900-000-0009", []string{bmiLiteral, bmiByNHS}},
			// Dates: 2025-06-01T00:30+01:00 is 31 May in UTC but 1 June in London.
			{"Observation?date=2025-06-01", []string{bmiByNHS}},
			{"Observation?date=2025", []string{bmiLiteral, bmiByNHS}},
			{"Observation?date=ge2025-02-03&date=lt2025-06", []string{bmiLiteral}},
			{"Observation?date=lt2025-01-01", []string{bpOther}},
			{"Observation?date=gt2025-02-03T10:15:00Z", []string{bmiByNHS}},
			{"Observation?date=le2024-12-31", []string{bpOther}},
			{"Patient?name=smi", []string{pat}},
			{"Patient?family:exact=Smith", []string{pat}},
			{"Patient?birthdate=1980-01-02", []string{pat}},
			{"Patient?identifier=9000000009", []string{pat}},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				got := ids(t, c.do("GET", tc.query, nil).mustStatus(t, http.StatusOK))
				sort.Strings(got)
				want := append([]string(nil), tc.want...)
				sort.Strings(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestSearchPagingKeepsWorkingWhileDataChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		var all []string
		for i := 0; i < 7; i++ {
			all = append(all, create(t, c, "Patient", fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Page%d"}]}`, i)))
		}
		r := c.do("GET", "Patient?_count=3", nil).mustStatus(t, http.StatusOK)
		if total := r.json(t)["total"]; total != float64(7) {
			t.Errorf("total = %v, want 7", total)
		}
		seen := ids(t, r)
		// Between pages, a resource already seen is updated and a new one is made.
		c.do("PUT", "Patient/"+seen[0], `{"resourceType":"Patient","id":"`+seen[0]+`","name":[{"family":"Changed"}]}`).mustStatus(t, http.StatusOK)
		all = append(all, create(t, c, "Patient", `{"resourceType":"Patient","name":[{"family":"Late"}]}`))
		for next := link(t, r, "next"); next != ""; next = link(t, r, "next") {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			if self := link(t, r, "self"); !strings.HasPrefix(self, c.base+"/Patient?") {
				t.Errorf("self link %q is not a Patient search", self)
			}
			r = c.do("GET", strings.TrimPrefix(u.Path, "/fhir/")+"?"+u.RawQuery, nil).mustStatus(t, http.StatusOK)
			seen = append(seen, ids(t, r)...)
		}
		if diff := cmp.Diff(all, seen); diff != "" {
			t.Errorf("pages, in creation order, skipped or repeated resources (-want +got):\n%s", diff)
		}
		// A tampered page token is refused.
		c.do("GET", "Patient?_page_token=not-a-token", nil).mustStatus(t, http.StatusBadRequest)
	})
}

func TestSearchLenientHandling(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		create(t, c, "Patient", validPatient)
		r := c.do("GET", "Patient?colour=blue", nil, "Prefer", "handling=lenient").mustStatus(t, http.StatusOK)
		b := r.json(t)
		entries := b["entry"].([]any)
		last := entries[len(entries)-1].(map[string]any)
		if last["search"].(map[string]any)["mode"] != "outcome" {
			t.Errorf("lenient search has no outcome entry saying what was ignored: %s", r.body)
		}
		if got := ids(t, r); len(got) != 1 {
			t.Errorf("lenient search returned %d matches, want 1", len(got))
		}
	})
}

func TestSearchByLastUpdatedAndSort(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		a := create(t, c, "Patient", `{"resourceType":"Patient","name":[{"family":"A"}]}`)
		b := create(t, c, "Patient", `{"resourceType":"Patient","name":[{"family":"B"}]}`)
		lu := c.do("GET", "Patient/"+b, nil).json(t)["meta"].(map[string]any)["lastUpdated"].(string)
		got := ids(t, c.do("GET", "Patient?_lastUpdated=ge"+url.QueryEscape(lu), nil).mustStatus(t, http.StatusOK))
		if diff := cmp.Diff([]string{b}, got); diff != "" {
			t.Errorf("_lastUpdated=ge (-want +got):\n%s", diff)
		}
		got = ids(t, c.do("GET", "Patient?_lastUpdated=lt"+url.QueryEscape(lu), nil).mustStatus(t, http.StatusOK))
		if diff := cmp.Diff([]string{a}, got); diff != "" {
			t.Errorf("_lastUpdated=lt (-want +got):\n%s", diff)
		}
		got = ids(t, c.do("GET", "Patient?_sort=-_lastUpdated", nil).mustStatus(t, http.StatusOK))
		if diff := cmp.Diff([]string{b, a}, got); diff != "" {
			t.Errorf("_sort=-_lastUpdated (-want +got):\n%s", diff)
		}
		// POST _search with a form body gives the same answer.
		r := c.do("POST", "Patient/_search", "_sort=-_lastUpdated", "Content-Type", "application/x-www-form-urlencoded").mustStatus(t, http.StatusOK)
		if diff := cmp.Diff([]string{b, a}, ids(t, r)); diff != "" {
			t.Errorf("POST _search (-want +got):\n%s", diff)
		}
	})
}

// TestSearchSharedCareParameters covers the parameters GP pollers and trust
// feeds rely on: Task owner, requester, focus, status and business-status;
// ServiceRequest requester and performer; Condition clinical-status; all with
// ODS-code identifiers as NHS systems send them.
func TestSearchSharedCareParameters(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		ods := func(code string) string {
			return `{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + code + `"}}`
		}
		practice := create(t, c, "Organization", `{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A12345"}],"name":"Riverside Surgery"}`)
		referral := create(t, c, "ServiceRequest", `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"requester":`+ods("RXX")+`,"performer":[{"reference":"Organization/`+practice+`"}]}`)
		task := func(status, business, owner string) string {
			return create(t, c, "Task", `{"resourceType":"Task","status":"`+status+`","statusReason":{"text":"as recorded by the practice"},"intent":"order","businessStatus":{"coding":[{"system":"https://example.org/CodeSystem/smi-check","code":"`+business+`"}]},"focus":{"reference":"ServiceRequest/`+referral+`"},"for":{"reference":"Patient/p1"},"requester":`+ods("RXX")+`,"owner":`+owner+`}`)
		}
		byODS := task("requested", "bmi-outstanding", ods("A12345"))
		byRef := task("in-progress", "bp-outstanding", `{"reference":"Organization/`+practice+`"}`)
		other := task("completed", "bmi-outstanding", ods("B23456"))
		cond := func(clinical string) string {
			return create(t, c, "Condition", `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"`+clinical+`"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"58214004"}]},"subject":{"reference":"Patient/p1"}}`)
		}
		active, remission := cond("active"), cond("remission")

		odsA := "https://fhir.nhs.uk/Id/ods-organization-code|A12345"
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"Task?owner:identifier=" + odsA, []string{byODS, byRef}},
			{"Task?owner=Organization/" + practice, []string{byODS, byRef}},
			{"Task?owner:identifier=" + odsA + "&status=requested", []string{byODS}},
			{"Task?status=requested,in-progress", []string{byODS, byRef}},
			{"Task?status:not=completed", []string{byODS, byRef}},
			{"Task?business-status=bmi-outstanding", []string{byODS, other}},
			{"Task?business-status=https://example.org/CodeSystem/smi-check|bp-outstanding", []string{byRef}},
			{"Task?requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|RXX", []string{byODS, byRef, other}},
			{"Task?focus=ServiceRequest/" + referral, []string{byODS, byRef, other}},
			{"Task?patient=p1&owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|B23456", []string{other}},
			{"ServiceRequest?requester:identifier=https://fhir.nhs.uk/Id/ods-organization-code|RXX", []string{referral}},
			{"ServiceRequest?performer:identifier=" + odsA, []string{referral}},
			{"ServiceRequest?performer=Organization/" + practice, []string{referral}},
			{"Condition?clinical-status=active", []string{active}},
			{"Condition?clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|remission", []string{remission}},
			{"Condition?code=http://snomed.info/sct|58214004&subject=Patient/p1", []string{active, remission}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				got := ids(t, c.do("GET", tc.query, nil).mustStatus(t, http.StatusOK))
				sort.Strings(got)
				want := append([]string(nil), tc.want...)
				sort.Strings(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestTaskPollSearch covers a practice polling its Tasks by search: pages
// of owner:identifier and status that keep both in their next links, and a
// 400 for an identifier given as a plain reference, which would otherwise
// find nothing without saying why.
func TestTaskPollSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *client) {
		var want []string
		for i := range 5 {
			want = append(want, create(t, c, "Task", taskBody("", "requested", byODS("A81001"))))
			create(t, c, "Task", taskBody("", []string{"completed", "requested"}[i%2], byODS([]string{"A81001", "B82002"}[i%2])))
		}
		// The requested Tasks of A81001 are the five in want, in creation order.
		var got []string
		path := "Task?owner:identifier=" + url.QueryEscape(practiceA) + "&status=requested&_count=2"
		for pages := 0; path != ""; pages++ {
			if pages > 3 {
				t.Fatalf("still paging after 3 pages: %v", got)
			}
			r := c.do("GET", path, nil).mustStatus(t, http.StatusOK)
			got = append(got, ids(t, r)...)
			next := link(t, r, "next")
			if next != "" && (!strings.Contains(next, "status=requested") || !strings.Contains(next, "owner%3Aidentifier=")) {
				t.Errorf("next link %s lost the owner or the status", next)
			}
			path = strings.TrimPrefix(next, c.base+"/")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("requested Tasks of A81001 (-want +got):\n%s", diff)
		}
		r := c.do("GET", "Task?owner="+url.QueryEscape(practiceA), nil).mustStatus(t, http.StatusBadRequest)
		if is := r.issues(t); len(is) != 1 || is[0].Expression != "owner" || !strings.Contains(is[0].Diagnostics, "owner:identifier=") {
			t.Errorf("issues = %+v, want one pointing to owner:identifier", is)
		}
	})
}
