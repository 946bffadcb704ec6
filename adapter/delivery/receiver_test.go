package delivery_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/delivery"
)

// receiver is a notification endpoint on 127.0.0.1 whose answers a test
// scripts. It records every request, notices when one notification is in
// flight twice at once, and can go away and come back on the same port.
type receiver struct {
	t      *testing.T
	addr   string
	answer func(n notice) reply

	mu       sync.Mutex
	srv      *http.Server
	seen     []notice
	attempts map[string]int
	inFlight map[string]int
	overlaps []string
	acked    map[string]notice // the first 2xx request of each notification id
}

// notice is one request the receiver got.
type notice struct {
	method, path string
	id, sub      string // the notification and Subscription id headers
	header       http.Header
	body         []byte
	attempt      int // 1 for the first request with this notification id
	at           time.Time
	status       int // the answer
}

// reply is what the receiver answers: a status after a delay, with a
// Retry-After when set.
type reply struct {
	status     int
	retryAfter string
	delay      time.Duration
}

func newReceiver(t *testing.T, answer func(n notice) reply) *receiver {
	t.Helper()
	r := &receiver{t: t, answer: answer, attempts: map[string]int{}, inFlight: map[string]int{}, acked: map[string]notice{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	r.serve(l)
	t.Cleanup(r.down)
	return r
}

// url returns the URL of path on the receiver.
func (r *receiver) url(path string) string { return "http://" + r.addr + path }

func (r *receiver) serve(l net.Listener) {
	srv := &http.Server{Handler: r}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(l)
}

// down closes the listener and every connection: the receiver is gone and
// connections are refused.
func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same port.
func (r *receiver) up() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("listen again on %s: %v", r.addr, err)
	}
	r.serve(l)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	n := notice{
		method: req.Method, path: req.URL.Path, header: req.Header.Clone(), body: body, at: time.Now(),
		id: req.Header.Get(delivery.HeaderNotificationID), sub: req.Header.Get(delivery.HeaderSubscriptionID),
	}
	r.mu.Lock()
	r.attempts[n.id]++
	n.attempt = r.attempts[n.id]
	r.inFlight[n.id]++
	if r.inFlight[n.id] > 1 {
		r.overlaps = append(r.overlaps, n.id)
	}
	r.mu.Unlock()

	a := r.answer(n)
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-req.Context().Done():
		}
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[n.id]--
	n.status = a.status
	r.seen = append(r.seen, n)
	if _, done := r.acked[n.id]; !done && a.status/100 == 2 && req.Context().Err() == nil {
		r.acked[n.id] = n
	}
}

// snapshot returns what the receiver has got so far.
func (r *receiver) snapshot() (seen []notice, acked map[string]notice, overlaps []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	acked = make(map[string]notice, len(r.acked))
	for k, v := range r.acked {
		acked[k] = v
	}
	return append([]notice(nil), r.seen...), acked, append([]string(nil), r.overlaps...)
}

// ok answers 200 at once.
func ok(notice) reply { return reply{status: http.StatusOK} }

// eventually polls cond every 10ms until it holds, failing t after
// timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seconds formats a Retry-After in seconds.
func seconds(n int) string { return strconv.Itoa(n) }
