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
		if checkDeps(t, pkg, forbiddenImports) {
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no domain package was found to check")
	}
}

// The delivery worker reaches the outbox and the Subscriptions through the
// Gateway only: never a database engine, and not the HTTP API it runs
// beside.
func TestDeliveryGoesThroughTheGateway(t *testing.T) {
	forbidden := []string{
		"github.com/labstack/echo",
		"github.com/jackc/pgx",
		"modernc.org/sqlite",
		"github.com/carebridge/carebridge/adapter/store/sqlite",
		"github.com/carebridge/carebridge/adapter/store/postgres",
		"github.com/carebridge/carebridge/adapter/rest",
	}
	if !checkDeps(t, "github.com/carebridge/carebridge/adapter/delivery", forbidden) {
		t.Fatal("adapter/delivery was not found")
	}
}

// Authentication decides who a request speaks for; it needs net/http only to
// fetch key sets, and never a web framework or a database (the store keeps
// its nonces behind auth.NonceStore).
func TestAuthUsesNoFrameworkOrDatabase(t *testing.T) {
	forbidden := []string{
		"database/sql",
		"github.com/labstack/echo",
		"github.com/jackc/pgx",
		"modernc.org/sqlite",
		"github.com/carebridge/carebridge/adapter/store",
		"github.com/carebridge/carebridge/adapter/rest",
	}
	if !checkDeps(t, "github.com/carebridge/carebridge/adapter/auth", forbidden) {
		t.Fatal("adapter/auth was not found")
	}
}

// checkDeps fails t for each dependency of pkg under a forbidden prefix;
// it reports false when pkg does not exist (yet).
func checkDeps(t *testing.T, pkg string, forbidden []string) bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-test=false", pkg).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "cannot find package") || strings.Contains(string(out), "no required module provides") ||
			strings.Contains(string(out), "no Go files") || strings.Contains(string(out), "matched no packages") {
			return false // not written yet
		}
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range forbidden {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
	return true
}
