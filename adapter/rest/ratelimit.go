package rest

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// ctxClientID is the key under which the authentication middleware leaves
// the authenticated client id in the echo.Context, before rateLimit runs.
const ctxClientID = "client_id"

// Limit is a token bucket: a steady rate and a burst.
type Limit struct {
	// RequestsPerSecond is the steady rate; 0 means no limit.
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	// Burst is how many requests may come at once after a quiet spell;
	// when 0, twice the rate (at least 1).
	Burst int `yaml:"burst"`
}

// RateLimit limits the requests of each client to the FHIR API: one token
// bucket per authenticated client id, or per remote address for requests
// without one. A request over the limit gets 429 and Retry-After.
type RateLimit struct {
	// Limit is every client's limit unless Clients says otherwise; a zero
	// Limit (and no Clients) turns rate limiting off.
	Limit `yaml:",inline"`
	// Clients are per-client limits by client id.
	Clients map[string]Limit `yaml:"clients"`
}

// Check refuses negative rates and bursts.
func (r RateLimit) Check() error {
	if err := r.Limit.check(); err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	for id, l := range r.Clients {
		if err := l.check(); err != nil {
			return fmt.Errorf("rate limit of client %q: %w", id, err)
		}
	}
	return nil
}

func (l Limit) check() error {
	if l.RequestsPerSecond < 0 || l.Burst < 0 || math.IsNaN(l.RequestsPerSecond) || math.IsInf(l.RequestsPerSecond, 0) {
		return fmt.Errorf("requests per second %v and burst %d: use 0 (no limit) or more", l.RequestsPerSecond, l.Burst)
	}
	return nil
}

// burst is the bucket size of l.
func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, int(math.Ceil(2*l.RequestsPerSecond)))
}

// refill is how long an untouched bucket of l takes to fill up: after it,
// the bucket is no different from a new one and can be forgotten.
func (l Limit) refill() time.Duration {
	return time.Duration(float64(l.burst()) / l.RequestsPerSecond * float64(time.Second))
}

// Bounds on the limiter's memory: buckets idle long enough to be full again
// are swept at most once a minute, or as soon as there are maxBuckets;
// should that many be busy at once, further addresses share one bucket.
const (
	sweepEvery = time.Minute
	maxBuckets = 1 << 16
	overflow   = "overflow"
)

// limiter holds the token buckets.
type limiter struct {
	cfg RateLimit
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	limit    Limit
	tokens   *rate.Limiter
	lastUsed time.Time
}

// newLimiter returns a limiter for cfg, or nil when no limit is set.
func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	on := cfg.RequestsPerSecond > 0
	for _, l := range cfg.Clients {
		on = on || l.RequestsPerSecond > 0
	}
	if !on {
		return nil
	}
	return &limiter{cfg: cfg, now: now, buckets: map[string]*bucket{}, lastSweep: now()}
}

// take takes a token from the bucket of key, whose limit is that of client
// (empty for an unauthenticated request). When the bucket is empty it
// returns false and how long until it holds a token again.
func (l *limiter) take(key, client string) (ok bool, wait time.Duration) {
	limit, custom := l.cfg.Clients[client]
	if !custom || client == "" {
		limit = l.cfg.Limit
	}
	if limit.RequestsPerSecond <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key, limit, now)
	b.lastUsed = now
	if b.tokens.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.tokens.TokensAt(now)
	return false, time.Duration(missing / b.limit.RequestsPerSecond * float64(time.Second))
}

// bucket returns the bucket of key, made with limit if there is none.
// l.mu is held.
func (l *limiter) bucket(key string, limit Limit, now time.Time) *bucket {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if now.Sub(l.lastSweep) >= sweepEvery || len(l.buckets) >= maxBuckets {
		l.sweep(now)
	}
	if len(l.buckets) >= maxBuckets {
		if b, ok := l.buckets[overflow]; ok {
			return b
		}
		key = overflow
	}
	b := &bucket{limit: limit, tokens: rate.NewLimiter(rate.Limit(limit.RequestsPerSecond), limit.burst())}
	l.buckets[key] = b
	return b
}

// sweep forgets the buckets that have been idle long enough to be full.
// l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for key, b := range l.buckets {
		if now.Sub(b.lastUsed) >= b.limit.refill() {
			delete(l.buckets, key)
		}
	}
	l.lastSweep = now
}

// rateLimit refuses with 429 a request whose client has used up its
// bucket, saying in Retry-After (whole seconds, at least 1) when to come
// back. It runs after authentication, so that the bucket is the client's.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	if s.limiter == nil {
		return next
	}
	return func(c echo.Context) error {
		client, _ := c.Get(ctxClientID).(string)
		key := "client " + client
		if client == "" {
			key = "address " + remoteHost(c.Request())
		}
		ok, wait := s.limiter.take(key, client)
		if ok {
			return next(c)
		}
		seconds := max(1, int(math.Ceil(wait.Seconds())))
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds))
		s.metrics.throttled.WithLabelValues(s.clientLabel(client)).Inc()
		return errorf(http.StatusTooManyRequests, "too many requests; retry after %d s", seconds)
	}
}

// clientLabel is the metric label of a client: its id when configured,
// else "anonymous", so that senders cannot grow the label set.
func (s *Server) clientLabel(client string) string {
	if s.clientLabels[client] {
		return client
	}
	return "anonymous"
}

// clientLabels are the client ids of cfg that metrics may name.
func clientLabels(cfg Config) map[string]bool {
	out := make(map[string]bool, len(cfg.ClientIDs)+len(cfg.RateLimit.Clients))
	for _, id := range cfg.ClientIDs {
		out[id] = true
	}
	for id := range cfg.RateLimit.Clients {
		out[id] = true
	}
	delete(out, "")
	return out
}

// remoteHost is the address the request came from, without its port. It
// is the peer's, not X-Forwarded-For, which any sender can write.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
