package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Options are what a run is given.
type Options struct {
	// Target is the FHIR base of the server under test.
	Target string
	// Actors are the client systems scenarios may act as; "default" is
	// the one steps without `as` use.
	Actors map[string]*Actor
	// Suites are the suites to run, in order.
	Suites []*Suite
	// Tags selects tests.
	Tags TagFilter
	// Vars are set before any file's own variables, which they override.
	Vars map[string]string
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
	// TokenURL overrides the token endpoint the server advertises.
	TokenURL string
	// FailFast stops the run at the first failed test.
	FailFast bool
	// Progress, when set, is told of each test as it finishes.
	Progress func(done, total int, t *TestResult)
	// Starting, when set, is told of each test as it starts.
	Starting func(done, total int, t *TestResult)
}

// Run runs the selected tests of every suite in order and reports them.
// It returns an error only when the run could not take place at all (the
// target cannot be reached); failed tests are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	target := strings.TrimSuffix(opts.Target, "/")
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http(s) URL", opts.Target)
	}
	r := &runner{
		opts:   opts,
		target: target,
		origin: u.Scheme + "://" + u.Host,
		client: stepClient(opts.Timeout),
	}
	if r.runID, err = randomLetters(6); err != nil {
		return nil, err
	}
	r.srv = &server{target: target, http: setupClient(opts.Timeout), tokenURL: opts.TokenURL}
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	report := &Report{Target: target, Started: time.Now().UTC()}
	for _, s := range opts.Suites {
		for _, sc := range s.Scenarios {
			for _, t := range sc.Tests {
				if opts.Tags.Match(sc.TestTags(t)) {
					r.total++
				}
			}
		}
	}
	for _, s := range opts.Suites {
		sr := &SuiteResult{Name: s.Name, Title: s.Title}
		report.Suites = append(report.Suites, sr)
		for _, sc := range s.Scenarios {
			if ctx.Err() != nil {
				break
			}
			for _, tr := range r.scenario(ctx, sc) {
				sr.Tests = append(sr.Tests, tr)
				r.done++
				if opts.Progress != nil {
					opts.Progress(r.done, r.total, tr)
				}
				if tr.Status == Failed && opts.FailFast {
					r.stopped = true
				}
			}
			if r.stopped {
				break
			}
		}
		if r.stopped {
			break
		}
	}
	report.Duration = time.Since(report.Started)
	return report, ctx.Err()
}

// runner is one run's state.
type runner struct {
	opts    Options
	target  string
	origin  string
	client  *retryablehttp.Client
	srv     *server
	stopped bool
	// runID and tests name the X-Correlation-Id each test's requests
	// carry, so that a server's logs can be matched to the report.
	runID       string
	tests       int
	correlation string
	// done and total count finished and selected tests, for progress.
	done, total int
}

// stepClient sends the requests of steps: one attempt each (the kit must
// see exactly what the server answers), redirects not followed.
func stepClient(timeout time.Duration) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.RetryMax = 0
	c.CheckRetry = func(context.Context, *http.Response, error) (bool, error) { return false, nil }
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.Logger = nil
	return c
}

// setupClient is for the kit's own calls (the first contact, SMART
// discovery, tokens): retried on connection errors and 5xx, as any client
// should.
func setupClient(timeout time.Duration) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Timeout: timeout}
	c.RetryMax = 4
	c.RetryWaitMin = 200 * time.Millisecond
	c.RetryWaitMax = 2 * time.Second
	c.Logger = nil
	return c
}

// preflight checks that the target answers at all.
func (r *runner) preflight(ctx context.Context) error {
	_, _, err := r.srv.get(ctx, r.target+"/metadata")
	if err != nil {
		return fmt.Errorf("target %s cannot be reached: %w", r.target, err)
	}
	return nil
}

// baseVars are the variables every file starts with.
func (r *runner) baseVars() map[string]any {
	vars := map[string]any{"target": r.target, "origin": r.origin}
	for name, a := range r.opts.Actors {
		vars[name] = a.vars()
	}
	for k, v := range r.opts.Vars {
		vars[k] = v
	}
	return vars
}

// call runs the functions that need actors and the network.
func (r *runner) call(ctx context.Context, name string, args []string) (any, error) {
	actor := func(i int) (*Actor, error) {
		if len(args) <= i {
			return nil, fmt.Errorf("%s() needs an actor", name)
		}
		a, ok := r.opts.Actors[args[i]]
		if !ok {
			return nil, fmt.Errorf("no actor %q", args[i])
		}
		return a, nil
	}
	switch name {
	case "token":
		a, err := actor(0)
		if err != nil {
			return nil, err
		}
		return a.Token(ctx, r.srv)
	case "jwt":
		if len(args) != 2 {
			return nil, errors.New("jwt(KIND, ACTOR) takes two arguments")
		}
		a, err := actor(1)
		if err != nil {
			return nil, err
		}
		return forgeToken(ctx, args[0], a, r.srv)
	case "assertion":
		a, err := actor(0)
		if err != nil {
			return nil, err
		}
		if err := r.srv.discover(ctx); err != nil {
			return nil, err
		}
		o, err := parseAssertionOptions(args[1:], r.opts.Actors, r.srv.tokenURL)
		if err != nil {
			return nil, err
		}
		return a.assertion(o)
	}
	return nil, fmt.Errorf("unknown function %s()", name)
}

// scenario runs one file's selected tests and gives their results.
func (r *runner) scenario(ctx context.Context, sc *Scenario) []*TestResult {
	var results []*TestResult
	var selected []*Test
	for _, t := range sc.Tests {
		if r.opts.Tags.Match(sc.TestTags(t)) {
			selected = append(selected, t)
			results = append(results, &TestResult{
				Suite: sc.suite.Name, File: sc.File, Scenario: sc.Title, Name: t.Name, Tags: dedupe(sc.TestTags(t)),
			})
		}
	}
	if len(selected) == 0 {
		return nil
	}
	if missing := r.missingActors(sc.Requires, sc.Setup, sc.Teardown); len(missing) > 0 {
		for _, tr := range results {
			tr.skip("needs actor %s, which this run does not have", strings.Join(missing, ", "))
		}
		return results
	}
	scope := newScope(r.baseVars(), r.call)
	started := time.Now()
	var sx stepRun
	r.tests++
	r.correlation = fmt.Sprintf("conformance-%s-%d-setup", r.runID, r.tests)
	err := r.setVariables(ctx, scope, sc)
	if err == nil {
		err = r.steps(ctx, scope, sc, "setup", sc.Setup, &sx)
	}
	if err != nil {
		for _, tr := range results {
			tr.Status, tr.Reason, tr.Exchanges, tr.Duration = Failed, err.Error(), sx.exchanges, time.Since(started)
			tr.failedAt = sx.failed
		}
		r.teardown(ctx, scope, sc, results)
		return results
	}
	for i, t := range selected {
		tr := results[i]
		if r.stopped || ctx.Err() != nil {
			tr.skip("not run: the run stopped")
			continue
		}
		if missing := r.missingActors(t.Requires, t.Steps, nil); len(missing) > 0 {
			tr.skip("needs actor %s, which this run does not have", strings.Join(missing, ", "))
			continue
		}
		if r.opts.Starting != nil {
			r.opts.Starting(r.done, r.total, tr)
		}
		start := time.Now()
		var run stepRun
		r.tests++
		r.correlation = fmt.Sprintf("conformance-%s-%d", r.runID, r.tests)
		tr.CorrelationID = r.correlation
		err := r.steps(ctx, scope, sc, "", t.Steps, &run)
		tr.Duration, tr.Exchanges, tr.Warnings = time.Since(start), run.exchanges, run.warnings
		if err != nil {
			tr.Status, tr.Reason, tr.failedAt = Failed, err.Error(), run.failed
			if r.opts.FailFast {
				r.stopped = true
			}
			continue
		}
		tr.Status = Passed
	}
	r.teardown(ctx, scope, sc, results)
	return results
}

// teardown runs a file's teardown; its failures are warnings on the file's
// last test.
func (r *runner) teardown(ctx context.Context, scope *Scope, sc *Scenario, results []*TestResult) {
	if len(sc.Teardown) == 0 {
		return
	}
	var run stepRun
	r.correlation = fmt.Sprintf("conformance-%s-%d-teardown", r.runID, r.tests)
	if err := r.steps(context.WithoutCancel(ctx), scope, sc, "teardown", sc.Teardown, &run); err != nil {
		last := results[len(results)-1]
		last.Warnings = append(last.Warnings, "teardown: "+err.Error())
	}
}

// missingActors lists the actors named by requires or by steps' `as` that
// the run lacks.
func (r *runner) missingActors(requires []string, steps ...[]*Step) []string {
	need := map[string]bool{}
	for _, n := range requires {
		need[n] = true
	}
	for _, list := range steps {
		for _, st := range list {
			need[actorName(st)] = true
		}
	}
	var missing []string
	for n := range need {
		if _, ok := r.opts.Actors[n]; !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return missing
}

func actorName(st *Step) string {
	if st.As == "" {
		return "default"
	}
	return st.As
}

// setVariables evaluates the suite's and the file's variables in order;
// --var values win.
func (r *runner) setVariables(ctx context.Context, scope *Scope, sc *Scenario) error {
	lists := [][]namedExpression{sc.suite.vars, sc.vars}
	for _, list := range lists {
		for _, v := range list {
			if _, given := r.opts.Vars[v.name]; given {
				continue
			}
			val, err := substitute(ctx, scope, v.value)
			if err != nil {
				return fmt.Errorf("variable %s: %w", v.name, err)
			}
			scope.Set(v.name, val)
		}
	}
	return nil
}

// substitute replaces ${...} in every string of a decoded YAML value.
func substitute(ctx context.Context, scope *Scope, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return scope.Value(ctx, x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, err := substitute(ctx, scope, e)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			s, err := substitute(ctx, scope, e)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return v, nil
}

// stepRun collects what a list of steps did.
type stepRun struct {
	exchanges []*Exchange
	warnings  []string
	failed    int // index+1 in exchanges of the exchange that failed
}

// steps runs steps in order and stops at the first that fails.
func (r *runner) steps(ctx context.Context, scope *Scope, sc *Scenario, phase string, steps []*Step, run *stepRun) error {
	for i, st := range steps {
		label := st.Name
		if label == "" {
			where := st.Request.Path
			if where == "" {
				// A URL at the base reads as a path: POST / rather than POST ${target}.
				where = strings.TrimPrefix(st.Request.URL, "${target}")
				if where == "" {
					where = "/"
				}
			}
			label = st.Request.Method + " " + where
		}
		where := fmt.Sprintf("step %d %q", i+1, label)
		if phase != "" {
			where = phase + " " + where
		}
		if actorName(st) != "default" {
			where += " as " + actorName(st)
		}
		attempts := 1
		if st.Retry != nil {
			attempts = st.Retry.Times
		}
		var err error
		for a := 0; a < attempts; a++ {
			if a > 0 {
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s: %w", where, ctx.Err())
				case <-time.After(st.Retry.Every):
				}
			}
			var ex *Exchange
			var warns []string
			ex, warns, err = r.step(ctx, scope, sc, st)
			if ex != nil {
				ex.Step = where
				run.exchanges = append(run.exchanges, ex)
			}
			if err == nil {
				run.warnings = append(run.warnings, prefixAll(where+": ", warns)...)
				break
			}
		}
		if err != nil {
			run.failed = len(run.exchanges)
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

func prefixAll(p string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = p + s
	}
	return out
}

// step sends one request, checks the answer and captures from it.
func (r *runner) step(ctx context.Context, scope *Scope, sc *Scenario, st *Step) (*Exchange, []string, error) {
	req, ex, err := r.buildRequest(ctx, scope, sc, st)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	var throttled []string
	// A deployment's rate limit is not what a step tests, unless it says
	// so: on 429 the kit waits as Retry-After asks, as a client should, and
	// sends the request again, noting it as a warning.
	for tries := 0; err == nil && resp.StatusCode == http.StatusTooManyRequests && !st.Expect.Status.Names(http.StatusTooManyRequests) && tries < maxThrottled; tries++ {
		wait := retryAfter(resp.Header.Get("Retry-After"))
		resp.Body.Close()
		throttled = append(throttled, fmt.Sprintf("throttled (429), sent again after %s", wait))
		select {
		case <-ctx.Done():
			return ex, throttled, ctx.Err()
		case <-time.After(wait):
		}
		resp, err = r.client.Do(req)
	}
	ex.Duration = time.Since(start)
	if err != nil {
		ex.Error = err.Error()
		return ex, throttled, fmt.Errorf("no answer: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	resp.Body.Close()
	ex.Status = resp.StatusCode
	ex.ResponseHeaders = flatHeaders(resp.Header)
	ex.ResponseBody = keepBody(body)
	if err != nil {
		ex.Error = err.Error()
		return ex, nil, fmt.Errorf("reading the answer: %w", err)
	}
	var doc any
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		if json.Unmarshal(t, &doc) != nil {
			doc = nil
		}
	}
	warns, err := r.check(ctx, scope, st, resp, body, doc)
	warns = append(throttled, warns...)
	if err != nil {
		if st.Retry != nil {
			// A retried step takes what it can from every attempt, so that
			// the next one can follow it (a next link, say).
			_ = r.capture(ctx, scope, st, resp, doc)
		}
		return ex, warns, err
	}
	return ex, warns, r.capture(ctx, scope, st, resp, doc)
}

// maxThrottled bounds how often one step is sent again after a 429.
const maxThrottled = 5

// retryAfter reads a Retry-After of seconds: at least 1 s, at most 10 s.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 1 {
		n = 1
	}
	return time.Duration(min(n, 10)) * time.Second
}

// buildRequest makes the HTTP request of a step, with every ${...}
// substituted, and the record of it.
func (r *runner) buildRequest(ctx context.Context, scope *Scope, sc *Scenario, st *Step) (*retryablehttp.Request, *Exchange, error) {
	rq := st.Request
	var target string
	var err error
	if rq.URL != "" {
		if target, err = scope.Text(ctx, rq.URL); err != nil {
			return nil, nil, err
		}
	} else {
		p, err := scope.Text(ctx, rq.Path)
		if err != nil {
			return nil, nil, err
		}
		if p == "/" {
			p = "" // the base itself: POST / sends a Bundle to [base]
		}
		target = r.target + p
	}
	query, _ := decodePairs(rq.Query)
	if len(query) > 0 {
		q := url.Values{}
		var keys []string
		for _, kv := range query {
			v, err := scope.Text(ctx, kv[1])
			if err != nil {
				return nil, nil, fmt.Errorf("query %s: %w", kv[0], err)
			}
			if _, ok := q[kv[0]]; !ok {
				keys = append(keys, kv[0])
			}
			q[kv[0]] = append(q[kv[0]], v)
		}
		var parts []string
		for _, k := range keys {
			for _, v := range q[k] {
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
			}
		}
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + strings.Join(parts, "&")
	}
	var body []byte
	contentType := rq.ContentType
	switch {
	case rq.BodyFile != "":
		raw, err := fs.ReadFile(sc.suite.fsys, path.Join(sc.suite.dir, rq.BodyFile))
		if err != nil {
			return nil, nil, fmt.Errorf("bodyFile: %w", err)
		}
		text, err := scope.Text(ctx, string(raw))
		if err != nil {
			return nil, nil, fmt.Errorf("bodyFile %s: %w", rq.BodyFile, err)
		}
		body = []byte(text)
	case rq.Body != nil:
		if s, ok := rq.Body.(string); ok {
			text, err := scope.Text(ctx, s)
			if err != nil {
				return nil, nil, fmt.Errorf("body: %w", err)
			}
			body = []byte(text)
		} else {
			v, err := substitute(ctx, scope, rq.Body)
			if err != nil {
				return nil, nil, fmt.Errorf("body: %w", err)
			}
			if body, err = json.Marshal(normalise(v)); err != nil {
				return nil, nil, fmt.Errorf("body: %w", err)
			}
		}
	case rq.Form.Kind != 0:
		pairs, _ := decodePairs(rq.Form)
		var parts []string
		for _, kv := range pairs {
			v, err := scope.Text(ctx, kv[1])
			if err != nil {
				return nil, nil, fmt.Errorf("form %s: %w", kv[0], err)
			}
			parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(v))
		}
		body = []byte(strings.Join(parts, "&"))
		if contentType == "" {
			contentType = "application/x-www-form-urlencoded"
		}
	}
	if body != nil && contentType == "" {
		contentType = "application/fhir+json"
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, rq.Method, target, reader)
	if err != nil {
		return nil, nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("User-Agent", "carebridge-conformance")
	req.Header.Set("X-Correlation-Id", r.correlation)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range rq.Headers {
		val, err := scope.Text(ctx, v)
		if err != nil {
			return nil, nil, fmt.Errorf("header %s: %w", k, err)
		}
		req.Header.Set(k, val)
	}
	if req.Header.Get("Authorization") == "" {
		authz, err := r.authorization(ctx, scope, st)
		if err != nil {
			return nil, nil, err
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
	}
	ex := &Exchange{
		Method: rq.Method, URL: target, RequestHeaders: flatHeaders(req.Header), RequestBody: keepBody(body),
	}
	return req, ex, nil
}

// authorization is the Authorization header of a step: the actor's token
// unless auth says otherwise.
func (r *runner) authorization(ctx context.Context, scope *Scope, st *Step) (string, error) {
	switch st.Request.Auth {
	case "none":
		return "", nil
	case "", "token":
		a := r.opts.Actors[actorName(st)]
		if a == nil {
			return "", fmt.Errorf("no actor %q", actorName(st))
		}
		tok, err := a.Token(ctx, r.srv)
		if err != nil || tok == "" {
			return "", err
		}
		return "Bearer " + tok, nil
	}
	tok, err := scope.Text(ctx, st.Request.Auth)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return "Bearer " + tok, nil
}

// flatHeaders gives each header's values joined, Authorization shortened
// so that reports hold no usable credential.
func flatHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		val := strings.Join(v, ", ")
		if k == "Authorization" {
			if scheme, cred, ok := strings.Cut(val, " "); ok {
				shown := ""
				if len(cred) > 24 {
					shown = cred[:8]
				}
				val = fmt.Sprintf("%s %s…(%d characters)", scheme, shown, len(cred))
			}
		}
		out[k] = val
	}
	return out
}

// maxKeptBody bounds the bodies a report keeps.
const maxKeptBody = 64 << 10

func keepBody(b []byte) string {
	if len(b) > maxKeptBody {
		return string(b[:maxKeptBody]) + fmt.Sprintf("\n…(%d more bytes)", len(b)-maxKeptBody)
	}
	return string(b)
}

// capture sets the step's captures from the answer.
func (r *runner) capture(ctx context.Context, scope *Scope, st *Step, resp *http.Response, doc any) error {
	names := make([]string, 0, len(st.Capture))
	for n := range st.Capture {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := st.Capture[name]
		var v any
		if c.Header != "" {
			h := resp.Header.Values(c.Header)
			if len(h) == 0 {
				return fmt.Errorf("capture %s: the answer has no %s header", name, c.Header)
			}
			v = strings.Join(h, ", ")
		} else {
			expr := c.expr
			if expr == nil {
				src, err := scope.Text(ctx, c.Path)
				if err != nil {
					return fmt.Errorf("capture %s: %w", name, err)
				}
				if expr, err = CompileExpr(src); err != nil {
					return fmt.Errorf("capture %s: %w", name, err)
				}
			}
			got, err := expr.Eval(doc)
			if err != nil {
				return fmt.Errorf("capture %s: %w", name, err)
			}
			switch len(got) {
			case 0:
				return fmt.Errorf("capture %s: %s gives no value", name, c.Path)
			case 1:
				v = got[0]
			default:
				v = got
			}
		}
		if c.re != nil {
			text := scalarText(v)
			m := c.re.FindStringSubmatch(text)
			if m == nil {
				return fmt.Errorf("capture %s: %q does not match %s", name, shorten(text, 120), c.re)
			}
			v = m[0]
			if len(m) > 1 {
				v = m[1]
			}
		}
		scope.Set(name, v)
	}
	return nil
}

func dedupe(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// shorten cuts text to n characters on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
