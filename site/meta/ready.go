package meta

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check is one dependency of readiness; nil means not configured.
type Check func(ctx context.Context) error

// CheckResult is one dependency's state in /readyz.
type CheckResult struct {
	Status    string  `json:"status"` // up, down, not_configured
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// Error says why, in a word (timeout, error): the driver's own
	// message, which names hosts, users and databases, goes to the log.
	Error string `json:"error,omitempty"`
}

// Readiness is the body of /readyz.
type Readiness struct {
	// Status is "ready", "degraded" (PostgreSQL up, search down: the
	// gallery answers from PostgreSQL) or "unavailable" (PostgreSQL down).
	Status string                 `json:"status"`
	Checks map[string]CheckResult `json:"checks"`
}

func (h *Handler) run(ctx context.Context, name string, check Check) CheckResult {
	if check == nil {
		return CheckResult{Status: "not_configured"}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	err := check(ctx)
	r := CheckResult{Status: "up", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		r.Status, r.Error = "down", "error"
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			r.Error = "timeout"
		}
		if h.kit.Log != nil {
			h.kit.Log.Warn("readyz: dependency down", "dependency", name, "err", err)
		}
	}
	return r
}

func (h *Handler) readyz(c *fiber.Ctx) error {
	ctx := c.UserContext()
	pg, ms := h.run(ctx, "postgres", h.postgres), h.run(ctx, "meilisearch", h.search)
	r := Readiness{Status: "ready", Checks: map[string]CheckResult{"postgres": pg, "meilisearch": ms}}
	status := fiber.StatusOK
	switch {
	case pg.Status != "up":
		r.Status, status = "unavailable", fiber.StatusServiceUnavailable
	case ms.Status != "up":
		r.Status = "degraded"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(r)
}
