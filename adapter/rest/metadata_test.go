package rest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/fhir"
)

// TestCapabilityStatement checks that GET /metadata is valid FHIR, matches
// its golden file, and claims nothing the server does not do: every served
// type answers, and every advertised search parameter is accepted in a real
// search.
func TestCapabilityStatement(t *testing.T) {
	c := newServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 1 << 20})
	r := c.do("GET", "metadata", nil).mustStatus(t, http.StatusOK)

	res, err := fhir.DecodeResource(r.body)
	if err != nil {
		t.Fatalf("the CapabilityStatement is not valid FHIR: %v", err)
	}
	if err := fhir.ValidateResource(res); err != nil {
		t.Fatalf("the CapabilityStatement is not valid FHIR: %v", err)
	}

	// The golden file pins every byte but the start time.
	dated := regexp.MustCompile(`"date":"[^"]+"`)
	got := fhir.Indent(dated.ReplaceAll(r.body, []byte(`"date":"(start time)"`)))
	golden := filepath.Join("testdata", "capabilitystatement.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("CapabilityStatement differs from %s (-want +got):\n%s", golden, diff)
	}

	var cs struct {
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"searchParam"`
				Operation []struct {
					Name string `json:"name"`
				} `json:"operation"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(r.body, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.Rest) != 1 || len(cs.Rest[0].Resource) != len(fhir.ServedTypes()) {
		t.Fatalf("the statement lists %d rest entries, want 1 with %d types", len(cs.Rest), len(fhir.ServedTypes()))
	}
	for _, res := range cs.Rest[0].Resource {
		if len(res.SearchParam) == 0 {
			t.Errorf("%s has no search parameters", res.Type)
		}
		for _, sp := range res.SearchParam {
			p, ok := fhir.LookupSearchParam(res.Type, sp.Name)
			if !ok {
				t.Errorf("%s?%s is advertised but not known", res.Type, sp.Name)
				continue
			}
			q := url.Values{sp.Name: {sampleSearchValue(sp.Name, sp.Type, p.Targets)}}
			resp := c.do("GET", res.Type+"?"+q.Encode(), nil)
			if resp.status != http.StatusOK {
				t.Errorf("GET %s?%s = %d: %s", res.Type, q.Encode(), resp.status, resp.body)
			}
		}
		for _, op := range res.Operation {
			query, ok := sampleOperationQuery[res.Type+"/$"+op.Name]
			if !ok {
				t.Errorf("%s/$%s is advertised but this test does not know how to call it", res.Type, op.Name)
				continue
			}
			if resp := c.do("GET", res.Type+"/$"+op.Name+"?"+query, nil); resp.status != http.StatusOK {
				t.Errorf("GET %s/$%s?%s = %d: %s", res.Type, op.Name, query, resp.status, resp.body)
			}
		}
	}
}

// sampleOperationQuery is a well-formed query of each type-level operation.
var sampleOperationQuery = map[string]string{
	"Task/$changes": "owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001",
}

// sampleSearchValue is a well-formed value for a search parameter.
func sampleSearchValue(name, typ string, targets []string) string {
	switch name {
	case "_id":
		return "x"
	case "active":
		return "true"
	}
	switch typ {
	case "date":
		return "ge2025-04-01"
	case "number":
		return "1"
	case "quantity":
		return "5.4|http://unitsofmeasure.org|mmol/L"
	case "reference":
		if len(targets) > 0 {
			return targets[0] + "/x"
		}
		return "Patient/x"
	case "uri":
		return "https://fhir.nhs.uk/StructureDefinition/x"
	case "token":
		return "http://snomed.info/sct|x"
	}
	return "x"
}
