package search

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Defaults applied by New when the Config leaves a duration at zero.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultTaskTimeout = 60 * time.Second
)

// pollInterval is how often Wait asks Meilisearch about a task.
const pollInterval = 50 * time.Millisecond

// prefixPattern keeps the prefix within what Meilisearch accepts in an index
// uid, so that a bad prefix fails in New rather than at the first write.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// Config holds the connection settings for Meilisearch.
type Config struct {
	URL string
	// APIKey writes: indexing, settings, swaps (the admin or master key).
	APIKey string
	// SearchKey searches, and can do nothing else: a key made with the
	// actions ["search"] on the faces indexes. Empty: searches fail with
	// ErrNoSearchKey until EnsureSearchKey has made one (unless
	// SearchWithAPIKey is set, for the operator's commands).
	SearchKey string
	// SearchWithAPIKey lets searches use APIKey: only for commands an
	// operator runs, never for the site.
	SearchWithAPIKey bool
	// Timeout bounds each HTTP call to Meilisearch (default 5s).
	Timeout time.Duration
	// TaskTimeout bounds how long Wait polls for one task (default 60s). It is
	// longer than Timeout because a task queues behind earlier ones and a
	// large batch takes a while to index.
	TaskTimeout time.Duration
	// Prefix is prepended to every index name: "" in production, unique per
	// test package so that tests never touch real indexes.
	Prefix string
}

// Client talks to one Meilisearch server. It is safe for concurrent use.
type Client struct {
	ms meilisearch.ServiceManager
	// searcher is used for searches only: it goes over fasthttp (transport),
	// which may send a search again on a fresh connection when a kept-alive
	// one was closed under it. Writes go through ms, never sent twice.
	searcher    atomic.Pointer[meilisearch.ServiceManager]
	url         string
	timeout     time.Duration
	taskTimeout time.Duration
	prefix      string
}

// New returns a Client for cfg. It does not contact the server; use Ready.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("search: new: empty Meilisearch URL")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("search: new: Meilisearch URL must be http(s)://host[:port], got %q", cfg.URL)
	}
	if !prefixPattern.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("search: new: index prefix %q may only hold A-Z, a-z, 0-9, _ and -", cfg.Prefix)
	}
	if cfg.Timeout < 0 || cfg.TaskTimeout < 0 {
		return nil, errors.New("search: new: negative timeout")
	}
	c := &Client{
		ms:          meilisearch.New(cfg.URL, meilisearch.WithAPIKey(cfg.APIKey), meilisearch.WithCustomClient(httpClient())),
		url:         cfg.URL,
		timeout:     cfg.Timeout,
		taskTimeout: cfg.TaskTimeout,
		prefix:      cfg.Prefix,
	}
	switch {
	case cfg.SearchKey != "":
		c.useSearchKey(cfg.SearchKey)
	case cfg.SearchWithAPIKey:
		c.useSearchKey(cfg.APIKey)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.taskTimeout == 0 {
		c.taskTimeout = DefaultTaskTimeout
	}
	return c, nil
}

// useSearchKey makes searches go out with key.
func (c *Client) useSearchKey(key string) {
	m := meilisearch.New(c.url, meilisearch.WithAPIKey(key), meilisearch.WithCustomClient(&http.Client{Transport: newTransport()}))
	c.searcher.Store(&m)
}

// httpClient talks to Meilisearch without asking for gzip: on a kept-alive
// connection a gzip answer stalled each search by about 40 ms (measured by
// make bench-gallery), and the engine sits next to the site anyway.
func httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// call bounds one HTTP call to Meilisearch.
func (c *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Ready reports whether Meilisearch answers its health probe with
// "available" within the timeout.
func (c *Client) Ready(ctx context.Context) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	h, err := c.ms.HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("search: ready: %w", err)
	}
	if h.Status != "available" {
		return fmt.Errorf("search: ready: Meilisearch status %q", h.Status)
	}
	if c.searcher.Load() == nil {
		return fmt.Errorf("search: ready: %w", ErrNoSearchKey)
	}
	return nil
}

// TaskError reports a Meilisearch task that ended without succeeding.
type TaskError struct {
	TaskUID int64
	Status  string // failed or canceled
	Code    string // Meilisearch error code, e.g. invalid_document_id
	Message string
}

func (e *TaskError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("search: task %d %s", e.TaskUID, e.Status)
	}
	return fmt.Sprintf("search: task %d %s: %s: %s", e.TaskUID, e.Status, e.Code, e.Message)
}

// Wait polls the task until it finishes, for at most the task timeout. It
// returns a *TaskError when the task did not succeed.
func (c *Client) Wait(ctx context.Context, taskUID int64) error {
	ctx, cancel := context.WithTimeout(ctx, c.taskTimeout)
	defer cancel()
	task, err := c.ms.WaitForTaskWithContext(ctx, taskUID, pollInterval)
	if err != nil {
		return fmt.Errorf("search: wait for task %d: %w", taskUID, err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return &TaskError{
			TaskUID: taskUID,
			Status:  string(task.Status),
			Code:    task.Error.Code,
			Message: task.Error.Message,
		}
	}
	return nil
}

// apiErrorCode returns the Meilisearch error code carried by err, or "".
func apiErrorCode(err error) string {
	var me *meilisearch.Error
	if errors.As(err, &me) {
		return me.MeilisearchApiError.Code
	}
	var te *TaskError
	if errors.As(err, &te) {
		return te.Code
	}
	return ""
}
