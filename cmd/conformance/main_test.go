package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fhirServer answers /fhir/metadata and nothing else, on loopback.
func fhirServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/metadata", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1"}`)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/fhir"
}

func runKit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := execute(context.Background(), args, &out, &errs)
	return code, out.String(), errs.String()
}

func TestExitStatuses(t *testing.T) {
	target := fhirServer(t)
	dir := t.TempDir()
	junit, html, js := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")

	code, out, errs := runKit(t, "run", "--target", target, "--insecure-no-auth", "--suite", "testdata/pass",
		"--tags", "!carebridge", "--junit", junit, "--html", html, "--json", js)
	if code != 0 || !strings.Contains(out, "RESULT: PASS") {
		t.Errorf("passing run: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{junit, html, js} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("report %s not written: %v", f, err)
		}
	}
	var report struct {
		Suites []struct{ Tests []struct{ Status string } }
	}
	raw, _ := os.ReadFile(js)
	if err := json.Unmarshal(raw, &report); err != nil || len(report.Suites) != 1 || len(report.Suites[0].Tests) != 1 {
		t.Errorf("JSON report %s: %v", raw, err)
	}

	code, out, _ = runKit(t, "run", "--target", target, "--insecure-no-auth", "--suite", "testdata/pass")
	if code != 1 || !strings.Contains(out, `status 404, want 200`) || !strings.Contains(out, "RESULT: FAIL") {
		t.Errorf("failing run: exit %d, want 1\n%s", code, out)
	}

	code, _, errs = runKit(t, "run", "--target", target, "--suite", "testdata/pass")
	if code != 2 || !strings.Contains(errs, "no credentials") {
		t.Errorf("run without credentials: exit %d, want 2: %s", code, errs)
	}
	code, _, errs = runKit(t, "run", "--target", target, "--insecure-no-auth", "--suite", "no-such-suite")
	if code != 2 || !strings.Contains(errs, "no-such-suite") {
		t.Errorf("unknown suite: exit %d, want 2: %s", code, errs)
	}
	code, _, errs = runKit(t, "run", "--target", "ftp://x", "--insecure-no-auth", "--suite", "testdata/pass")
	if code != 2 || !strings.Contains(errs, "not an http(s) URL") {
		t.Errorf("bad target: exit %d, want 2: %s", code, errs)
	}
}

func TestInitCheckAndList(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kit")
	if code, out, errs := runKit(t, "init", "--out", dir, "--base-url", "http://gateway:8080/fhir", "--gateway-dir", "/kit"); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errs)
	}
	gw, err := os.ReadFile(filepath.Join(dir, "carebridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"baseUrl: http://gateway:8080/fhir", "keysDir: /kit/gateway-keys", "/kit/clients/cb-practice-a.jwks.json", "operator: true", "U99999"} {
		if !strings.Contains(string(gw), s) {
			t.Errorf("carebridge.yaml lacks %q:\n%s", s, gw)
		}
	}
	for _, f := range []string{"actors.yaml", "gateway-keys/gateway.pem", "clients/cb-operator.pem", "clients/cb-trust-epr.jwks.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not write %s: %v", f, err)
		}
	}
	if code, _, errs := runKit(t, "init", "--out", dir); code != 2 || !strings.Contains(errs, "already exists") {
		t.Errorf("second init: exit %d, want 2: %s", code, errs)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "clients", "cb-practice-a.pem"))
	if code, out, errs := runKit(t, "init", "--out", dir, "--keep-existing"); code != 0 || !strings.Contains(out, "kept as it is") {
		t.Errorf("init --keep-existing: exit %d\n%s%s", code, out, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "clients", "cb-practice-a.pem")); !bytes.Equal(before, after) {
		t.Error("init --keep-existing changed a key")
	}
	os.Remove(filepath.Join(dir, "actors.yaml"))
	if code, _, errs := runKit(t, "init", "--out", dir, "--keep-existing"); code != 2 || !strings.Contains(errs, "only part of a kit") {
		t.Errorf("init --keep-existing of half a kit: exit %d, want 2: %s", code, errs)
	}
	if code, out, errs := runKit(t, "check", "testdata/pass"); code != 0 || !strings.Contains(out, "1 suites, 2 tests") {
		t.Errorf("check: exit %d\n%s%s", code, out, errs)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "suite.yaml"), []byte("suite: b\ntitle: B\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "x.yaml"), []byte("title: X\ntests:\n  - name: n\n    steps:\n      - request: {path: nope}\n"), 0o644)
	if code, _, errs := runKit(t, "check", broken); code != 2 || !strings.Contains(errs, "must begin with /") {
		t.Errorf("check of a broken suite: exit %d, want 2: %s", code, errs)
	}
	code, out, _ := runKit(t, "list", "--suite", "testdata/pass", "--tags", "carebridge")
	if code != 0 || !strings.Contains(out, "a test tagged for CareBridge only") || strings.Contains(out, "the server says what it is") {
		t.Errorf("list --tags carebridge: exit %d\n%s", code, out)
	}
}
