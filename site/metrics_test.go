package site_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
)

// TestMetricsAfterOddMethods: requests with methods the site has no route
// for, interleaved with ordinary ones, leave /metrics readable, and a
// client cannot add a time series per method it invents.
func TestMetricsAfterOddMethods(t *testing.T) {
	e := newEnv(t)
	methods := []string{"BREW", "GET", "PROPFIND", "POST", "PUT", "XYZZY", "HEAD", "DELETE", "FLX1", "PATCH", "OPTIONS", "FLX2"}
	for i := 0; i < 5; i++ {
		for _, m := range methods {
			e.do(t, httptest.NewRequest(m, "/en/countries/af", nil))
			e.do(t, httptest.NewRequest(m, "/nowhere", nil))
		}
	}
	res := e.get(t, "/metrics")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics after odd methods: %d\n%.500s", res.StatusCode, res.body)
	}
	known := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other"}
	for _, m := range regexp.MustCompile(`method="([^"]*)"`).FindAllStringSubmatch(string(res.body), -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("/metrics has a series for method %q", m[1])
		}
	}
}
