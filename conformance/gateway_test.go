package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/conformance"
)

// gatewayBinary is the carebridge binary the tests start, built once.
var gatewayBinary struct {
	once sync.Once
	path string
	err  error
}

// buildGateway builds ./cmd/carebridge into a temporary folder.
func buildGateway(t *testing.T) string {
	t.Helper()
	gatewayBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "carebridge-conformance-")
		if err != nil {
			gatewayBinary.err = err
			return
		}
		gatewayBinary.path = filepath.Join(dir, "carebridge")
		cmd := exec.Command("go", "build", "-o", gatewayBinary.path, "github.com/carebridge/carebridge/cmd/carebridge")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			gatewayBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if gatewayBinary.err != nil {
		t.Fatal(gatewayBinary.err)
	}
	return gatewayBinary.path
}

// freePort finds a loopback port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGateway runs the built gateway with the kit's configuration in dir
// on db, and gives its FHIR base. It stops when the test ends.
func startGateway(t *testing.T, dir, db string) string {
	t.Helper()
	bin := buildGateway(t)
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d/fhir", port)
	logFile, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", filepath.Join(dir, "carebridge.yaml"), "--db", db,
		"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--base-url", base)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			if log, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("gateway log (last 4 KB):\n%s", tail(log, 4096))
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway on %s not ready after 60s: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kit prepares a kit folder with conformance init.
func kit(t *testing.T) (dir string, actors map[string]*conformance.Actor) {
	t.Helper()
	dir = t.TempDir()
	if err := conformance.Init(conformance.InitOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	actors, err := conformance.LoadActors(filepath.Join(dir, "actors.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, actors
}

// keepJUnit writes the report where CAREBRIDGE_CONFORMANCE_REPORTS says,
// for CI to keep.
func keepJUnit(t *testing.T, name string, r *conformance.Report) {
	dir := os.Getenv("CAREBRIDGE_CONFORMANCE_REPORTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for ext, write := range map[string]func(io.Writer) error{".xml": r.WriteJUnit, ".html": r.WriteHTML} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+ext), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBuiltinSuitesPassAgainstTheGateway starts the built gateway on each
// database engine and runs every built-in suite against it, as CI does:
// every test must pass, and none may be skipped.
func TestBuiltinSuitesPassAgainstTheGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the gateway")
	}
	suites, err := conformance.BuiltinSuites()
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]func(t *testing.T, dir string) string{
		"sqlite":   func(t *testing.T, dir string) string { return "sqlite:" + filepath.Join(dir, "carebridge.db") },
		"postgres": func(t *testing.T, _ string) string { return pgtest.Database(t) },
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dir, actors := kit(t)
			base := startGateway(t, dir, engines[engine](t, dir))
			var log bytes.Buffer
			report, err := conformance.Run(context.Background(), conformance.Options{
				Target: base, Actors: actors, Suites: suites, Progress: conformance.Console{W: &log}.Progress,
			})
			if err != nil {
				t.Fatal(err)
			}
			keepJUnit(t, "conformance-"+engine, report)
			n := report.Counts()
			if n.Total() == 0 {
				t.Fatal("no tests ran")
			}
			if n.Failed > 0 || n.Skipped > 0 {
				t.Errorf("%d passed, %d failed, %d skipped:\n%s", n.Passed, n.Failed, n.Skipped, log.String())
			}
			t.Logf("%d suites: %d tests passed", len(report.Suites), n.Passed)
		})
	}
}

// brokenProxy stands in front of a gateway and answers 200 wherever the
// gateway refused a transaction or batch Bundle with 400 or 422: a gateway
// that accepts invalid Bundles. It records the correlation ids of the
// requests it broke.
type brokenProxy struct {
	mu     sync.Mutex
	broken map[string]bool
}

func (p *brokenProxy) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p.broken = map[string]bool{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		if req.Method == http.MethodPost && strings.TrimSuffix(req.URL.Path, "/") == "/fhir" &&
			(resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity) {
			p.mu.Lock()
			p.broken[req.Header.Get("X-Correlation-Id")] = true
			p.mu.Unlock()
			resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
			body := []byte(`{"resourceType":"Bundle","type":"transaction-response","entry":[]}`)
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
		}
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String() + u.Path
}

// TestBrokenGatewayFailsTheRightTests runs the bad-input and bundles suites
// through a proxy that makes the gateway accept invalid Bundles with 200.
// Exactly the tests whose requests the proxy broke must fail, each with a
// reason naming the status it got, and every other test must pass.
func TestBrokenGatewayFailsTheRightTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the gateway")
	}
	suites, err := conformance.LoadSuites([]string{"bad-input", "bundles"})
	if err != nil {
		t.Fatal(err)
	}
	dir, actors := kit(t)
	base := startGateway(t, dir, "sqlite:"+filepath.Join(dir, "carebridge.db"))
	var proxy brokenProxy
	report, err := conformance.Run(context.Background(), conformance.Options{
		Target: proxy.start(t, base), Actors: actors, Suites: suites,
	})
	if err != nil {
		t.Fatal(err)
	}
	var failed, want []string
	for _, s := range report.Suites {
		for _, tr := range s.Tests {
			if proxy.broken[tr.CorrelationID] {
				want = append(want, tr.FullName())
			}
			switch tr.Status {
			case conformance.Failed:
				failed = append(failed, tr.FullName())
				if !strings.Contains(tr.Reason, "status 200, want") {
					t.Errorf("%s: the reason does not say what was wanted: %s", tr.FullName(), tr.Reason)
				}
				ex := tr.FailedExchange()
				if ex == nil || ex.Status != http.StatusOK || ex.Method != http.MethodPost {
					t.Errorf("%s: the failure does not show the broken exchange: %+v", tr.FullName(), ex)
				}
				t.Logf("fails as it should: %s: %s", tr.FullName(), tr.Reason)
			case conformance.Skipped:
				t.Errorf("%s skipped: %s", tr.FullName(), tr.Reason)
			}
		}
	}
	sort.Strings(failed)
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("the proxy broke no request: the suites send no invalid Bundle")
	}
	if strings.Join(failed, "\n") != strings.Join(want, "\n") {
		t.Errorf("failed tests:\n  %s\nwant exactly the tests whose Bundles the proxy accepted:\n  %s",
			strings.Join(failed, "\n  "), strings.Join(want, "\n  "))
	}
}
