package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/mappings"
)

// backend opens a fresh store of one engine for a test.
type backend struct {
	name string
	open func(t *testing.T) store.Store
}

// backends are the engines the HTTP tests run on: SQLite always, PostgreSQL
// when CAREBRIDGE_TEST_POSTGRES names a server (and CI requires it).
func backends() []backend {
	return []backend{
		{"sqlite", openSQLite},
		{"postgres", pgtest.Open},
	}
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// client talks to one test server over loopback.
type client struct {
	t      *testing.T
	base   string // the FHIR base URL
	root   string
	engine string // the backend's name under eachBackend
}

// eachBackend runs f as a subtest on every backend, with a server on loopback.
func eachBackend(t *testing.T, f func(t *testing.T, c *client)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := newServer(t, b.open(t), rest.Config{MaxBodyBytes: 64 << 10})
			c.engine = b.name
			f(t, c)
		})
	}
}

// clock is a test clock that moves one second per call.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func newServer(t *testing.T, st store.Store, cfg rest.Config) *client {
	t.Helper()
	srv := newRESTServer(t, st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &client{t: t, base: ts.URL + "/fhir", root: ts.URL}
}

// newRESTServer returns a REST server for a gateway on st that logs to log.
func newRESTServer(t *testing.T, st store.Store, cfg rest.Config, log *slog.Logger) *rest.Server {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	gw := adapter.New(st, adapter.Config{Location: loc, DefaultCount: 20, MaxCount: 100, Now: clk.now, Mappings: shippedMappings(t)})
	reg := prometheus.NewRegistry()
	cfg.Version = "test"
	srv, err := rest.NewServer(cfg, gw, log, reg, reg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	return srv
}

// shippedMappings is the registry of the shipped profiles, with no default.
func shippedMappings(t *testing.T) *mappings.Registry {
	t.Helper()
	reg, err := mappings.NewShippedRegistry(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// response is a test response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
	return m
}

// do sends a request. Paths starting with "/" are relative to the server
// root, others to the FHIR base. body may be a string, []byte or nil.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.t.Helper()
	u := c.base + "/" + path
	if strings.HasPrefix(path, "/") {
		u = c.root + path
	}
	if path == "" {
		u = c.base
	}
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// mustStatus fails the test unless the response has the wanted status.
func (r response) mustStatus(t *testing.T, want int) response {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.status, want, r.body)
	}
	return r
}

// outcome is an OperationOutcome issue as a test sees it.
type outcome struct {
	Severity, Code, Expression string
	Diagnostics                string
}

// issues returns the issues of an OperationOutcome body.
func (r response) issues(t *testing.T) []outcome {
	t.Helper()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string   `json:"severity"`
			Code        string   `json:"code"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(r.body, &oo); err != nil || oo.ResourceType != "OperationOutcome" {
		t.Fatalf("body is not an OperationOutcome: %s", r.body)
	}
	out := make([]outcome, len(oo.Issue))
	for i, is := range oo.Issue {
		out[i] = outcome{Severity: is.Severity, Code: is.Code, Diagnostics: is.Diagnostics}
		if len(is.Expression) > 0 {
			out[i].Expression = is.Expression[0]
		}
	}
	return out
}
