package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Refreshing of fetched key sets.
const (
	// minRefreshInterval is the shortest time between two fetches of one
	// key set: an unknown kid makes a refresh, but a stream of tokens with
	// made-up kids cannot turn the gateway into a flood of requests.
	minRefreshInterval = 10 * time.Second
	// maxKeySetAge is how long a fetched key set is trusted before the next
	// token makes a refresh, so a key its owner withdrew stops working.
	maxKeySetAge = 15 * time.Minute
	// maxKeySetBytes bounds a fetched JWKS document.
	maxKeySetBytes = 1 << 20
)

// remoteKeys is a JWKS published at a URL: fetched when first needed,
// cached, and fetched again when a token names a kid it lacks or it is
// older than maxKeySetAge, at most once per minRefreshInterval. Callers
// that need a key while a fetch is under way wait for that fetch.
type remoteKeys struct {
	url    string
	client *retryablehttp.Client
	now    func() time.Time
	log    *slog.Logger

	mu          sync.Mutex
	keys        keySet
	fetchedAt   time.Time     // when keys were fetched
	attemptedAt time.Time     // when the last fetch began
	inflight    chan struct{} // closed when the fetch under way ends
}

func newRemoteKeys(url string, client *retryablehttp.Client, now func() time.Time, log *slog.Logger) *remoteKeys {
	return &remoteKeys{url: url, client: client, now: now, log: log}
}

// newKeySetClient is the HTTP client key sets are fetched with: a few quick
// retries, each attempt bounded.
func newKeySetClient() *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.RetryMax = 2
	c.RetryWaitMin, c.RetryWaitMax = 100*time.Millisecond, time.Second
	c.HTTPClient.Timeout = 5 * time.Second
	c.Logger = nil
	return c
}

// key returns the key named kid, refreshing the set when kid is unknown
// or the set is old, and refresh is due.
func (r *remoteKeys) key(ctx context.Context, kid string) (publicKey, bool) {
	r.mu.Lock()
	k, ok := r.keys[kid]
	fresh := r.now().Sub(r.fetchedAt) < maxKeySetAge
	if ok && fresh {
		r.mu.Unlock()
		return k, true
	}
	wait := r.inflight
	if wait == nil {
		if !r.attemptedAt.IsZero() && r.now().Sub(r.attemptedAt) < minRefreshInterval {
			r.mu.Unlock()
			return k, ok // a stale key still verifies until a refresh replaces it
		}
		r.attemptedAt = r.now()
		wait = make(chan struct{})
		r.inflight = wait
		r.mu.Unlock()
		r.refresh(ctx, wait)
	} else {
		r.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return publicKey{}, false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok = r.keys[kid]
	return k, ok
}

// refresh fetches the set and ends the fetch under way, done. A failed
// fetch keeps the keys there were.
func (r *remoteKeys) refresh(ctx context.Context, done chan struct{}) {
	// The fetch serves every caller waiting for it: one giving up must not
	// end it.
	keys, err := r.fetch(context.WithoutCancel(ctx))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.log.WarnContext(ctx, "fetch of a JSON Web Key Set failed; keeping the keys there were", "url", r.url, "error", err)
	} else {
		r.keys, r.fetchedAt = keys, r.now()
	}
	r.inflight = nil
	close(done)
}

func (r *remoteKeys) fetch(ctx context.Context) (keySet, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxKeySetBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxKeySetBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxKeySetBytes)
	}
	return parseJWKS(data, true)
}
