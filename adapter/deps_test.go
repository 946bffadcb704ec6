package adapter_test

import (
	"os/exec"
	"strings"
	"testing"
)

// domainPackages hold CareBridge's clinical and FHIR knowledge. They must
// stay free of HTTP frameworks and database drivers, so that they can be
// tested and reasoned about on their own.
var domainPackages = []string{
	"github.com/carebridge/carebridge/fhir",
	"github.com/carebridge/carebridge/mappings",
	"github.com/carebridge/carebridge/adapter/sharedcare",
	"github.com/carebridge/carebridge/adapter/healthcheck",
	"github.com/carebridge/carebridge/adapter/checkfhir",
	"github.com/carebridge/carebridge/adapter/synth",
	"github.com/carebridge/carebridge/adapter/taskflow",
}

// forbiddenImports are import path prefixes no domain package may depend on,
// directly or indirectly.
var forbiddenImports = []string{
	"net/http",
	"database/sql",
	"github.com/labstack/echo",
	"github.com/jackc/pgx",
	"modernc.org/sqlite",
	"github.com/pressly/goose",
	"github.com/carebridge/carebridge/adapter/store",
	"github.com/carebridge/carebridge/adapter/rest",
}

func TestDomainPackagesImportNoHTTPOrDatabase(t *testing.T) {
	checked := 0
	for _, pkg := range domainPackages {
		out, err := exec.Command("go", "list", "-deps", "-test=false", pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "cannot find package") || strings.Contains(string(out), "no required module provides") ||
				strings.Contains(string(out), "no Go files") || strings.Contains(string(out), "matched no packages") {
				continue // not written yet
			}
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		checked++
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range forbiddenImports {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no domain package was found to check")
	}
}
