package rest_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carebridge/carebridge/adapter/rest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// externalDir holds real FHIR written by NHS England (see its README).
const externalDir = "../../testdata/fixtures/external/nhs-bars"

// TestExternalFixtures posts every real NHS example to the gateway: each
// resource of a served type to its type endpoint, each Bundle to the base.
// What happens to each file is pinned in a golden file: accepted, or the
// precise OperationOutcome that says why not. README.md explains every
// refusal.
func TestExternalFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(externalDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join(externalDir, "resources", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	if len(files) < 40 {
		t.Fatalf("found %d fixture files, want the whole folder", len(files))
	}
	sort.Strings(files)
	c := newServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 1 << 20})
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		path := head.ResourceType
		if path == "Bundle" {
			path = ""
		}
		r := c.do("POST", path, data)
		rel, _ := filepath.Rel(externalDir, f)
		line := fmt.Sprintf("%s: %s %d", rel, head.ResourceType, r.status)
		if r.status >= 500 {
			t.Errorf("%s: status %d: %s", rel, r.status, r.body)
		}
		if r.status >= 400 {
			is := r.issues(t)[0]
			line += fmt.Sprintf(" %s %s: %s", is.Code, is.Expression, is.Diagnostics)
		} else if r.status != http.StatusCreated {
			t.Errorf("%s: status %d, want 201 or a refusal", rel, r.status)
		}
		lines = append(lines, line)
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "external-fixtures.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("what the gateway does with the NHS examples changed (-golden +now):\n%s", diff)
	}
}
