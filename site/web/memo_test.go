package web

import (
	"fmt"
	"testing"
)

func TestMemoForgets(t *testing.T) {
	m := NewMemo[int, string](10)
	for i := range 25 {
		m.Put(i, fmt.Sprint(i))
		if v, ok := m.Get(i); !ok || v != fmt.Sprint(i) {
			t.Fatalf("%d: just kept, got %q %v", i, v, ok)
		}
	}
	if m.Len() != 10 {
		t.Errorf("%d kept, want the bound 10", m.Len())
	}
	m.Put(24, "again") // replacing forgets nothing
	if m.Len() != 10 {
		t.Errorf("%d kept after a replacement, want 10", m.Len())
	}
}
