package web

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the site's Prometheus registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the request metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "familylinks_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "familylinks_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Middleware counts and times every request. Errors are rendered here, by
// the app's error handler, so that the status counted is the one sent.
func (m *Metrics) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := c.Route().Path
	m.requests.WithLabelValues(route, methodLabel(c.Method()), strconv.Itoa(c.Response().StatusCode())).Inc()
	m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return nil
}

// methodLabel names a request method for the metrics: a constant for the
// standard methods, "other" for the rest. c.Method() points into a buffer
// fasthttp reuses, so a label holding it changes under the registry (and
// /metrics then fails); and a client must not add a series per method it
// invents.
func methodLabel(m string) string {
	for _, k := range []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete,
		fiber.MethodPatch, fiber.MethodOptions, fiber.MethodTrace, fiber.MethodConnect} {
		if m == k {
			return k
		}
	}
	return "other"
}

// Handler serves /metrics.
func (m *Metrics) Handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// WatchPool exports a pgx pool's statistics.
func (m *Metrics) WatchPool(p *pgxpool.Pool) {
	m.reg.MustRegister(poolCollector{p})
}

// WatchOutbox exports the outbox lag, read on each scrape.
func (m *Metrics) WatchOutbox(stats func(ctx context.Context) (int64, time.Duration, error)) {
	read := func() (int64, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, d, err := stats(ctx)
		if err != nil {
			return -1, -1
		}
		return n, d
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "familylinks_outbox_pending", Help: "Outbox messages not yet handled (-1: unknown)."},
			func() float64 { n, _ := read(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "familylinks_outbox_lag_seconds", Help: "Age of the oldest unhandled outbox message (-1: unknown)."},
			func() float64 { _, d := read(); return d.Seconds() }),
	)
}

type poolCollector struct{ p *pgxpool.Pool }

var (
	poolConns    = prometheus.NewDesc("familylinks_pg_pool_connections", "Pool connections by state.", []string{"state"}, nil)
	poolMax      = prometheus.NewDesc("familylinks_pg_pool_max_connections", "Pool size limit.", nil, nil)
	poolAcquires = prometheus.NewDesc("familylinks_pg_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolWait     = prometheus.NewDesc("familylinks_pg_pool_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
)

func (p poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConns
	ch <- poolMax
	ch <- poolAcquires
	ch <- poolWait
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.p.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
