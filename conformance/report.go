package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// Status is a test's outcome.
type Status string

// The outcomes of a test.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// A Report is the result of a run.
type Report struct {
	Target   string         `json:"target"`
	Started  time.Time      `json:"started"`
	Duration time.Duration  `json:"durationNs"`
	Suites   []*SuiteResult `json:"suites"`
}

// A SuiteResult is one suite's tests.
type SuiteResult struct {
	Name  string        `json:"name"`
	Title string        `json:"title"`
	Tests []*TestResult `json:"tests"`
}

// A TestResult is one test's outcome, with every exchange it made.
type TestResult struct {
	Suite     string        `json:"suite"`
	File      string        `json:"file"`
	Scenario  string        `json:"scenario"`
	Name      string        `json:"name"`
	Tags      []string      `json:"tags,omitempty"`
	Status    Status        `json:"status"`
	Reason    string        `json:"reason,omitempty"`
	Warnings  []string      `json:"warnings,omitempty"`
	Duration  time.Duration `json:"durationNs"`
	Exchanges []*Exchange   `json:"exchanges,omitempty"`
	// CorrelationID is the X-Correlation-Id every request of the test
	// carried.
	CorrelationID string `json:"correlationId,omitempty"`

	failedAt int // 1-based index of the exchange that failed, 0 for none
}

// FullName is suite › file › test.
func (t *TestResult) FullName() string {
	return t.Suite + " › " + strings.TrimSuffix(t.File, ".yaml") + " › " + t.Name
}

// FailedExchange is the exchange that made the test fail, if any.
func (t *TestResult) FailedExchange() *Exchange {
	if t.failedAt < 1 || t.failedAt > len(t.Exchanges) {
		return nil
	}
	return t.Exchanges[t.failedAt-1]
}

func (t *TestResult) skip(format string, args ...any) {
	t.Status, t.Reason = Skipped, fmt.Sprintf(format, args...)
}

// An Exchange is one request and its answer.
type Exchange struct {
	Step            string            `json:"step"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"requestHeaders,omitempty"`
	RequestBody     string            `json:"requestBody,omitempty"`
	Status          int               `json:"status,omitempty"`
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	ResponseBody    string            `json:"responseBody,omitempty"`
	Duration        time.Duration     `json:"durationNs"`
	Error           string            `json:"error,omitempty"`
}

// Text is the exchange as a readable HTTP transcript.
func (e *Exchange) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", e.Method, e.URL)
	writeHeaders(&b, e.RequestHeaders)
	if e.RequestBody != "" {
		b.WriteString("\n" + e.RequestBody + "\n")
	}
	b.WriteString("\n")
	if e.Error != "" {
		fmt.Fprintf(&b, "(no answer: %s)\n", e.Error)
		return b.String()
	}
	fmt.Fprintf(&b, "HTTP %d (%s)\n", e.Status, e.Duration.Round(time.Millisecond))
	writeHeaders(&b, e.ResponseHeaders)
	if e.ResponseBody != "" {
		b.WriteString("\n" + e.ResponseBody + "\n")
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, h map[string]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "%s: %s\n", k, h[k])
	}
}

// Counts are a report's totals.
type Counts struct{ Passed, Failed, Skipped, Warnings int }

// Total is every test counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Skipped }

// Counts totals the report, or one suite of it.
func (r *Report) Counts() Counts {
	var c Counts
	for _, s := range r.Suites {
		sc := s.Counts()
		c.Passed += sc.Passed
		c.Failed += sc.Failed
		c.Skipped += sc.Skipped
		c.Warnings += sc.Warnings
	}
	return c
}

// Counts totals one suite.
func (s *SuiteResult) Counts() Counts {
	var c Counts
	for _, t := range s.Tests {
		switch t.Status {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		}
		c.Warnings += len(t.Warnings)
	}
	return c
}

// Passed reports whether no selected test failed.
func (r *Report) Passed() bool { return r.Counts().Failed == 0 }

// Failures is every failed test, in run order.
func (r *Report) Failures() []*TestResult {
	var out []*TestResult
	for _, s := range r.Suites {
		for _, t := range s.Tests {
			if t.Status == Failed {
				out = append(out, t)
			}
		}
	}
	return out
}

// ---- console ----

// Console writes a run's progress and summary for people.
type Console struct {
	W io.Writer
	// Live shows the running test on a line of its own that the next
	// line overwrites (for a terminal).
	Live bool
}

// Starting shows the test that is starting, on a live console.
func (c Console) Starting(done, total int, t *TestResult) {
	if c.Live {
		fmt.Fprintf(c.W, "\r\033[K[%d/%d] running %s …", done+1, total, shorten(t.FullName(), 100))
	}
}

// Progress prints one finished test.
func (c Console) Progress(done, total int, t *TestResult) {
	if c.Live {
		fmt.Fprint(c.W, "\r\033[K")
	}
	width := len(fmt.Sprint(total))
	mark := map[Status]string{Passed: "PASS", Failed: "FAIL", Skipped: "SKIP"}[t.Status]
	fmt.Fprintf(c.W, "[%*d/%d] %s %s (%s)\n", width, done, total, mark, t.FullName(), t.Duration.Round(time.Millisecond))
	switch t.Status {
	case Failed:
		fmt.Fprintf(c.W, "        %s\n", t.Reason)
		if ex := t.FailedExchange(); ex != nil {
			c.exchange(ex)
		}
	case Skipped:
		fmt.Fprintf(c.W, "        %s\n", t.Reason)
	}
	for _, w := range t.Warnings {
		fmt.Fprintf(c.W, "        warning: %s\n", w)
	}
}

// exchange prints the request line and a shortened answer.
func (c Console) exchange(ex *Exchange) {
	fmt.Fprintf(c.W, "        > %s %s", ex.Method, ex.URL)
	if ex.RequestBody != "" {
		fmt.Fprintf(c.W, "  %s", shorten(ex.RequestBody, 200))
	}
	fmt.Fprintln(c.W)
	if ex.Error != "" {
		fmt.Fprintf(c.W, "        < no answer: %s\n", ex.Error)
		return
	}
	fmt.Fprintf(c.W, "        < %d  %s\n", ex.Status, shorten(ex.ResponseBody, 300))
}

// Summary prints the totals per suite and the list of failures.
func (c Console) Summary(r *Report) {
	fmt.Fprintf(c.W, "\nConformance of %s (%s)\n", r.Target, r.Duration.Round(time.Millisecond))
	for _, s := range r.Suites {
		n := s.Counts()
		fmt.Fprintf(c.W, "  %-14s %3d passed %3d failed %3d skipped\n", s.Name, n.Passed, n.Failed, n.Skipped)
	}
	n := r.Counts()
	fmt.Fprintf(c.W, "  %-14s %3d passed %3d failed %3d skipped  (%d warnings)\n", "all", n.Passed, n.Failed, n.Skipped, n.Warnings)
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintf(c.W, "\nFailed:\n")
		for _, t := range f {
			fmt.Fprintf(c.W, "  %s: %s\n", t.FullName(), t.Reason)
		}
	}
	if n.Failed == 0 {
		fmt.Fprintf(c.W, "\nRESULT: PASS\n")
	} else {
		fmt.Fprintf(c.W, "\nRESULT: FAIL\n")
	}
}

// ---- JUnit ----

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML: a testsuite per suite, a
// testcase per test, the failing exchange in the failure's text.
func (r *Report) WriteJUnit(w io.Writer) error {
	n := r.Counts()
	out := junitSuites{Name: "CareBridge conformance: " + r.Target, Tests: n.Total(), Failures: n.Failed, Skipped: n.Skipped, Time: seconds(r.Duration)}
	for _, s := range r.Suites {
		sc := s.Counts()
		js := junitSuite{Name: s.Name, Tests: sc.Total(), Failures: sc.Failed, Skipped: sc.Skipped, Timestamp: r.Started.Format("2006-01-02T15:04:05")}
		var total time.Duration
		for _, t := range s.Tests {
			total += t.Duration
			jc := junitCase{Name: t.Name, Classname: s.Name + "." + strings.TrimSuffix(t.File, ".yaml"), Time: seconds(t.Duration)}
			switch t.Status {
			case Failed:
				text := t.Reason + "\n"
				if ex := t.FailedExchange(); ex != nil {
					text += "\n" + ex.Text()
				}
				jc.Failure = &junitMessage{Message: t.Reason, Type: "assertion", Text: text}
			case Skipped:
				jc.Skipped = &junitMessage{Message: t.Reason}
			}
			if len(t.Warnings) > 0 {
				jc.SystemOut = "warnings:\n" + strings.Join(t.Warnings, "\n")
			}
			js.Cases = append(js.Cases, jc)
		}
		js.Time = seconds(total)
		out.Suites = append(out.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ---- HTML ----

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>CareBridge conformance: {{.R.Target}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1d;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.passed{color:#00703c}.failed{color:#d4351c;font-weight:600}.skipped{color:#6f777b}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
details{margin:.3em 0}.reason{font-family:monospace;font-size:12px}.warn{color:#b35c00}
.summary td{border:none;padding:.1em .8em .1em 0}
</style></head><body>
<h1>CareBridge conformance report</h1>
<table class="summary">
<tr><td>Target</td><td>{{.R.Target}}</td></tr>
<tr><td>Started</td><td>{{.R.Started.Format "2006-01-02 15:04:05 UTC"}}, took {{ms .R.Duration}}</td></tr>
<tr><td>Result</td><td>{{if .R.Passed}}<span class="passed">PASS</span>{{else}}<span class="failed">FAIL</span>{{end}}:
{{.N.Passed}} passed, {{.N.Failed}} failed, {{.N.Skipped}} skipped, {{.N.Warnings}} warnings</td></tr>
</table>
<table><tr><th>suite</th><th>title</th><th>passed</th><th>failed</th><th>skipped</th></tr>
{{range .R.Suites}}{{$c := .Counts}}<tr><td><a href="#{{.Name}}">{{.Name}}</a></td><td>{{.Title}}</td><td>{{$c.Passed}}</td><td>{{$c.Failed}}</td><td>{{$c.Skipped}}</td></tr>
{{end}}</table>
{{range .R.Suites}}<h2 id="{{.Name}}">{{.Name}}{{if .Title}}: {{.Title}}{{end}}</h2>
<table><tr><th>file</th><th>test</th><th>result</th><th>time</th></tr>
{{range .Tests}}<tr><td>{{.File}}</td><td>{{.Name}}
{{if .Reason}}<div class="reason">{{.Reason}}</div>{{end}}
{{range .Warnings}}<div class="reason warn">warning: {{.}}</div>{{end}}
{{if eq .Status "failed"}}{{range .Exchanges}}<details><summary>{{.Step}}: {{.Method}} {{.URL}} → {{if .Error}}no answer{{else}}{{.Status}}{{end}}</summary><pre>{{.Text}}</pre></details>{{end}}{{end}}
</td><td class="{{.Status}}">{{.Status}}</td><td>{{ms .Duration}}</td></tr>
{{end}}</table>
{{end}}
</body></html>
`))

// WriteHTML writes the report as one self-contained page, with every
// exchange of every failed test.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlPage.Execute(w, struct {
		R *Report
		N Counts
	}{r, r.Counts()})
}
