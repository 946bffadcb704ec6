package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a tiny FHIR-ish server on loopback for the runner's own
// tests.
type fakeServer struct {
	mu       sync.Mutex
	patients map[string][]byte
	slow     int
	throttle int
	probes   []string
	authz    map[string]bool
	corr     map[string]bool
}

func startFake(t *testing.T) string {
	t.Helper()
	f := &fakeServer{patients: map[string][]byte{}, authz: map[string]bool{}, corr: map[string]bool{}}
	mux := http.NewServeMux()
	oo := func(w http.ResponseWriter, status int, code, diag string) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":%q,"diagnostics":%q}]}`, code, diag)
	}
	mux.HandleFunc("GET /fhir/metadata", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1"}`)
	})
	mux.HandleFunc("POST /fhir/Patient", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["bad"] != nil {
			oo(w, http.StatusUnprocessableEntity, "invalid", "Patient.bad is not a known element")
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("p%d", len(f.patients)+1)
		body["id"] = id
		b, _ := json.Marshal(body)
		f.patients[id] = b
		f.mu.Unlock()
		w.Header().Set("Location", "http://fake/fhir/Patient/"+id)
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	mux.HandleFunc("GET /fhir/Patient/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		b, ok := f.patients[r.PathValue("id")]
		if p := r.Header.Get("X-Probe"); p != "" {
			f.probes = append(f.probes, p)
		}
		f.mu.Unlock()
		if !ok {
			oo(w, http.StatusNotFound, "not-found", "no such Patient")
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /fhir/slow", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.slow++
		n := f.slow
		f.mu.Unlock()
		if n < 3 {
			oo(w, http.StatusServiceUnavailable, "transient", "not yet")
			return
		}
		fmt.Fprint(w, `{}`)
	})
	mux.HandleFunc("GET /fhir/throttle", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.throttle++
		n := f.throttle
		f.mu.Unlock()
		if n%2 == 1 {
			w.Header().Set("Retry-After", "1")
			oo(w, http.StatusTooManyRequests, "throttled", "slow down")
			return
		}
		fmt.Fprint(w, `{}`)
	})
	mux.HandleFunc("POST /fhir", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"batch-response"}`)
	})
	mux.HandleFunc("GET /fhir/page/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		entries := `[{"n":1}]`
		if n >= 3 {
			entries = `[]`
		}
		fmt.Fprintf(w, `{"link":[{"relation":"next","url":"http://%s/fhir/page/%d"}],"entry":%s}`, r.Host, n+1, entries)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { oo(w, http.StatusNotFound, "not-found", r.URL.Path) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/metadata" { // the runner's first contact carries neither
			f.mu.Lock()
			f.authz[r.Header.Get("Authorization")] = true
			f.corr[r.Header.Get("X-Correlation-Id")] = true
			f.mu.Unlock()
		}
		mux.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.probes) != 1 || !strings.HasPrefix(f.probes[0], "p") {
			t.Errorf("the header with a captured id reached the server as %q, want one p<n>", f.probes)
		}
		if len(f.authz) != 1 || !f.authz["Bearer tok-default"] {
			t.Errorf("Authorization headers seen: %v, want only the default actor's token", f.authz)
		}
		if f.corr[""] {
			t.Error("a request came without X-Correlation-Id")
		}
		teardown := false
		for id := range f.corr {
			teardown = teardown || strings.HasSuffix(id, "-teardown")
		}
		if !teardown {
			t.Errorf("no request carried a teardown's correlation id: %v", f.corr)
		}
	})
	return "http://" + l.Addr().String() + "/fhir"
}

func engineSuite(t *testing.T) *Suite {
	t.Helper()
	s, err := LoadSuite(os.DirFS("testdata"), "engine")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunnerAgainstAFakeServer(t *testing.T) {
	target := startFake(t)
	def, err := NewActor("default", ActorSpec{Token: "tok-default"})
	if err != nil {
		t.Fatal(err)
	}
	var console bytes.Buffer
	report, err := Run(context.Background(), Options{
		Target: target, Actors: map[string]*Actor{"default": def}, Suites: []*Suite{engineSuite(t)},
		Progress: Console{W: &console}.Progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	Console{W: &console}.Summary(report)
	got := map[string]*TestResult{}
	for _, tr := range report.Suites[0].Tests {
		got[tr.Name] = tr
	}
	want := map[string]Status{
		"a create is captured and read back":    Passed,
		"a retried step waits for the server":   Passed,
		"a wrong status fails with the reason":  Failed,
		"a later test still runs":               Passed,
		"a retried step walks pages":            Passed,
		"a throttled request is sent again":     Passed,
		"a 429 the step expects is not retried": Passed,
		"needs a second practice":               Skipped,
		"needs the trust by its steps":          Skipped,
		"first test of a broken file":           Failed,
		"second test of a broken file":          Failed,
	}
	if len(got) != len(want) {
		t.Errorf("%d results, want %d", len(got), len(want))
	}
	for name, status := range want {
		tr := got[name]
		if tr == nil {
			t.Errorf("no result for %q", name)
			continue
		}
		if tr.Status != status {
			t.Errorf("%q: %s (%s), want %s", name, tr.Status, tr.Reason, status)
		}
	}
	if r := got["a wrong status fails with the reason"].Reason; r != `step 1 "POST /Patient": status 422, want 201 (invalid: Patient.bad is not a known element)` {
		t.Errorf("reason %q", r)
	}
	if ex := got["a wrong status fails with the reason"].FailedExchange(); ex == nil || ex.Status != 422 || !strings.Contains(ex.RequestBody, `"bad":true`) {
		t.Errorf("failed exchange %+v, want the 422 and its request", ex)
	}
	if w := got["a create is captured and read back"].Warnings; len(w) != 1 || !strings.Contains(w[0], "meta.tag: gives no value") {
		t.Errorf("warnings %q, want the one warningOnly miss", w)
	}
	if w := got["a throttled request is sent again"].Warnings; len(w) != 1 || !strings.Contains(w[0], "throttled (429), sent again after 1s") {
		t.Errorf("warnings %q, want one saying the step was throttled", w)
	}
	if r := got["needs a second practice"].Reason; !strings.Contains(r, "practiceB") {
		t.Errorf("skip reason %q does not name practiceB", r)
	}
	if r := got["needs the trust by its steps"].Reason; !strings.Contains(r, "trust") {
		t.Errorf("skip reason %q does not name trust", r)
	}
	if r := got["first test of a broken file"].Reason; !strings.HasPrefix(r, `setup step 1 "GET /missing": status 404, want 200`) {
		t.Errorf("setup failure reason %q", r)
	}
	if w := got["second test of a broken file"].Warnings; len(w) != 1 || !strings.HasPrefix(w[0], "teardown:") {
		t.Errorf("teardown warnings %q, want one on the file's last test", w)
	}
	n := report.Counts()
	if n.Passed != 6 || n.Failed != 3 || n.Skipped != 2 || report.Passed() {
		t.Errorf("counts %+v, passed=%v", n, report.Passed())
	}
	out := console.String()
	for _, s := range []string{"[ 1/11] PASS engine › 01-flow › a create is captured", "FAIL engine › 01-flow › a wrong status", "< 422", "RESULT: FAIL", "6 passed   3 failed   2 skipped"} {
		if !strings.Contains(out, s) {
			t.Errorf("console output lacks %q:\n%s", s, out)
		}
	}

	var junit bytes.Buffer
	if err := report.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var parsed junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &parsed); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, junit.String())
	}
	if parsed.Tests != 11 || parsed.Failures != 3 || parsed.Skipped != 2 || len(parsed.Suites) != 1 || len(parsed.Suites[0].Cases) != 11 {
		t.Errorf("JUnit totals %+v", parsed)
	}
	if !strings.Contains(junit.String(), "HTTP 422") || strings.Contains(junit.String(), "tok-default") {
		t.Error("JUnit should hold the failing exchange and no whole token")
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"FAIL", "status 422, want 201", "/fhir/Patient", "Patient.bad is not a known element"} {
		if !strings.Contains(page.String(), s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
}

func TestRunnerSelectsByTag(t *testing.T) {
	target := startFakeQuiet(t)
	def, _ := NewActor("default", ActorSpec{Token: "tok-default"})
	report, err := Run(context.Background(), Options{
		Target: target, Actors: map[string]*Actor{"default": def}, Suites: []*Suite{engineSuite(t)},
		Tags: ParseTags("later"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := report.Suites[0].Tests
	if len(tests) != 1 || tests[0].Name != "a later test still runs" {
		t.Fatalf("selected %d tests, want only the one tagged later", len(tests))
	}
	// It reads a Patient that the unselected test would have created.
	if tests[0].Status != Failed || !strings.Contains(tests[0].Reason, "no variable \"id\"") {
		t.Errorf("%s: %s, want a failure naming the missing capture", tests[0].Status, tests[0].Reason)
	}
}

// startFakeQuiet is startFake without its end-of-test expectations.
func startFakeQuiet(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/fhir"
}

func TestRunnerCannotReachTarget(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	def, _ := NewActor("default", ActorSpec{Anonymous: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Run(ctx, Options{Target: "http://" + addr + "/fhir", Actors: map[string]*Actor{"default": def}, Suites: []*Suite{engineSuite(t)}})
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("err = %v, want cannot be reached", err)
	}
}

func TestLoadSuiteReportsEveryMistake(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(dir+"/"+name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("suite.yaml", "suite: broken\ntitle: Broken\n")
	write("a.yaml", "title: A\ntests:\n  - name: x\n    steps:\n      - request: {path: Patient}\n")
	write("b.yaml", "title: B\ntests:\n  - name: y\n    steps:\n      - request: {path: /P}\n        expect: {status: 999}\n")
	write("c.yaml", "title: C\ntests:\n  - name: z\n    steps:\n      - request: {path: /P}\n        expect:\n          body:\n            - {path: id, equal: 1}\n")
	write("d.yaml", "title: D\nbogus: 1\ntests: []\n")
	write("e.yaml", "title: E\ntests:\n  - name: w\n    steps:\n      - request: {path: /P, bodyFile: fixtures/none.json}\n")
	_, err := LoadSuite(os.DirFS(dir), ".")
	if err == nil {
		t.Fatal("a broken suite loaded")
	}
	for _, s := range []string{"a.yaml", "must begin with /", "b.yaml", "999", "c.yaml", `"equal" is not an assertion operator`, "d.yaml", "bogus", "e.yaml", "none.json"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not mention %q:\n%v", s, err)
		}
	}
}
