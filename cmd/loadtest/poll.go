package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/spf13/cobra"
)

// The polling load: GP systems following their practice's Tasks. It seeds
// Tasks spread over practices, brings one stored cursor per practice up to
// date (as pollers that have been running would have), then sends polls
// open-loop at a fixed rate, whatever the answers' latency: a mix of
// Task/$changes from the practice's stored cursor and
// Task?owner:identifier=...&status=requested searches. Latency counts from
// when a poll was due, so a gateway that falls behind is not flattered by
// the load slowing down with it.

// pollKind is one kind of poll.
type pollKind int

const (
	changesPoll pollKind = iota
	searchPoll
)

var pollKindNames = [...]string{changesPoll: "$changes", searchPoll: "search"}

// practiceCode is the ODS code of synthetic practice p.
func practiceCode(p int) string { return fmt.Sprintf("P%05d", p) }

const odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// taskBundle returns a transaction Bundle of n Tasks, the i-th owned by
// practice (first+i) % practices: requested, accepted or completed.
func (g *generator) taskBundle(n, first, practices int) ([]byte, error) {
	entries := make([]obj, 0, n)
	for i := range n {
		status := []string{"requested", "requested", "accepted", "completed", "completed"}[g.rng.IntN(5)]
		task := obj{
			"resourceType": "Task",
			"status":       status,
			"intent":       "order",
			"priority":     "routine",
			"code":         coding(snomed, "1240731000000104", "Annual physical health check for severe mental illness"),
			"for":          obj{"identifier": obj{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": g.nhsNumber()}},
			"authoredOn":   fmt.Sprintf("2026-%02d-%02dT09:00:00+00:00", 1+g.rng.IntN(10), 1+g.rng.IntN(28)),
			"requester":    ods("RXX"),
			"owner":        ods(practiceCode((first + i) % practices)),
		}
		if status == "completed" {
			// The Task workflow asks a completed Task for an output or a reason.
			task["statusReason"] = obj{"text": "done at the practice"}
		}
		entries = append(entries, obj{"resource": task, "request": obj{"method": "POST", "url": "Task"}})
	}
	return json.Marshal(obj{"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

// cursors holds each practice's next $changes URL.
type cursors struct {
	mu   sync.Mutex
	next []string
}

func (c *cursors) get(p int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next[p]
}

func (c *cursors) set(p int, u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next[p] = u
}

// changesPage is what a poller reads of a $changes page.
type changesPage struct {
	Link []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []json.RawMessage `json:"entry"`
}

// pollChanges reads one $changes page of practice p from its stored cursor
// and stores the next one. It returns how many changes the page held.
func pollChanges(ctx context.Context, c *retryablehttp.Client, cur *cursors, p int) (int, error) {
	data, err := send(ctx, c, http.MethodGet, cur.get(p), nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var page changesPage
	if err := json.Unmarshal(data, &page); err != nil {
		return 0, fmt.Errorf("$changes page: %w", err)
	}
	for _, l := range page.Link {
		if l.Relation == "next" {
			cur.set(p, l.URL)
			return len(page.Entry), nil
		}
	}
	return 0, fmt.Errorf("$changes page without a next link: %.300s", data)
}

// pollStats gathers the outcome of the polls.
type pollStats struct {
	mu      sync.Mutex
	lat     [2]latencies
	errors  atomic.Int64
	dropped atomic.Int64
	changes atomic.Int64 // changes the $changes polls returned
	firstEr atomic.Value
}

func (s *pollStats) record(k pollKind, d time.Duration) {
	s.mu.Lock()
	s.lat[k] = append(s.lat[k], d)
	s.mu.Unlock()
}

func (s *pollStats) fail(err error) {
	s.errors.Add(1)
	s.firstEr.CompareAndSwap(nil, err.Error())
}

func newPollCommand(stdout, stderr io.Writer) *cobra.Command {
	var target string
	var tasks, practices, perBundle, seedClients, count, maxInFlight int
	var rate, changesShare float64
	var duration time.Duration
	var seed uint64
	cmd := &cobra.Command{
		Use:   "poll",
		Short: "Seed Tasks over many practices, then poll them open-loop at a fixed rate; report requests/s, p50, p99, errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			base := strings.TrimSuffix(target, "/")
			c := newClient(maxInFlight)
			if tasks > 0 {
				g := newGenerator(seed)
				var bodies [][]byte
				for first := 0; first < tasks; first += perBundle {
					b, err := g.taskBundle(min(perBundle, tasks-first), first, practices)
					if err != nil {
						return err
					}
					bodies = append(bodies, b)
				}
				fmt.Fprintf(stderr, "seeding %d Tasks over %d practices in %d Bundles\n", tasks, practices, len(bodies))
				_, took, err := runLoad(ctx, stderr, c, base, bodies, seedClients, http.StatusOK)
				if err != nil {
					return err
				}
				fmt.Fprintf(stderr, "seeded in %s (%.0f Tasks/s)\n", took.Round(time.Millisecond), float64(tasks)/took.Seconds())
			}

			// Every practice's poller catches up first, as running pollers
			// would have.
			cur := &cursors{next: make([]string, practices)}
			for p := range practices {
				cur.next[p] = base + "/Task/$changes?" + url.Values{"owner": {odsSystem + "|" + practiceCode(p)}, "_count": {fmt.Sprint(count)}}.Encode()
			}
			fmt.Fprintf(stderr, "bringing %d practices' cursors up to date\n", practices)
			var next atomic.Int64
			var wg sync.WaitGroup
			errc := make(chan error, seedClients)
			for range seedClients {
				wg.Go(func() {
					for p := int(next.Add(1) - 1); p < practices; p = int(next.Add(1) - 1) {
						for {
							n, err := pollChanges(ctx, c, cur, p)
							if err != nil {
								errc <- err
								return
							}
							if n < count {
								break
							}
						}
					}
				})
			}
			wg.Wait()
			select {
			case err := <-errc:
				return err
			default:
			}

			fmt.Fprintf(stderr, "polling at %.0f/s for %s (%.0f%% $changes)\n", rate, duration, changesShare*100)
			stats := &pollStats{}
			rng := rand.New(rand.NewPCG(seed, 11))
			interval := time.Duration(float64(time.Second) / rate)
			var inFlight atomic.Int64
			start := time.Now()
			end := start.Add(duration)
			sent := 0
			for due := start; due.Before(end) && ctx.Err() == nil; due = due.Add(interval) {
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				}
				if inFlight.Load() >= int64(maxInFlight) {
					stats.dropped.Add(1) // the gateway is this far behind: count it, do not queue it
					continue
				}
				p := rng.IntN(practices)
				kind := searchPoll
				if rng.Float64() < changesShare {
					kind = changesPoll
				}
				sent++
				inFlight.Add(1)
				wg.Go(func() {
					defer inFlight.Add(-1)
					var err error
					switch kind {
					case changesPoll:
						var n int
						n, err = pollChanges(ctx, c, cur, p)
						stats.changes.Add(int64(n))
					case searchPoll:
						q := url.Values{"owner:identifier": {odsSystem + "|" + practiceCode(p)}, "status": {"requested"}, "_count": {fmt.Sprint(count)}}
						_, err = send(ctx, c, http.MethodGet, base+"/Task?"+q.Encode(), nil, http.StatusOK)
					}
					if err != nil {
						stats.fail(err)
						return
					}
					stats.record(kind, time.Since(due))
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			all := append(append(latencies{}, stats.lat[0]...), stats.lat[1]...)
			fmt.Fprintf(stdout, "poll: %d practices, %.0f/s asked for %s: %d sent, %.0f answered/s, %d errors, %d dropped; latency from when due p50 %s, p99 %s, max %s",
				practices, rate, duration, sent, float64(len(all))/elapsed.Seconds(), stats.errors.Load(), stats.dropped.Load(),
				ms(all.quantile(0.5)), ms(all.quantile(0.99)), ms(all.quantile(1)))
			for k, l := range stats.lat {
				fmt.Fprintf(stdout, "; %s %d, p50 %s, p99 %s", pollKindNames[k], len(l), ms(l.quantile(0.5)), ms(l.quantile(0.99)))
			}
			fmt.Fprintf(stdout, "; %d changes polled\n", stats.changes.Load())
			if e := stats.firstEr.Load(); e != nil {
				fmt.Fprintf(stderr, "first error: %s\n", e)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "http://127.0.0.1:8080/fhir", "FHIR base URL of the gateway")
	f.IntVar(&tasks, "tasks", 100000, "Tasks to seed first; 0 to poll what is there")
	f.IntVar(&practices, "practices", 1000, "practices (owner ODS codes P00000...) the Tasks are spread over and the polls ask for")
	f.IntVar(&perBundle, "bundle", 500, "Tasks per seeding transaction Bundle")
	f.IntVar(&seedClients, "seed-clients", 4, "concurrent clients while seeding and catching up")
	f.Float64Var(&rate, "rate", 2000, "polls per second, sent whatever the answers' latency")
	f.DurationVar(&duration, "duration", 30*time.Second, "how long to poll")
	f.Float64Var(&changesShare, "changes-share", 0.5, "share of the polls that are $changes (the rest are searches)")
	f.IntVar(&count, "count", 50, "_count of every poll")
	f.IntVar(&maxInFlight, "max-in-flight", 1024, "polls waiting for an answer at most; a poll due beyond it is dropped and counted")
	f.Uint64Var(&seed, "seed", 1, "random seed of the synthetic Tasks and of the poll mix")
	return cmd
}
