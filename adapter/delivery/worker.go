package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/store"
)

// Outbox is what a Worker needs of the Gateway.
type Outbox interface {
	// Queued returns a channel closed at this process's next commit
	// that queued notifications.
	Queued() <-chan struct{}
	ClaimNotifications(ctx context.Context, holder string, lease time.Duration, limit int) ([]adapter.Notification, error)
	RecordAttempts(ctx context.Context, attempts []adapter.Attempt) ([]bool, time.Time, error)
	PruneOutbox(ctx context.Context, retention time.Duration, limit int) (int, error)
	OutboxDepth(ctx context.Context) (map[store.OutboxState]int, error)
}

// Worker drains the outbox: it claims due notifications and sends them,
// Config.Workers at a time, until its Run's context ends.
type Worker struct {
	cfg     Config
	outbox  Outbox
	log     *slog.Logger
	metrics *metrics
	sender  *sender
}

// Timings of the work around attempts.
const (
	// recordTimeout bounds recording an attempt, which also runs while
	// the worker stops.
	recordTimeout = 10 * time.Second
	// pruneEvery is how often delivered notifications past their
	// retention are deleted, pruneBatch at a time.
	pruneEvery = time.Minute
	pruneBatch = 1000
	// maxRetryAfter bounds how long a receiver's Retry-After may put a
	// notification off.
	maxRetryAfter = 24 * time.Hour
)

// New returns a Worker for outbox. Its metrics are registered on reg.
func New(cfg Config, outbox Outbox, log *slog.Logger, reg prometheus.Registerer) (*Worker, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		cfg.Holder = host + "/" + uuid.NewString()[:8]
	}
	m, err := newMetrics(reg, outbox)
	if err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, outbox: outbox, log: log, metrics: m, sender: newSender(cfg)}, nil
}

// Run delivers notifications until ctx ends, then waits for the attempts
// in flight to end and be recorded, and returns nil. It looks at the
// outbox at every commit of this process that queues notifications, and
// every Config.PollInterval.
// Attempts that end while others are being recorded are recorded together,
// in one transaction.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("delivering Subscription notifications", "holder", w.cfg.Holder, "workers", w.cfg.Workers)
	defer w.log.Info("stopped delivering Subscription notifications", "holder", w.cfg.Holder)
	done := make(chan adapter.Attempt, w.cfg.Workers)
	inFlight := 0
	poll := time.NewTicker(w.cfg.PollInterval)
	defer poll.Stop()
	nextPrune := time.Now()
	for {
		queued := w.outbox.Queued()
		more := false
		if free := w.cfg.Workers - inFlight; free > 0 && ctx.Err() == nil {
			limit := min(free, w.cfg.Batch)
			ns, err := w.outbox.ClaimNotifications(ctx, w.cfg.Holder, w.cfg.Lease, limit)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("claiming notifications failed; trying again at the next poll", "err", err)
			}
			for i := range ns {
				inFlight++
				go func() { done <- w.attempt(&ns[i]) }()
			}
			more = len(ns) == limit && inFlight < w.cfg.Workers
		}
		if time.Now().After(nextPrune) {
			w.prune(ctx)
			nextPrune = time.Now().Add(pruneEvery)
		}
		if more && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			for inFlight > 0 {
				inFlight -= w.record(<-done, done)
			}
			return nil
		case a := <-done:
			inFlight -= w.record(a, done)
		case <-queued:
		case <-poll.C:
		}
	}
}

// attempt makes one attempt at n and returns how it ended.
func (w *Worker) attempt(n *adapter.Notification) adapter.Attempt {
	a := adapter.Attempt{Notification: n, Holder: w.cfg.Holder, State: store.OutboxDelivered}
	if n.Undeliverable != "" {
		a.State, a.Error = store.OutboxDead, n.Undeliverable
		return a
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.AttemptTimeout)
	defer cancel()
	start := time.Now()
	res := w.sender.send(ctx, n)
	w.metrics.attempts.WithLabelValues(res.outcome).Inc()
	w.metrics.attemptSeconds.WithLabelValues(res.outcome).Observe(time.Since(start).Seconds())
	if res.outcome == outcomeDelivered {
		return a
	}
	attempts := n.Entry.Attempts + 1
	if attempts >= w.cfg.MaxAttempts {
		a.State, a.Error = store.OutboxDead, fmt.Sprintf("given up after %d attempts; the last: %s", attempts, res.problem)
	} else {
		a.State, a.Error, a.Retry = store.OutboxPending, res.problem, w.backoff(attempts, res.retryAfter)
	}
	return a
}

// record records first and the attempts that have ended meanwhile, in one
// transaction, and returns how many it took from done.
func (w *Worker) record(first adapter.Attempt, done <-chan adapter.Attempt) int {
	batch := []adapter.Attempt{first}
	for len(done) > 0 {
		batch = append(batch, <-done)
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	recorded, at, err := w.outbox.RecordAttempts(ctx, batch)
	if err != nil {
		w.log.Error("recording delivery attempts failed; their notifications will be tried again when their leases end",
			"attempts", len(batch), "err", err)
		return len(batch)
	}
	for i, a := range batch {
		e := &a.Notification.Entry
		switch {
		case !recorded[i]:
			w.log.Warn("a delivery attempt outlived its lease; another gateway holds the notification now", "notification_id", e.ID)
		case a.State == store.OutboxDelivered:
			w.metrics.latency.Observe(at.Sub(e.Created).Seconds())
		case a.State == store.OutboxDead:
			reason := "attempts"
			if a.Notification.Undeliverable != "" {
				reason = "undeliverable"
			}
			w.metrics.finalFailures.WithLabelValues(reason).Inc()
			w.log.Error("notification given up: it is on the dead-letter list until redriven",
				"notification_id", e.ID, "subscription_id", e.Subscription, "resource_type", e.Type,
				"attempts", e.Attempts+1, "reason", a.Error)
		}
	}
	return len(batch)
}

// backoff returns the wait before the attempt after attempts failed ones:
// a random wait up to BackoffBase doubled attempts-1 times, at most
// BackoffCap (full jitter), or the receiver's Retry-After when longer.
func (w *Worker) backoff(attempts int, retryAfter time.Duration) time.Duration {
	ceiling := w.cfg.BackoffBase
	for i := 1; i < attempts && ceiling < w.cfg.BackoffCap; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, w.cfg.BackoffCap)
	return max(rand.N(ceiling+1), min(retryAfter, maxRetryAfter))
}

// prune deletes delivered notifications older than the retention.
func (w *Worker) prune(ctx context.Context) {
	for range 10 {
		n, err := w.outbox.PruneOutbox(ctx, w.cfg.Retention, pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("pruning delivered notifications failed", "err", err)
			}
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
