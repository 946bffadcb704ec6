package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter/store"
)

// metrics are the delivery metrics.
type metrics struct {
	attempts       *prometheus.CounterVec
	attemptSeconds *prometheus.HistogramVec
	finalFailures  *prometheus.CounterVec
	latency        prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, outbox Outbox) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carebridge_delivery_attempts_total",
			Help: "Notification delivery attempts, by outcome: delivered, http_error, timeout, unreachable.",
		}, []string{"outcome"}),
		attemptSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carebridge_delivery_attempt_duration_seconds",
			Help:    "How long one notification delivery attempt took, by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		finalFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carebridge_delivery_final_failures_total",
			Help: "Notifications given up (moved to the dead-letter list), by reason: attempts (all used up) or undeliverable (the Subscription was deleted or turned off).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "carebridge_delivery_latency_seconds",
			Help:    "Time from a change's commit to the delivery of its notification, retries included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400},
		}),
	}
	for _, c := range []prometheus.Collector{m.attempts, m.attemptSeconds, m.finalFailures, m.latency, depthCollector{outbox}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register delivery metrics: %w", err)
		}
	}
	return m, nil
}

// depthDesc describes the outbox depth gauge.
var depthDesc = prometheus.NewDesc("carebridge_outbox_notifications",
	"Notifications in the outbox, by state: pending (to deliver) and dead (given up, until redriven).",
	[]string{"state"}, nil)

// depthCollector counts the outbox when metrics are scraped, so that the
// figure covers every gateway on the database.
type depthCollector struct{ outbox Outbox }

// depthTimeout bounds the count a scrape waits for.
const depthTimeout = 2 * time.Second

func (d depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (d depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), depthTimeout)
	defer cancel()
	counts, err := d.outbox.OutboxDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	for _, state := range []store.OutboxState{store.OutboxPending, store.OutboxDead} {
		m, err := prometheus.NewConstMetric(depthDesc, prometheus.GaugeValue, float64(counts[state]), string(state))
		if err != nil {
			m = prometheus.NewInvalidMetric(depthDesc, err)
		}
		ch <- m
	}
}
