package search

import (
	"net"
	"testing"
	"time"
)

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"empty URL", Config{}},
		{"no scheme", Config{URL: "127.0.0.1:7700"}},
		{"not http", Config{URL: "ftp://127.0.0.1:7700"}},
		{"prefix with a space", Config{URL: "http://127.0.0.1:7700", Prefix: "t 1"}},
		{"prefix with a slash", Config{URL: "http://127.0.0.1:7700", Prefix: "../"}},
		{"negative timeout", Config{URL: "http://127.0.0.1:7700", Timeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := New(tc.cfg); err == nil {
				t.Errorf("New(%+v) = %v, nil; want an error", tc.cfg, c)
			}
		})
	}
}

func TestFacesIndexUsesPrefix(t *testing.T) {
	for prefix, want := range map[string]string{"": "faces", "t0a1b2_": "t0a1b2_faces"} {
		c, err := New(Config{URL: "http://127.0.0.1:7700", Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.FacesIndex(); got != want {
			t.Errorf("prefix %q: FacesIndex() = %q, want %q", prefix, got, want)
		}
	}
}

func TestReadyAgainstLiveServer(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("Ready against the live server: %v", err)
	}
}

func TestReadyFailsFastOnClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	const timeout = 2 * time.Second
	c, err := New(Config{URL: "http://" + addr, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Ready(t.Context())
	if err == nil {
		t.Fatal("Ready on a closed port = nil, want an error")
	}
	if d := time.Since(start); d > timeout+time.Second {
		t.Errorf("Ready took %v, want it within the %v timeout", d, timeout)
	}
}

func TestWaitUnknownTask(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if err := c.Wait(t.Context(), 1<<40); err == nil {
		t.Fatal("Wait for a task that does not exist = nil, want an error")
	}
}

func TestTaskErrorNamesCode(t *testing.T) {
	err := error(&TaskError{TaskUID: 7, Status: "failed", Code: "invalid_document_id", Message: "bad"})
	if got := apiErrorCode(err); got != "invalid_document_id" {
		t.Errorf("apiErrorCode = %q", got)
	}
	want := "search: task 7 failed: invalid_document_id: bad"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}
