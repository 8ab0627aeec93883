package store

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the connection pool's statistics and the outbox's
// backlog for /metrics; the outbox is read on each scrape, with a timeout.
func (s *Store) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Store }

var (
	poolConns     = prometheus.NewDesc("familylinks_pg_pool_connections", "Pool connections by state.", []string{"state"}, nil)
	poolMax       = prometheus.NewDesc("familylinks_pg_pool_max_connections", "Pool size limit.", nil, nil)
	poolAcquires  = prometheus.NewDesc("familylinks_pg_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolWait      = prometheus.NewDesc("familylinks_pg_pool_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
	outboxPending = prometheus.NewDesc("familylinks_outbox_pending", "Outbox messages not yet handled (-1: unknown).", nil, nil)
	outboxLag     = prometheus.NewDesc("familylinks_outbox_lag_seconds", "Age of the oldest unhandled outbox message (-1: unknown).", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolWait, outboxPending, outboxLag} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(st.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(st.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, st.AcquireDuration().Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, lag, err := c.s.OutboxStats(ctx)
	if err != nil {
		n, lag = -1, -time.Second
	}
	ch <- prometheus.MustNewConstMetric(outboxPending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(outboxLag, prometheus.GaugeValue, lag.Seconds())
}
