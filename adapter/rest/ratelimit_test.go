package rest

import (
	"fmt"
	"testing"
	"time"
)

// testClock is a clock the test moves.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func TestLimiterSaysHowLongUntilTheNextToken(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(RateLimit{Limit: Limit{RequestsPerSecond: 2, Burst: 1}}, clk.now)
	if ok, _ := l.take("a", ""); !ok {
		t.Fatal("the first request was refused")
	}
	ok, wait := l.take("a", "")
	if ok || wait.Round(time.Millisecond) != 500*time.Millisecond {
		t.Errorf("second request at once: ok %v, wait %v; want refused, 500ms", ok, wait)
	}
	clk.t = clk.t.Add(400 * time.Millisecond)
	if ok, wait := l.take("a", ""); ok || wait.Round(time.Millisecond) != 100*time.Millisecond {
		t.Errorf("400ms later: ok %v, wait %v; want refused, 100ms", ok, wait)
	}
	clk.t = clk.t.Add(100 * time.Millisecond)
	if ok, _ := l.take("a", ""); !ok {
		t.Error("refused once the token was due")
	}
}

func TestLimiterForgetsIdleBucketsAndStaysBounded(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(RateLimit{Limit: Limit{RequestsPerSecond: 10, Burst: 20}}, clk.now)
	for i := range 100 {
		l.take(fmt.Sprint("address ", i), "")
	}
	if n := len(l.buckets); n != 100 {
		t.Fatalf("%d buckets, want 100", n)
	}
	// Full again after 2s, swept at most once a minute.
	clk.t = clk.t.Add(sweepEvery)
	l.take("address new", "")
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after the idle ones were full again, want 1", n)
	}

	for i := range maxBuckets + 10 {
		l.take(fmt.Sprint("busy ", i), "")
	}
	if n := len(l.buckets); n > maxBuckets+1 {
		t.Errorf("%d buckets, want at most %d", n, maxBuckets+1)
	}
	if l.buckets[overflow] == nil {
		t.Error("addresses beyond the bound do not share the overflow bucket")
	}
}

func TestLimiterOffWhenNoLimitIsSet(t *testing.T) {
	if l := newLimiter(RateLimit{Clients: map[string]Limit{"a": {}}}, time.Now); l != nil {
		t.Error("a limiter was made with no limit set")
	}
}
