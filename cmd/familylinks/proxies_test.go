package main

import (
	"slices"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	got, err := trustedProxies(" 10.1.2.0/24, 192.0.2.7 ,,fd00::/8")
	if err != nil || !slices.Equal(got, []string{"10.1.2.0/24", "192.0.2.7", "fd00::/8"}) {
		t.Errorf("valid list: %q %v", got, err)
	}
	if got, err := trustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("unset: %q %v, want nobody trusted", got, err)
	}
	for _, bad := range []string{"the-ingress", "10.0.0.0/8,ingress-nginx", "0.0.0.0/0", "::/0"} {
		if _, err := trustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
