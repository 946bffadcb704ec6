package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebridge/carebridge/adapter/store"
)

// useNonce is Store.UseNonce, failing t on an error.
func useNonce(t *testing.T, st store.Store, key string, until time.Time) bool {
	t.Helper()
	fresh, err := st.UseNonce(context.Background(), key, until)
	if err != nil {
		t.Fatalf("UseNonce: %v", err)
	}
	return fresh
}

var nonceRules = []rule{
	{"a key is new once until it expires, then new once again", func(t *testing.T, st store.Store) {
		later := time.Now().Add(time.Hour)
		if !useNonce(t, st, "client|jti-1", later) {
			t.Error("a new key was reported used")
		}
		if useNonce(t, st, "client|jti-1", later) {
			t.Error("a key used before was reported new")
		}
		if !useNonce(t, st, "client|jti-2", later) {
			t.Error("another new key was reported used")
		}
		// Recorded until a time that has passed: taken over by the next
		// call, which then holds it.
		if !useNonce(t, st, "client|jti-3", time.Now().Add(-time.Second)) {
			t.Error("a new key with a past expiry was reported used")
		}
		if !useNonce(t, st, "client|jti-3", later) {
			t.Error("an expired key was reported used")
		}
		if useNonce(t, st, "client|jti-3", later) {
			t.Error("an expired key taken over was reported new again")
		}
	}},
	{"keys longer than an index entry are kept apart", func(t *testing.T, st store.Store) {
		long := strings.Repeat("x", 5000)
		later := time.Now().Add(time.Hour)
		for i := range 40 {
			if !useNonce(t, st, fmt.Sprint(long, i), later) {
				t.Fatalf("long key %d, new, was reported used", i)
			}
		}
		if useNonce(t, st, long+"0", later) {
			t.Error("a long key used before was reported new")
		}
	}},
	{"a key that expired while more than a few others did is taken over once", func(t *testing.T, st store.Store) {
		// The keys expire after they are recorded, together: more than a
		// call forgets at once, so the last one is still there when used
		// again.
		soon := time.Now().Add(200 * time.Millisecond)
		for i := range 40 {
			useNonce(t, st, fmt.Sprint("soon-", i), soon.Add(time.Duration(i)*time.Microsecond))
		}
		time.Sleep(time.Until(soon.Add(time.Millisecond))) // the clock must pass: nothing to wait on instead
		later := time.Now().Add(time.Hour)
		if !useNonce(t, st, "soon-39", later) {
			t.Error("an expired key was reported used")
		}
		if useNonce(t, st, "soon-39", later) {
			t.Error("an expired key taken over was reported new again")
		}
	}},
	{"of 16 concurrent calls with one key, new or expired, exactly one finds it new", func(t *testing.T, st store.Store) {
		useNonce(t, st, "expired", time.Now().Add(-time.Second))
		for _, key := range []string{"new", "expired"} {
			if n := raceNonce(t, key, 16, st); n != 1 {
				t.Errorf("%s key: %d calls found it new, want exactly 1", key, n)
			}
		}
	}},
	{"many expired keys are forgotten without changing any answer", func(t *testing.T, st store.Store) {
		past, later := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
		for i := range 100 {
			useNonce(t, st, fmt.Sprintf("old-%d", i), past)
		}
		for i := range 100 {
			if !useNonce(t, st, fmt.Sprintf("old-%d", i), later) {
				t.Fatalf("expired key %d was reported used", i)
			}
		}
		for i := range 100 {
			if useNonce(t, st, fmt.Sprintf("old-%d", i), later) {
				t.Fatalf("key %d, taken over, was reported new again", i)
			}
		}
	}},
}

// raceNonce calls UseNonce with key from calls goroutines at once, spread
// over the stores, and returns how many found it new.
func raceNonce(t *testing.T, key string, calls int, stores ...store.Store) int {
	t.Helper()
	until := time.Now().Add(time.Hour)
	start := make(chan struct{})
	results := make(chan error, calls)
	var mu sync.Mutex
	fresh := 0
	for i := range calls {
		go func() {
			<-start
			ok, err := stores[i%len(stores)].UseNonce(context.Background(), key, until)
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
			results <- err
		}()
	}
	close(start)
	for range calls {
		if err := <-results; err != nil {
			t.Errorf("UseNonce: %v", err)
		}
	}
	return fresh
}

// CheckNonceAcrossStores checks that two stores on one database (two
// gateways) agree on once-only keys: of concurrent calls with one key,
// spread over both, exactly one finds it new, and a key one used the other
// finds used.
func CheckNonceAcrossStores(t *testing.T, a, b store.Store) {
	later := time.Now().Add(time.Hour)
	if !useNonce(t, a, "shared", later) {
		t.Fatal("a new key was reported used")
	}
	if useNonce(t, b, "shared", later) {
		t.Error("the second store found new a key the first had used")
	}
	useNonce(t, a, "expired", time.Now().Add(-time.Second))
	for _, key := range []string{"new", "expired"} {
		if n := raceNonce(t, key, 32, a, b); n != 1 {
			t.Errorf("%s key over two stores: %d calls found it new, want exactly 1", key, n)
		}
	}
}

// CheckExpiredNoncesForgotten checks that expired keys do not pile up:
// after 100 keys recorded already expired and one live key, kept (which an
// engine answers from its own table) must count only the live one.
func CheckExpiredNoncesForgotten(t *testing.T, st store.Store, kept func(t *testing.T) int) {
	for i := range 100 {
		useNonce(t, st, fmt.Sprint("old-", i), time.Now().Add(-time.Second))
	}
	useNonce(t, st, "live", time.Now().Add(time.Hour))
	if n := kept(t); n != 1 {
		t.Errorf("%d keys kept, want 1: the live one", n)
	}
}
