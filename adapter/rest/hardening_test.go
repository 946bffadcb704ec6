package rest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter/rest"
)

// serveOnLoopback runs srv with its own Serve, as carebridge serve does,
// on a fresh port of 127.0.0.1 until the test ends; it returns the root URL.
func serveOnLoopback(t *testing.T, srv *rest.Server, scheme string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return scheme + "://" + ln.Addr().String()
}

// quietLog discards log lines.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// send sends a request with headers (name, value pairs) on hc and reads the answer.
func send(t *testing.T, hc *http.Client, method, u string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// mustOutcome fails the test unless r has the status and an OperationOutcome
// whose first issue has the code.
func (r response) mustOutcome(t *testing.T, status int, code string) {
	t.Helper()
	r.mustStatus(t, status)
	if is := r.issues(t); len(is) == 0 || is[0].Code != code {
		t.Errorf("issues = %+v, want code %q", is, code)
	}
}

// securityHeaders are the headers every response carries, TLS or not.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":       "nosniff",
	"Cache-Control":                "no-store",
	"X-Frame-Options":              "DENY",
	"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Resource-Policy": "same-origin",
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header, tls bool) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	hsts := h.Get("Strict-Transport-Security")
	if tls && hsts != "max-age=31536000" {
		t.Errorf("%s over TLS: Strict-Transport-Security = %q, want max-age=31536000", what, hsts)
	}
	if !tls && hsts != "" {
		t.Errorf("%s over plain HTTP: Strict-Transport-Security = %q, want none", what, hsts)
	}
}

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	c := newServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 4096})
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"metadata", "GET", "metadata", nil, http.StatusOK},
		{"health", "GET", "/healthz", nil, http.StatusOK},
		{"metrics", "GET", "/metrics", nil, http.StatusOK},
		{"a search", "GET", "Patient?name=x", nil, http.StatusOK},
		{"an unknown endpoint", "GET", "/nowhere", nil, http.StatusNotFound},
		{"a read of nothing", "GET", "Patient/nope", nil, http.StatusNotFound},
		{"a malformed body", "POST", "Patient", "{", http.StatusBadRequest},
		{"a body too large", "POST", "Patient", strings.Repeat(" ", 5000), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body).mustStatus(t, tc.want)
			checkSecurityHeaders(t, tc.name, r.header, false)
		})
	}
}

func TestRateLimitIsPerClient(t *testing.T) {
	srv := newRESTServer(t, openSQLite(t), rest.Config{
		RateLimit: rest.RateLimit{Limit: rest.Limit{RequestsPerSecond: 0.1, Burst: 3}},
		ClientIDs: []string{"practice-a", "practice-b"},
	}, quietLog())
	rest.TakeClientFromHeader(srv)
	root := serveOnLoopback(t, srv, "http")
	hc := &http.Client{}
	as := func(client, path string) response {
		t.Helper()
		return send(t, hc, "GET", root+path, nil, "X-Test-Client", client)
	}

	for i := range 3 {
		as("practice-a", "/fhir/metadata").mustStatus(t, http.StatusOK)
		if i == 0 {
			// Health and metrics are never limited, nor counted.
			for range 5 {
				as("practice-a", "/healthz").mustStatus(t, http.StatusOK)
				as("practice-a", "/readyz").mustStatus(t, http.StatusOK)
				as("practice-a", "/metrics").mustStatus(t, http.StatusOK)
			}
		}
	}
	r := as("practice-a", "/fhir/Patient?name=x")
	r.mustOutcome(t, http.StatusTooManyRequests, "throttled")
	checkSecurityHeaders(t, "429", r.header, false)
	// The bucket refills one token in 10 s; it was emptied just now.
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
		t.Errorf("Retry-After = %q, want whole seconds from 1 to 10", r.header.Get("Retry-After"))
	}

	// Another client has a bucket of its own, and so has an unknown one.
	as("practice-b", "/fhir/metadata").mustStatus(t, http.StatusOK)
	for range 4 {
		as("someone-else", "/fhir/metadata")
	}
	as("practice-a", "/healthz").mustStatus(t, http.StatusOK)

	metrics := string(as("", "/metrics").body)
	for _, want := range []string{
		`carebridge_http_rate_limited_total{client="practice-a"} 1`,
		`carebridge_http_rate_limited_total{client="anonymous"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, "someone-else") {
		t.Error("metrics name a client that is not configured")
	}
}

func TestRateLimitPerClientOverrides(t *testing.T) {
	srv := newRESTServer(t, openSQLite(t), rest.Config{
		RateLimit: rest.RateLimit{
			Limit:   rest.Limit{RequestsPerSecond: 0.1, Burst: 1},
			Clients: map[string]rest.Limit{"bulk-loader": {RequestsPerSecond: 0}, "trickle": {RequestsPerSecond: 0.1, Burst: 2}},
		},
	}, quietLog())
	rest.TakeClientFromHeader(srv)
	root := serveOnLoopback(t, srv, "http")
	statuses := func(client string, n int) []int {
		var out []int
		for range n {
			out = append(out, send(t, http.DefaultClient, "GET", root+"/fhir/metadata", nil, "X-Test-Client", client).status)
		}
		return out
	}
	for _, tc := range []struct {
		client string
		want   []int
	}{
		{"bulk-loader", []int{200, 200, 200, 200, 200}},
		{"trickle", []int{200, 200, 429}},
		{"", []int{200, 429}}, // no client id: the remote address's bucket, at the default limit
	} {
		if got := statuses(tc.client, len(tc.want)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("client %q: statuses %v, want %v", tc.client, got, tc.want)
		}
	}
}

func TestRequestLimits(t *testing.T) {
	root := serveOnLoopback(t, newRESTServer(t, openSQLite(t), rest.Config{MaxBodyBytes: 4096}, quietLog()), "http")
	patient := func(padding int) string {
		return `{"resourceType":"Patient","gender":"unknown"` + strings.Repeat(" ", padding) + `}`
	}
	// chunked hides the length of a body, so that it is sent chunked.
	chunked := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
	fhirJSON := []string{"Content-Type", "application/fhir+json"}
	for _, tc := range []struct {
		name, method, path string
		body               io.Reader
		headers            []string
		status             int
		code               string
	}{
		{"a body within the limit", "POST", "/fhir/Patient", strings.NewReader(patient(3000)), fhirJSON, http.StatusCreated, ""},
		{"a chunked body within the limit", "POST", "/fhir/Patient", chunked(patient(3000)), fhirJSON, http.StatusCreated, ""},
		{"a body over the limit", "POST", "/fhir/Patient", strings.NewReader(patient(5000)), fhirJSON, http.StatusRequestEntityTooLarge, "too-long"},
		{"a chunked body over the limit", "POST", "/fhir/Patient", chunked(patient(5000)), fhirJSON, http.StatusRequestEntityTooLarge, "too-long"},
		{"a chunked Bundle over the limit", "POST", "/fhir", chunked(`{"resourceType":"Bundle","type":"batch","entry":[` + strings.Repeat(" ", 5000) + `]}`), fhirJSON, http.StatusRequestEntityTooLarge, "too-long"},
		{"a chunked _search form over the limit", "POST", "/fhir/Patient/_search", chunked("name=" + strings.Repeat("x", 5000)),
			[]string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusRequestEntityTooLarge, "too-long"},
		{"a URL within the limit", "GET", "/fhir/Patient?name=" + strings.Repeat("x", 7000), nil, nil, http.StatusOK, ""},
		{"a URL over the limit", "GET", "/fhir/Patient?name=" + strings.Repeat("x", 9000), nil, nil, http.StatusRequestURITooLong, "too-long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, http.DefaultClient, tc.method, root+tc.path, tc.body, tc.headers...)
			if tc.code == "" {
				r.mustStatus(t, tc.status)
				return
			}
			r.mustOutcome(t, tc.status, tc.code)
		})
	}
}

// dial opens a TCP connection to the server at root, closed when the test
// ends, that gives up on reads and writes after 10 s.
func dial(t *testing.T, root string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(root, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestHeadersOverTheLimitAreRefusedPromptly sends 64 KiB of headers (over
// the default 32 KiB) and expects 431 at once, not a hang.
func TestHeadersOverTheLimitAreRefusedPromptly(t *testing.T) {
	conn := dial(t, serveOnLoopback(t, newRESTServer(t, openSQLite(t), rest.Config{}, quietLog()), "http"))
	fmt.Fprintf(conn, "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Padding: %s\r\n\r\n", strings.Repeat("p", 64<<10))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to headers over the limit: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", res.StatusCode)
	}
}

// TestHeadersSentTooSlowlyAreCutOff holds a connection open with half the
// headers: the server closes it after the read header timeout.
func TestHeadersSentTooSlowlyAreCutOff(t *testing.T) {
	conn := dial(t, serveOnLoopback(t, newRESTServer(t, openSQLite(t), rest.Config{ReadHeaderTimeout: 300 * time.Millisecond}, quietLog()), "http"))
	start := time.Now()
	fmt.Fprint(conn, "GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n")
	_, err := io.ReadAll(conn) // ends when the server closes the connection
	if err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the connection was closed after %v, want about the 300ms read header timeout", took)
	}
}

func TestRequestDeadline(t *testing.T) {
	srv := newRESTServer(t, openSQLite(t), rest.Config{RequestTimeout: 300 * time.Millisecond, WriteTimeout: 600 * time.Millisecond}, quietLog())
	rest.AddRoute(srv, "GET", "/slow", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return fmt.Errorf("wait for the database: %w", c.Request().Context().Err())
	})
	root := serveOnLoopback(t, srv, "http")

	t.Run("an ordinary request that runs out of time answers 503", func(t *testing.T) {
		start := time.Now()
		send(t, http.DefaultClient, "GET", root+"/slow", nil).mustOutcome(t, http.StatusServiceUnavailable, "transient")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("answered after %v, want about the 300ms request timeout", took)
		}
	})
	t.Run("a long poll gets its wait on top of both timeouts", func(t *testing.T) {
		start := time.Now()
		r := send(t, http.DefaultClient, "GET", root+"/fhir/Task/$changes?owner="+url.QueryEscape("https://fhir.nhs.uk/Id/ods-organization-code|A81001"), nil, "Prefer", "wait=1")
		r.mustStatus(t, http.StatusOK)
		if took := time.Since(start); took < time.Second {
			t.Errorf("answered after %v, want after the 1s wait", took)
		}
		if got := r.header.Get("Preference-Applied"); got != "wait=1" {
			t.Errorf("Preference-Applied = %q, want wait=1", got)
		}
	})
}

// TestLogsHoldNoTokenOrPersonalData sends a recognisable bearer token and
// NHS number in the header, path, query and body of requests that succeed,
// fail with 4xx, panic, run out of time and hit a closed database, and
// expects neither in any log line.
func TestLogsHoldNoTokenOrPersonalData(t *testing.T) {
	const (
		token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"
		nhs   = "9434765919"
	)
	// A file, which the server writes while the test reads.
	logs, err := os.Create(filepath.Join(t.TempDir(), "log.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := openSQLite(t)
	srv := newRESTServer(t, st, rest.Config{MaxBodyBytes: 4096, RequestTimeout: 200 * time.Millisecond}, log)
	rest.AddRoute(srv, "GET", "/panics", func(c echo.Context) error {
		panic("no practice for NHS number " + nhs + " with token " + token)
	})
	rest.AddRoute(srv, "GET", "/slow", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return fmt.Errorf("look up %s: %w", nhs, c.Request().Context().Err())
	})
	root := serveOnLoopback(t, srv, "http")
	auth := []string{"Authorization", "Bearer " + token, "Content-Type", "application/fhir+json"}
	identifier := url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|" + nhs)
	patient := `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}]}`
	get := func(path string) response { return send(t, http.DefaultClient, "GET", root+path, nil, auth...) }
	post := func(path, body string) response {
		return send(t, http.DefaultClient, "POST", root+path, strings.NewReader(body), auth...)
	}

	post("/fhir/Patient", patient).mustStatus(t, http.StatusCreated)
	get("/fhir/Patient?identifier="+identifier).mustStatus(t, http.StatusOK)
	post("/fhir/Patient", `{"resourceType":"Patient","nhsNumber":"`+nhs+`"}`).mustStatus(t, http.StatusBadRequest)
	post("/fhir/Patient", `{"resourceType":"Patient","identifier":[{"value":"`+nhs+`"}],"x":"`+strings.Repeat("y", 5000)+`"}`).mustStatus(t, http.StatusRequestEntityTooLarge)
	get("/fhir/"+nhs).mustStatus(t, http.StatusNotFound)
	get("/fhir/Patient/"+nhs).mustStatus(t, http.StatusNotFound)
	get("/fhir/Patient?identifier="+identifier+"&pad="+strings.Repeat("x", 9000)).mustStatus(t, http.StatusRequestURITooLong)
	get("/fhir/Patient?birthdate="+nhs+"&identifier="+identifier).mustStatus(t, http.StatusBadRequest)
	get("/panics").mustStatus(t, http.StatusInternalServerError)
	get("/slow?nhs="+nhs).mustStatus(t, http.StatusServiceUnavailable)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	get("/fhir/Patient?identifier="+identifier).mustStatus(t, http.StatusInternalServerError)

	written, err := os.ReadFile(logs.Name())
	if err != nil {
		t.Fatal(err)
	}
	out := string(written)
	for _, want := range []string{`"status":201`, `"status":400`, `"status":413`, `"status":414`, `"status":500`, `"status":503`, "panic: a value of type string"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %s, so the test did not see what it means to check:\n%s", want, out)
		}
	}
	for _, secret := range []string{token, "Bearer", nhs, "c2VjcmV0"} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, out)
		}
	}
}
