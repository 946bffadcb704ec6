package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/spf13/cobra"
)

// newClient returns an HTTP client for load: many idle connections, and no
// retries, so that every failure is counted rather than hidden. Every
// request carries the bearer token in CAREBRIDGE_TOKEN, when it is set,
// for a gateway that requires authentication.
func newClient(concurrency int) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.RetryMax = 0
	c.Logger = nil
	c.HTTPClient.Timeout = 2 * time.Minute
	t := c.HTTPClient.Transport.(*http.Transport)
	t.MaxIdleConnsPerHost = concurrency * 2
	t.MaxConnsPerHost = concurrency * 2
	if token := os.Getenv("CAREBRIDGE_TOKEN"); token != "" {
		c.HTTPClient.Transport = bearer{base: t, token: token}
	}
	return c
}

// bearer adds a bearer token to every request.
type bearer struct {
	base  http.RoundTripper
	token string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// post sends one FHIR JSON body and checks the status.
func post(ctx context.Context, c *retryablehttp.Client, url string, body []byte, wantStatus int) error {
	_, err := send(ctx, c, http.MethodPost, url, body, wantStatus)
	return err
}

// send sends a request, with a FHIR JSON body unless body is nil, and
// returns the answer's body, read to the end so that the connection is
// reused. Any status but wantStatus is an error.
func send(ctx context.Context, c *retryablehttp.Client, method, url string, body []byte, wantStatus int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Prefer", "return=minimal")
	}
	req.Header.Set("Accept", "application/fhir+json")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != wantStatus {
		return nil, fmt.Errorf("%s %s: status %d: %.300s", method, url, res.StatusCode, data)
	}
	return data, nil
}

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// runLoad sends n bodies from concurrency workers, printing progress every
// second, and returns the per-request latencies and the wall time.
func runLoad(ctx context.Context, stderr io.Writer, c *retryablehttp.Client, url string, bodies [][]byte, concurrency, wantStatus int) (latencies, time.Duration, error) {
	var next, done atomic.Int64
	lat := make(latencies, len(bodies))
	errc := make(chan error, concurrency)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := post(ctx, c, url, bodies[i], wantStatus); err != nil {
					errc <- err
					cancel()
					return
				}
				lat[i] = time.Since(t0)
				done.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				fmt.Fprintf(stderr, "  %d/%d requests, %s\n", done.Load(), len(bodies), time.Since(start).Round(time.Second))
			}
		}
	}()
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	select {
	case err := <-errc:
		return nil, elapsed, err
	default:
	}
	return lat, elapsed, ctx.Err()
}

func newIngestCommand(stdout, stderr io.Writer) *cobra.Command {
	var target, source string
	var bundles, size, concurrency, warmup int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "POST transaction Bundles of mixed resources; report resources/s",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := newGenerator(seed)
			g.source = source
			fmt.Fprintf(stderr, "generating %d bundles of %d resources\n", warmup+bundles, size)
			bodies := make([][]byte, warmup+bundles)
			perBundle := 0
			for i := range bodies {
				b, n, err := g.transaction(size)
				if err != nil {
					return err
				}
				bodies[i], perBundle = b, n
			}
			c := newClient(concurrency)
			url := strings.TrimSuffix(target, "/")
			if warmup > 0 {
				fmt.Fprintf(stderr, "warming up with %d bundles\n", warmup)
				if _, _, err := runLoad(cmd.Context(), stderr, c, url, bodies[:warmup], concurrency, http.StatusOK); err != nil {
					return err
				}
			}
			fmt.Fprintf(stderr, "sending %d bundles from %d clients\n", bundles, concurrency)
			lat, elapsed, err := runLoad(cmd.Context(), stderr, c, url, bodies[warmup:], concurrency, http.StatusOK)
			if err != nil {
				return err
			}
			total := bundles * perBundle
			fmt.Fprintf(stdout, "ingest: %d bundles x %d resources, %d clients: %d resources in %s = %.0f resources/s; bundle latency median %s, p99 %s\n",
				bundles, perBundle, concurrency, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), ms(lat.quantile(0.5)), ms(lat.quantile(0.99)))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "http://127.0.0.1:8080/fhir", "FHIR base URL of the gateway")
	f.IntVar(&bundles, "bundles", 200, "bundles to send (after the warm-up)")
	f.StringVar(&source, "source", "urn:carebridge:source:uk-core-trust", "meta.source of every resource (selects the mapping profile); empty for none")
	f.IntVar(&size, "size", 100, "resources per bundle (whole people of 10 resources)")
	f.IntVar(&concurrency, "concurrency", 4, "concurrent clients")
	f.IntVar(&warmup, "warmup", 10, "bundles sent first and not measured")
	f.Uint64Var(&seed, "seed", 1, "random seed of the synthetic data; use a new one per run on a kept database")
	return cmd
}

func newCreateCommand(stdout, stderr io.Writer) *cobra.Command {
	var target string
	var n, concurrency, warmup int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "create",
		Short: "POST single Patients; report latency median and p99",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := newGenerator(seed)
			bodies := make([][]byte, warmup+n)
			for i := range bodies {
				b, err := g.patient()
				if err != nil {
					return err
				}
				bodies[i] = b
			}
			c := newClient(concurrency)
			url := strings.TrimSuffix(target, "/") + "/Patient"
			if warmup > 0 {
				if _, _, err := runLoad(cmd.Context(), stderr, c, url, bodies[:warmup], concurrency, http.StatusCreated); err != nil {
					return err
				}
			}
			lat, elapsed, err := runLoad(cmd.Context(), stderr, c, url, bodies[warmup:], concurrency, http.StatusCreated)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "create: %d Patients, %d clients: %.0f creates/s; latency median %s, p90 %s, p99 %s, max %s\n",
				n, concurrency, float64(n)/elapsed.Seconds(), ms(lat.quantile(0.5)), ms(lat.quantile(0.9)), ms(lat.quantile(0.99)), ms(lat.quantile(1)))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "http://127.0.0.1:8080/fhir", "FHIR base URL of the gateway")
	f.IntVar(&n, "n", 2000, "creates to send (after the warm-up)")
	f.IntVar(&concurrency, "concurrency", 1, "concurrent clients")
	f.IntVar(&warmup, "warmup", 100, "creates sent first and not measured")
	f.Uint64Var(&seed, "seed", 2, "random seed of the synthetic data")
	return cmd
}
