package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
)

// syncBuffer is an output that a running command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// envOf returns an environment holding only vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// started is a carebridge command running in the background.
type started struct {
	base   string // http://host:port
	stdout *syncBuffer
	stderr *syncBuffer
	stop   context.CancelFunc
	done   chan error
}

var listeningRe = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"|FHIR base +http://(127\.0\.0\.1:\d+)/fhir`)

// start runs a carebridge command line until the test ends, and waits until
// it listens.
func start(t *testing.T, getenv func(string) string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, args, getenv, s.stdout, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("the command did not stop within 30s of its context ending")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out := s.stdout.String() + s.stderr.String()
		if m := listeningRe.FindStringSubmatch(out); m != nil {
			s.base = "http://" + m[1] + m[2]
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("%v ended before listening: %v\nstdout:\n%s\nstderr:\n%s", args, err, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%v did not start listening within 30s\nstderr:\n%s", args, s.stderr)
	return nil
}

// wait stops the command and returns its error.
func (s *started) wait(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not stop within 30s")
		return nil
	}
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	return getJSONWith(t, url, "")
}

// getJSONWith is getJSON with a bearer token ("" for none).
func getJSONWith(t *testing.T, url, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return m
}

func TestConfigPrecedenceIsFlagsThenEnvironmentThenFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "carebridge.yaml")
	yaml := "addr: 127.0.0.1:7001\ndb: sqlite:/from/file.db\nlog:\n  level: debug\nsearch:\n  defaultCount: 25\n  maxCount: 100\n" +
		"delivery:\n  maxAttempts: 5\n  backoffCap: 10m\n  workers: 2\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--addr", "127.0.0.1:7003"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, envOf(map[string]string{
		"CAREBRIDGE_ADDR":             "127.0.0.1:7002", // the flag wins
		"CAREBRIDGE_DB":               "postgres://u:secret@db/carebridge",
		"CAREBRIDGE_DELIVERY_WORKERS": "8", // wins over the file
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7003" {
		t.Errorf("addr = %q, want the flag's", cfg.Addr)
	}
	if cfg.DB != "postgres://u:secret@db/carebridge" {
		t.Errorf("db = %q, want the environment's", cfg.DB)
	}
	if cfg.Log.Level != "debug" || cfg.Search.DefaultCount != 25 || cfg.Search.MaxCount != 100 {
		t.Errorf("log level %q, search %+v: want the file's", cfg.Log.Level, cfg.Search)
	}
	if cfg.Log.Format != "json" || cfg.MaxBodyBytes != 16<<20 {
		t.Errorf("log format %q, max body %d: want the defaults", cfg.Log.Format, cfg.MaxBodyBytes)
	}
	if d := cfg.Delivery; d.MaxAttempts != 5 || d.BackoffCap != 10*time.Minute || d.Workers != 8 || d.AttemptTimeout != 10*time.Second {
		t.Errorf("delivery %+v: want 5 attempts and a 10m cap from the file, 8 workers from the environment, the default timeout", d)
	}
	if got := redactDB(cfg.DB); got != "postgres://u:xxxxx@db/carebridge" {
		t.Errorf("redactDB = %q", got)
	}
}

func TestConfigRefusesWhatCannotWork(t *testing.T) {
	dir := t.TempDir()
	unknownKey := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknownKey, []byte("adress: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"an unknown key in the file", []string{"--config", unknownKey}, nil, "field adress not found"},
		{"a missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "read configuration"},
		{"a body limit that is not a number", []string{"--max-body-bytes", "lots"}, nil, `--max-body-bytes: "lots" is not a whole number`},
		{"a tiny body limit", nil, map[string]string{"CAREBRIDGE_MAX_BODY_BYTES": "10"}, "too small"},
		{"an unknown time zone", []string{"--timezone", "Mars/Olympus"}, nil, `time zone "Mars/Olympus"`},
		{"an unknown log format", []string{"--log-format", "xml"}, nil, `log format "xml"`},
		{"an unknown log level", []string{"--log-level", "loud"}, nil, `log level "loud"`},
		{"an unknown synchronous mode", []string{"--sqlite-synchronous", "OFF"}, nil, `sqlite synchronous "OFF"`},
		{"a delivery timeout that is not a duration", []string{"--delivery-attempt-timeout", "ten"}, nil, `--delivery-attempt-timeout: "ten" is not a duration`},
		{"a lease no longer than an attempt", []string{"--delivery-lease", "10s"}, nil, "delivery lease 10s must be at least twice attemptTimeout"},
		{"negative attempts", nil, map[string]string{"CAREBRIDGE_DELIVERY_MAX_ATTEMPTS": "-1"}, "delivery maxAttempts must be positive"},
		{"a tiny header limit", []string{"--max-header-bytes", "100"}, nil, "max header size 100 is too small"},
		{"a tiny URL limit", []string{"--max-url-bytes", "100"}, nil, "max URL length 100 is too small"},
		{"a zero read timeout", []string{"--read-timeout", "0s"}, nil, "read timeout 0s: use a duration above zero"},
		{"a write timeout within the request timeout", []string{"--write-timeout", "30s", "--request-timeout", "30s"}, nil, "write timeout 30s must exceed the request timeout 30s"},
		{"a negative rate", []string{"--rate-limit-rps", "-1"}, nil, "rate limit: requests per second -1"},
		{"a rate that is not a number", nil, map[string]string{"CAREBRIDGE_RATE_LIMIT_RPS": "fast"}, `CAREBRIDGE_RATE_LIMIT_RPS: "fast" is not a number`},
		{"a TLS key without a certificate", []string{"--tls-key", "server.key"}, nil, "TLS needs both a certificate and its key"},
		{"a client CA without a server certificate", []string{"--tls-client-ca", "ca.pem"}, nil, "mutual TLS (a client CA) needs the server's own certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			addSettingFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(fs, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("loadConfig error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestConfigOfHardening(t *testing.T) {
	file := filepath.Join(t.TempDir(), "carebridge.yaml")
	yaml := "maxHeaderBytes: 16384\nrequestTimeout: 20s\n" +
		"rateLimit:\n  requestsPerSecond: 20\n  burst: 40\n  clients:\n    trust-bulk: {requestsPerSecond: 0}\n    practice-a: {requestsPerSecond: 5, burst: 10}\n" +
		"tls:\n  cert: /etc/carebridge/server.crt\n  key: /etc/carebridge/server.key\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addSettingFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--rate-limit-burst", "60", "--tls-client-ca", "/etc/carebridge/ca.pem"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := rest.RateLimit{
		Limit:   rest.Limit{RequestsPerSecond: 20, Burst: 60},
		Clients: map[string]rest.Limit{"trust-bulk": {}, "practice-a": {RequestsPerSecond: 5, Burst: 10}},
	}
	if diff := cmp.Diff(want, cfg.RateLimit); diff != "" {
		t.Errorf("rate limit (-want +got):\n%s", diff)
	}
	if want := (rest.TLSFiles{CertFile: "/etc/carebridge/server.crt", KeyFile: "/etc/carebridge/server.key", ClientCAFile: "/etc/carebridge/ca.pem"}); cfg.TLS != want {
		t.Errorf("TLS = %+v, want %+v", cfg.TLS, want)
	}
	if cfg.MaxHeaderBytes != 16384 || cfg.RequestTimeout != 20*time.Second || cfg.WriteTimeout != rest.DefaultWriteTimeout || cfg.MaxURLBytes != rest.DefaultMaxURLBytes {
		t.Errorf("limits %d, %s, %s, %d: want the file's header limit and request timeout, the default write timeout and URL limit",
			cfg.MaxHeaderBytes, cfg.RequestTimeout, cfg.WriteTimeout, cfg.MaxURLBytes)
	}
	def, err := loadConfig(pflag.NewFlagSet("serve", pflag.ContinueOnError), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if def.RateLimit.RequestsPerSecond != 50 || def.RateLimit.Burst != 100 {
		t.Errorf("default rate limit %+v, want 50/s with bursts of 100", def.RateLimit)
	}
}

// TestServeAppliesTheHardeningFlags checks that the limits reach the server.
func TestServeAppliesTheHardeningFlags(t *testing.T) {
	s := start(t, noEnv, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "h.db"),
		"--max-url-bytes", "2048", "--rate-limit-rps", "0.1", "--rate-limit-burst", "2")
	if !strings.Contains(s.stderr.String(), `"tls":"http"`) {
		t.Errorf("the serving line does not say TLS is off:\n%s", s.stderr)
	}
	var statuses []int
	for _, path := range []string{"/fhir/metadata?pad=" + strings.Repeat("x", 3000), "/fhir/metadata", "/fhir/metadata", "/healthz"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	// The 414 is refused before the rate limit counts it; health is not limited.
	if want := []int{414, 200, 200, 200}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	resp, err := http.Get(s.base + "/fhir/metadata")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestUnknownDatabaseSchemeIsRefused(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"migrate", "--db", "mysql://u:pw@h/db"}, noEnv, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "use sqlite:PATH or a postgres:// URL") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "carebridge dev (commit unknown, go") {
		t.Errorf("version printed %q", out.String())
	}
}

func TestMigrateIsRepeatable(t *testing.T) {
	for name, db := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "m.db") },
		"postgres": func(t *testing.T) string { return pgtest.EmptyDatabase(t) },
	} {
		t.Run(name, func(t *testing.T) {
			url := db(t)
			for range 2 {
				var stderr bytes.Buffer
				if err := run(context.Background(), []string{"migrate", "--db", url}, noEnv, io.Discard, &stderr); err != nil {
					t.Fatalf("migrate: %v\n%s", err, stderr.String())
				}
			}
		})
	}
}

// TestServeFinishesInFlightRequestsOnShutdown starts the real command, sends
// half a request, stops the command, sends the rest, and expects the answer.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	s := start(t, noEnv, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--db", db)

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}

	body := `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}]}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:20])
	time.Sleep(100 * time.Millisecond) // the server has read the headers

	s.stop()
	// The listener closes first: a new connection is refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 10s after the stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := io.WriteString(conn, body[20:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight create = %d, want 201", resp.StatusCode)
	}
	if err := s.wait(t); err != nil {
		t.Errorf("serve returned %v, want nil after a clean shutdown", err)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"shutting down`) {
		t.Errorf("no JSON shutdown log line in:\n%s", s.stderr)
	}
}

func TestDemoSeedsOnceAndServes(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	s := start(t, noEnv, "demo", "--addr", "127.0.0.1:0", "--db", db, "--people", "30")
	if !strings.Contains(s.stdout.String(), "seeded 30 synthetic people") {
		t.Errorf("demo did not report seeding:\n%s", s.stdout)
	}
	// The token commands the demo prints work, and every example request
	// it prints answers 200 with data.
	tokens := demoTokens(t, s.stdout.String())
	curl := regexp.MustCompile(`^curl -s (?:-H "Authorization: Bearer \$(\w+)" )?'?([^']+)'?$`)
	for _, line := range strings.Split(s.stdout.String(), "\n") {
		m := curl.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		url := m[2]
		got := getJSONWith(t, url, tokens[m[1]])
		entries, _ := got["entry"].([]any)
		if got["resourceType"] == "Bundle" && (got["total"] == float64(0) || got["type"] == "history" && len(entries) == 0) {
			t.Errorf("demo example %s finds nothing", url)
		}
	}
	// The report command the demo prints sees the demo's PCN.
	report := regexp.MustCompile(`(?m)^\s*carebridge (report .*)$`).FindStringSubmatch(s.stdout.String())
	if report == nil {
		t.Fatalf("the demo prints no report command:\n%s", s.stdout)
	}
	var csv, errs bytes.Buffer
	if err := run(context.Background(), strings.Fields(report[1]), noEnv, &csv, &errs); err != nil {
		t.Fatalf("%s: %v\n%s", report[0], err, errs.String())
	}
	if !strings.Contains(csv.String(), "U12345") {
		t.Errorf("%s has no row for the demo PCN:\n%s", report[1], csv.String())
	}
	if got := getJSONWith(t, s.base+"/fhir/AuditEvent?agent=demo-A12345", tokens["OPERATOR"]); len(got["entry"].([]any)) == 0 {
		t.Error("the audit trail has no record of the practice's requests")
	}
	// Practice A12345 sees its own people's Patients, GP and trust.
	patients := getJSONWith(t, s.base+"/fhir/Patient?_summary=count", tokens["TOKEN"])["total"]
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}

	// A second start on the same database seeds nothing more.
	again := start(t, noEnv, "demo", "--addr", "127.0.0.1:0", "--db", db, "--people", "30")
	if got := getJSONWith(t, again.base+"/fhir/Patient?_summary=count", demoTokens(t, again.stdout.String())["TOKEN"])["total"]; got != patients {
		t.Errorf("after a restart, %v patients, want %v", got, patients)
	}
	// 10 people at the practice, each with a GP Patient, some with a trust
	// one too.
	if n, _ := patients.(float64); n < 10 || n > 20 {
		t.Errorf("practice A12345 sees %v patients, want 10 to 20", patients)
	}
	for _, want := range []string{"30 people reconciled at", "pcn U12345 30", "practice A12345 10", "trust RXX", "by trust only"} {
		if !strings.Contains(strings.Join(strings.Fields(s.stdout.String()), " "), want) {
			t.Errorf("the demo's picture lacks %q:\n%s", want, s.stdout)
		}
	}
}

func TestHealthcheckCommand(t *testing.T) {
	s := start(t, noEnv, "serve", "--insecure-no-auth", "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "h.db"))
	if err := run(context.Background(), []string{"healthcheck", "--url", s.base + "/healthz"}, noEnv, io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck of a running gateway: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := run(context.Background(), []string{"healthcheck", "--url", "http://" + closed + "/healthz"}, noEnv, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck of nothing succeeded")
	}
}

func TestMappingsCheck(t *testing.T) {
	good, err := filepath.Glob("../../mappings/profiles/*.yaml")
	if err != nil || len(good) < 4 {
		t.Fatalf("shipped profiles: %v %v", good, err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"mappings", "check"}, good...), noEnv, &out, io.Discard); err != nil {
		t.Fatalf("check of the shipped profiles: %v\n%s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("profile: x\nname: y\nside: primary\nversion: \"1\"\nidentifiers:\n  nhsNumber: [a]\n  ods: [b]\n  patientReferences: literal\ncodes:\n  maps:\n    - source: local\n      target: http://snomed.info/sct\n      elements:\n        - {code: A, target: \"58214005\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(context.Background(), []string{"mappings", "check", bad}, noEnv, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "1 of 1 profiles have problems") {
		t.Errorf("err = %v", err)
	}
	want := bad + `:14: target "58214005": the Verhoeff check digit does not match (a mistyped or corrupted id)`
	if strings.TrimSpace(out.String()) != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestReindexAndUnmappedCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	s := start(t, noEnv, "demo", "--addr", "127.0.0.1:0", "--db", db, "--people", "30")
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"reindex", "--db", db, "--batch", "4"}, noEnv, &out, &errs); err != nil {
		t.Fatalf("reindex: %v\n%s", err, errs.String())
	}
	// The demo's resources, and the health check Tasks raised for them.
	m := regexp.MustCompile(`^reindexed (\d+) resources in `).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("reindex printed %q", out.String())
	}
	if n, _ := strconv.Atoi(m[1]); n < 25 {
		t.Errorf("reindex printed %q, want the 25 demo resources and their Tasks", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"mappings", "unmapped", "--db", db}, noEnv, &out, &errs); err != nil {
		t.Fatalf("mappings unmapped: %v\n%s", err, errs.String())
	}
	if !strings.HasPrefix(out.String(), "PROFILE") {
		t.Errorf("mappings unmapped printed %q", out.String())
	}
}

func TestReconcileCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	s := start(t, noEnv, "demo", "--addr", "127.0.0.1:0", "--db", db, "--people", "30")
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`^reconciled (\d+) people at (\S+) in \S+: (\d+) eligible, (\d+) with all six done; Tasks: (\d+) raised, (\d+) completed, (\d+) cancelled\n$`)
	reconcile := func(asOf string) []string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := run(context.Background(), []string{"reconcile", "--db", db, "--as-of", asOf, "--batch", "2"}, noEnv, &out, &errs); err != nil {
			t.Fatalf("reconcile: %v\n%s", err, errs.String())
		}
		m := summary.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("reconcile printed %q", out.String())
		}
		if !strings.Contains(errs.String(), "reconcile [###") || !strings.Contains(errs.String(), "100%") {
			t.Errorf("no progress bar on stderr: %q", errs.String())
		}
		return m[1:]
	}
	// Two years on, missing components are in new cycles: Tasks are
	// raised; a second run at that date changes nothing.
	first := reconcile("2028-12-01")
	if first[0] == "0" || first[2] == "0" || first[4] == "0" {
		t.Errorf("first run: %v, want people, eligible people and raised Tasks", first)
	}
	second := reconcile("2028-12-01")
	if second[0] != first[0] || second[4] != "0" || second[5] != "0" || second[6] != "0" {
		t.Errorf("second run: %v, want the same people and no Task changes", second)
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"reconcile", "--db", db, "--as-of", "31/03/2027"}, noEnv, &out, &errs); err == nil || !strings.Contains(err.Error(), "--as-of") {
		t.Errorf("a bad --as-of: err = %v", err)
	}
}

func TestReportCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	s := start(t, noEnv, "demo", "--addr", "127.0.0.1:0", "--db", db, "--people", "30")
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"report", "--db", db, "--as-of", "2026-11-23"}, noEnv, &out, &errs); err != nil {
		t.Fatalf("report: %v\n%s", err, errs.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, out.String())
	}
	if len(rows) < 3 || rows[0][0] != "mode" {
		t.Fatalf("report has %d rows: %v", len(rows), rows)
	}
	modes := map[string]bool{}
	for _, r := range rows[1:] {
		modes[r[0]] = true
		if r[1] != "2026-11-23" {
			t.Errorf("row %v: as_of %s", r, r[1])
		}
	}
	if !modes["rolling"] || !modes["qof"] {
		t.Errorf("modes in the report: %v, want both", modes)
	}
	if err := run(context.Background(), []string{"report", "--db", db, "--mode", "monthly"}, noEnv, &out, &errs); err == nil {
		t.Error("--mode monthly: no error")
	}
}

// demoTokens runs the token commands the demo prints (NAME=$(carebridge
// token access ...)) and returns the tokens by name.
func demoTokens(t *testing.T, stdout string) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)=\$\(carebridge (token access [^)]*)\)$`).FindAllStringSubmatch(stdout, -1) {
		var out, errs bytes.Buffer
		if err := run(context.Background(), strings.Fields(m[2]), noEnv, &out, &errs); err != nil {
			t.Fatalf("%s: %v\n%s", m[0], err, errs.String())
		}
		tokens[m[1]] = strings.TrimSpace(out.String())
	}
	if tokens["TOKEN"] == "" || tokens["OPERATOR"] == "" {
		t.Fatalf("the demo prints no token commands:\n%s", stdout)
	}
	return tokens
}
