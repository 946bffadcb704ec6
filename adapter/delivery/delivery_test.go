package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/delivery"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres"
	"github.com/carebridge/carebridge/adapter/store/postgres/pgtest"
	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/fhir"
)

// fast are delivery settings that make a test take seconds: retries
// within tens of milliseconds, a request timeout of 300ms.
func fast(maxAttempts int) delivery.Config {
	return delivery.Config{
		MaxAttempts: maxAttempts, BackoffBase: 10 * time.Millisecond, BackoffCap: 100 * time.Millisecond,
		AttemptTimeout: 300 * time.Millisecond, QuickRetries: 1, Workers: 4, Batch: 8,
		PollInterval: 20 * time.Millisecond, Lease: time.Second,
	}
}

// openSQLite opens (creating when needed) the SQLite database at path.
func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// logRecorder is a slog.Handler that keeps every record, for tests to
// read while the worker runs.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// lines returns the records whose message starts with prefix, as their
// level and attributes.
func (l *logRecorder) lines(prefix string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if !strings.HasPrefix(r.Message, prefix) {
			continue
		}
		m := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

// gateway is a Gateway with a running delivery worker.
type gateway struct {
	*adapter.Gateway
	reg  *prometheus.Registry
	logs *logRecorder
	stop func() // stops the worker and waits for it
}

// start runs a Gateway over st with a delivery worker of cfg.
func start(t *testing.T, st store.Store, cfg delivery.Config) *gateway {
	t.Helper()
	g := &gateway{Gateway: adapter.New(st, adapter.Config{Location: time.UTC}), reg: prometheus.NewRegistry(), logs: &logRecorder{}}
	w, err := delivery.New(cfg, g.Gateway, slog.New(g.logs), g.reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("the worker did not stop within 10s")
			}
		})
	}
	t.Cleanup(g.stop)
	return g
}

// subscribe stores a Subscription to the receiver's /hook with payload
// ("" for none) and an Authorization header.
func subscribe(t *testing.T, g *adapter.Gateway, id, endpoint, payload string) {
	t.Helper()
	channel := `"type":"rest-hook","endpoint":"` + endpoint + `","header":["Authorization: Bearer hook-secret"]`
	if payload != "" {
		channel += `,"payload":"` + payload + `"`
	}
	write(t, g, `{"resourceType":"Subscription","id":"`+id+`","status":"requested","reason":"test",`+
		`"criteria":"Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001","channel":{`+channel+`}}`)
}

// task stores version status of Task/id, owned by practice A81001.
func task(t *testing.T, g *adapter.Gateway, id, status string) {
	t.Helper()
	write(t, g, `{"resourceType":"Task","id":"`+id+`","status":"`+status+`","intent":"order",`+
		`"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"A81001"}}}`)
}

func write(t *testing.T, g *adapter.Gateway, text string) {
	t.Helper()
	res, err := fhir.DecodeResource([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Update(context.Background(), res.Str("resourceType"), res.Str("id"), res, ""); err != nil {
		t.Fatalf("update %s/%s: %v", res.Str("resourceType"), res.Str("id"), err)
	}
}

// outbox returns every notification of g's database.
func outbox(t *testing.T, g *adapter.Gateway) []store.OutboxEntry {
	t.Helper()
	var out []store.OutboxEntry
	q := store.OutboxQuery{Count: 1000}
	for {
		page, err := g.Outbox(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if page.Next == "" {
			return out
		}
		q.After = page.Next
	}
}

// allDelivered reports whether every notification is delivered.
func allDelivered(t *testing.T, g *adapter.Gateway) bool {
	t.Helper()
	entries := outbox(t, g)
	for _, e := range entries {
		if e.State != store.OutboxDelivered {
			return false
		}
	}
	return len(entries) > 0
}

// TestEveryNotificationArrivesThroughFailuresAndARestart sends Task changes
// to a receiver that answers every notification's first attempt with 500,
// lets its second time out, answers its third with 429 and Retry-After,
// and disappears for a while; meanwhile the gateway stops and another
// starts on the same database, after a third claimed notifications and
// died. Every notification must arrive, with the resource version that
// matched.
func TestEveryNotificationArrivesThroughFailuresAndARestart(t *testing.T) {
	ctx := context.Background()
	rcv := newReceiver(t, func(n notice) reply {
		switch n.attempt {
		case 1:
			return reply{status: http.StatusInternalServerError}
		case 2:
			return reply{status: http.StatusOK, delay: time.Second} // past the attempt timeout
		case 3:
			return reply{status: http.StatusTooManyRequests, retryAfter: seconds(1)}
		}
		return ok(n)
	})
	path := filepath.Join(t.TempDir(), "carebridge.db")
	st := openSQLite(t, path)
	g1 := start(t, st, fast(100))
	subscribe(t, g1.Gateway, "gp-a81001", rcv.url("/hook"), "application/fhir+json")
	// Several writers at once.
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 5 {
				task(t, g1.Gateway, fmt.Sprintf("t%d", w*5+i), "requested")
			}
		})
	}
	wg.Wait()
	eventually(t, 10*time.Second, "the receiver got 10 requests", func() bool {
		seen, _, _ := rcv.snapshot()
		return len(seen) >= 10
	})

	// The receiver goes away; changes go on; the gateway stops.
	rcv.down()
	for i := 10; i < 20; i++ {
		task(t, g1.Gateway, fmt.Sprintf("t%d", i), "requested")
	}
	g1.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Another gateway on the same file. A third one claims notifications
	// and dies: its leases must run out and the notifications go on.
	st = openSQLite(t, path)
	dead := adapter.New(st, adapter.Config{Location: time.UTC})
	claimed, err := dead.ClaimNotifications(ctx, "died", time.Second, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("the gateway that dies claimed %d notifications (%v), want 3", len(claimed), err)
	}
	g2 := start(t, st, fast(100))
	for i := 20; i < 30; i++ {
		task(t, g2.Gateway, fmt.Sprintf("t%d", i), "requested")
	}
	task(t, g2.Gateway, "t0", "accepted")
	eventually(t, 10*time.Second, "an attempt found the receiver gone", func() bool {
		for _, e := range outbox(t, g2.Gateway) {
			if strings.Contains(e.LastError, "connection refused") {
				return true
			}
		}
		return false
	})
	rcv.up()
	eventually(t, 60*time.Second, "every notification was delivered", func() bool { return allDelivered(t, g2.Gateway) })

	entries := outbox(t, g2.Gateway)
	if len(entries) != 31 {
		t.Errorf("%d notifications for 31 changes", len(entries))
	}
	seen, acked, overlaps := rcv.snapshot()
	if len(overlaps) > 0 {
		t.Errorf("%d times a notification was in flight twice at once, the first %s", len(overlaps), overlaps[0])
	}
	for _, e := range entries {
		n, ok := acked[e.ID]
		if !ok {
			t.Errorf("notification %s (Task/%s version %d) is recorded delivered but the receiver never accepted it", e.ID, e.ResourceID, e.ResourceVersion)
			continue
		}
		v, err := g2.VRead(ctx, "Task", e.ResourceID, e.ResourceVersion)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case n.method != http.MethodPut || n.path != "/hook/Task/"+e.ResourceID:
			t.Errorf("notification %s went as %s %s, want PUT /hook/Task/%s", e.ID, n.method, n.path, e.ResourceID)
		case !bytes.Equal(n.body, v.Body):
			t.Errorf("notification %s carried %s, want the version that matched: %s", e.ID, n.body, v.Body)
		case n.sub != "gp-a81001" || n.header.Get("Authorization") != "Bearer hook-secret" || n.header.Get("Content-Type") != "application/fhir+json":
			t.Errorf("notification %s headers: %v", e.ID, n.header)
		}
	}
	if len(acked) != len(entries) {
		t.Errorf("the receiver accepted %d notification ids, the outbox holds %d", len(acked), len(entries))
	}
	// The 429's Retry-After was honoured.
	last := map[string]notice{}
	for _, n := range seen {
		if prev, ok := last[n.id]; ok && prev.status == http.StatusTooManyRequests {
			if gap := n.at.Sub(prev.at); gap < 950*time.Millisecond {
				t.Errorf("notification %s was tried again %s after a 429 with Retry-After: 1", n.id, gap)
			}
		}
		last[n.id] = n
	}
}

func TestANotificationWithoutPayloadIsAPostWithoutBody(t *testing.T) {
	rcv := newReceiver(t, ok)
	g := start(t, openSQLite(t, filepath.Join(t.TempDir(), "c.db")), fast(3))
	subscribe(t, g.Gateway, "s1", rcv.url("/hooks/carebridge?practice=A81001"), "")
	task(t, g.Gateway, "t1", "requested")
	eventually(t, 10*time.Second, "the notification was delivered", func() bool { return allDelivered(t, g.Gateway) })
	_, acked, _ := rcv.snapshot()
	e := outbox(t, g.Gateway)[0]
	n := acked[e.ID]
	if n.method != http.MethodPost || n.path != "/hooks/carebridge" || len(n.body) != 0 || n.header.Get("Content-Type") != "" {
		t.Errorf("got %s %s with %d bytes (%q); want a POST to the endpoint without a body", n.method, n.path, len(n.body), n.header.Get("Content-Type"))
	}
	if n.sub != "s1" || n.header.Get("Authorization") != "Bearer hook-secret" {
		t.Errorf("headers %v", n.header)
	}
}

func TestAfterTheLastAttemptANotificationIsDeadAndItsSubscriptionInError(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	failing := true
	rcv := newReceiver(t, func(n notice) reply {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return reply{status: http.StatusInternalServerError}
		}
		return ok(n)
	})
	g := start(t, openSQLite(t, filepath.Join(t.TempDir(), "c.db")), fast(3))
	subscribe(t, g.Gateway, "s1", rcv.url("/hook"), "application/fhir+json")
	task(t, g.Gateway, "t1", "requested")
	eventually(t, 10*time.Second, "the notification is dead", func() bool {
		e := outbox(t, g.Gateway)
		return len(e) == 1 && e[0].State == store.OutboxDead
	})
	dead := outbox(t, g.Gateway)[0]
	status, reason := subscriptionStatus(t, g.Gateway, "s1")
	if status != "error" || reason != "given up after 3 attempts; the last: HTTP 500 Internal Server Error" {
		t.Errorf("Subscription status %q, error %q; want error, with the number of attempts and the last answer", status, reason)
	}
	seen, _, _ := rcv.snapshot()
	if len(seen) != 3 {
		t.Errorf("the receiver got %d requests, want 3 attempts", len(seen))
	}
	for _, n := range seen {
		if n.id != dead.ID {
			t.Errorf("an attempt carried notification id %q, want %s on every attempt", n.id, dead.ID)
		}
	}
	lines := g.logs.lines("notification given up")
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["notification_id"] != dead.ID || lines[0]["resource_type"] != "Task" || lines[0]["attempts"] != "3" {
		t.Errorf("final failure log lines: %v; want one at level error naming %s", lines, dead.ID)
	}
	if got := metric(t, g.reg, "carebridge_delivery_attempts_total", "outcome", "http_error"); got != 3 {
		t.Errorf("http_error attempts = %v, want 3", got)
	}
	if got := metric(t, g.reg, "carebridge_delivery_final_failures_total", "reason", "attempts"); got != 1 {
		t.Errorf("final failures = %v, want 1", got)
	}
	if got := metric(t, g.reg, "carebridge_outbox_notifications", "state", "dead"); got != 1 {
		t.Errorf("dead notifications = %v, want 1", got)
	}

	// The receiver is fixed; the dead notification is redriven and
	// delivered, and the Subscription is active again.
	mu.Lock()
	failing = false
	mu.Unlock()
	if _, err := g.Redrive(ctx, store.OutboxSelection{IDs: []string{dead.ID}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the redriven notification was delivered", func() bool { return allDelivered(t, g.Gateway) })
	if status, reason := subscriptionStatus(t, g.Gateway, "s1"); status != "active" || reason != "" {
		t.Errorf("after delivery the Subscription is %q (%q), want active", status, reason)
	}
	if got := metric(t, g.reg, "carebridge_outbox_notifications", "state", "dead"); got != 0 {
		t.Errorf("dead notifications after the redrive = %v, want 0", got)
	}
	if got := metric(t, g.reg, "carebridge_delivery_latency_seconds_count", "", ""); got != 1 {
		t.Errorf("latency observations = %v, want 1", got)
	}
}

// TestTwoGatewaysNeverSendOneNotificationAtOnce runs two gateways, each
// with its own delivery worker, on one PostgreSQL database, while changes
// are written through both; the receiver answers slowly and refuses every
// first attempt, so that notifications are claimed again and again.
func TestTwoGatewaysNeverSendOneNotificationAtOnce(t *testing.T) {
	db := pgtest.Database(t)
	rcv := newReceiver(t, func(n notice) reply {
		if n.attempt == 1 {
			return reply{status: http.StatusServiceUnavailable, delay: 10 * time.Millisecond}
		}
		return reply{status: http.StatusOK, delay: 15 * time.Millisecond}
	})
	var gws []*gateway
	for i := range 2 {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: db, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg := fast(20)
		cfg.Holder = fmt.Sprintf("gateway-%d", i+1)
		gws = append(gws, start(t, st, cfg))
	}
	subscribe(t, gws[0].Gateway, "s1", rcv.url("/hook"), "application/fhir+json")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 15 {
				task(t, gws[w%2].Gateway, fmt.Sprintf("t%d-%d", w, i), "requested")
			}
		})
	}
	wg.Wait()
	eventually(t, 60*time.Second, "every notification was delivered", func() bool { return allDelivered(t, gws[1].Gateway) })
	entries := outbox(t, gws[0].Gateway)
	_, acked, overlaps := rcv.snapshot()
	if len(overlaps) > 0 {
		t.Errorf("%d times a notification was in flight twice at once, the first %s", len(overlaps), overlaps[0])
	}
	holders := map[string]int{}
	for _, e := range entries {
		if _, ok := acked[e.ID]; !ok {
			t.Errorf("notification %s was not accepted by the receiver", e.ID)
		}
		holders[e.LeaseHolder]++
	}
	if len(entries) != 60 || len(acked) != 60 {
		t.Errorf("%d notifications, %d accepted; want 60 of each", len(entries), len(acked))
	}
	if diff := cmp.Diff([]string{"gateway-1", "gateway-2"}, slices.Sorted(maps.Keys(holders))); diff != "" {
		t.Errorf("the gateways that delivered (-want +got):\n%s", diff)
	}
}

// subscriptionStatus returns the status and error of Subscription/id.
func subscriptionStatus(t *testing.T, g *adapter.Gateway, id string) (status, reason string) {
	t.Helper()
	r, err := g.Read(context.Background(), "Subscription", id)
	if err == nil {
		var sub fhir.Value
		if sub, err = fhir.ParseJSON(r.Body); err == nil {
			return sub.Str("status"), sub.Str("error")
		}
	}
	t.Fatal(err)
	return "", ""
}

// metric returns the value of the sample name{label="value"} (name
// alone when label is ""), as /metrics shows it; 0 when absent.
func metric(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sample := name
	if label != "" {
		sample += `{` + label + `="` + value + `"}`
	}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}
