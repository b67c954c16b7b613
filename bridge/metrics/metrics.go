// Package metrics is the bridge's Prometheus instruments, on a registry of its own (no global
// state): deliveries by outcome, builds started, trigger latency and reconcile actions.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every instrument. The zero value is not usable: call New.
type Metrics struct {
	reg        *prometheus.Registry
	deliveries *prometheus.CounterVec
	builds     *prometheus.CounterVec
	latency    prometheus.Histogram
	reconcile  *prometheus.CounterVec
	comments   *prometheus.CounterVec
}

// New registers every instrument on a fresh registry, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccci_bridge_deliveries_total",
			Help: "Webhook deliveries by forge and outcome (accepted, ignored, bad_signature, bad_request, too_large, store_error).",
		}, []string{"forge", "outcome"}),
		builds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccci_bridge_builds_started_total",
			Help: "Drone builds started, by forge.",
		}, []string{"forge"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ccci_bridge_trigger_latency_seconds",
			Help:    "From the webhook's arrival (or the poll finding the comment) to the pending status on the PR.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		reconcile: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccci_bridge_reconcile_actions_total",
			Help: "Work the reconcile and poll loops did that a webhook should have caused: finished builds found, retries, comments caught up.",
		}, []string{"action"}),
		comments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccci_bridge_requests_total",
			Help: "!testme requests by how they ended (started, refused, duplicate, cancelled, dropped).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.deliveries, m.builds, m.latency, m.reconcile, m.comments,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Delivery counts one webhook delivery.
func (m *Metrics) Delivery(forge, outcome string) { m.deliveries.WithLabelValues(forge, outcome).Inc() }

// BuildStarted counts one build started.
func (m *Metrics) BuildStarted(forge string) { m.builds.WithLabelValues(forge).Inc() }

// TriggerLatency observes one request's time to its pending status.
func (m *Metrics) TriggerLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }

// Reconcile counts one reconcile or catch-up action.
func (m *Metrics) Reconcile(action string) { m.reconcile.WithLabelValues(action).Inc() }

// Request counts how one request ended.
func (m *Metrics) Request(result string) { m.comments.WithLabelValues(result).Inc() }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
