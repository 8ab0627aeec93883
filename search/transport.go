package search

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// transport carries meilisearch-go's searches over fasthttp's client, which
// does a request in the calling goroutine. Go's own transport hands each
// request and answer between three goroutines; on the two shared cores of
// the benchmark machine that cost about 0.1 ms of a 2 ms gallery search
// (make bench-gallery). Every call has a deadline (Client.call), and the
// whole answer is read. It is for searches only: a search that failed on a
// kept-alive connection the server had closed is sent again, which would be
// wrong for a write such as an index swap.
type transport struct {
	c *fasthttp.Client
}

func newTransport() *transport {
	return &transport{c: &fasthttp.Client{
		Name: "familylinks",
		// A call without a deadline still ends: Client.call always sets one.
		ReadTimeout:  2 * DefaultTaskTimeout,
		WriteTimeout: 2 * DefaultTaskTimeout,
		// Below Meilisearch's own keep-alive (5 s, actix-web's default), so
		// that the engine seldom closes a connection the client reuses.
		MaxIdleConnDuration: 4 * time.Second,
		MaxConnWaitTimeout:  DefaultTimeout,
		RetryIf:             func(*fasthttp.Request) bool { return true },
		// Meilisearch answers gzip only when asked; it is never asked: on a
		// kept-alive connection a gzip answer stalled each search by about
		// 40 ms (make bench-gallery, earlier), and the engine is near.
	}}
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)

	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URL.String())
	for name, values := range r.Header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("search: reading the request body: %w", err)
		}
		req.SetBodyRaw(body)
	}
	var err error
	if deadline, ok := r.Context().Deadline(); ok {
		err = t.c.DoDeadline(req, resp, deadline)
	} else {
		err = t.c.Do(req, resp)
	}
	if err != nil {
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		return nil, err
	}
	body := bytes.Clone(resp.Body())
	out := &http.Response{
		Status:        strconv.Itoa(resp.StatusCode()) + " " + http.StatusText(resp.StatusCode()),
		StatusCode:    resp.StatusCode(),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
	resp.Header.VisitAll(func(k, v []byte) { out.Header.Add(string(k), string(v)) })
	return out, nil
}
