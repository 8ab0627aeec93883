package crypt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpenAndRotate(t *testing.T) {
	old := NewKey("k1")
	ring1, err := Parse(old)
	if err != nil {
		t.Fatal(err)
	}
	id, sealed := ring1.Seal([]byte("Amina, +49 30 1234"), []byte("FL-REF1"))
	if id != "k1" || bytes.Contains(sealed, []byte("Amina")) {
		t.Fatalf("sealed under %s, plaintext visible: %v", id, bytes.Contains(sealed, []byte("Amina")))
	}
	// After rotation the new key seals and the old one still opens.
	ring2, err := Parse(NewKey("k2") + "," + old)
	if err != nil {
		t.Fatal(err)
	}
	if ring2.Current() != "k2" {
		t.Fatalf("current %s", ring2.Current())
	}
	got, err := ring2.Open(id, sealed, []byte("FL-REF1"))
	if err != nil || string(got) != "Amina, +49 30 1234" {
		t.Fatalf("open with old key: %q %v", got, err)
	}
	if _, err := ring2.Open(id, sealed, []byte("FL-OTHER")); err == nil {
		t.Error("a sealed value moved to another record must not open")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := ring2.Open(id, sealed, []byte("FL-REF1")); err == nil {
		t.Error("a tampered value must not open")
	}
	ring3, _ := Parse(NewKey("k3"))
	if _, err := ring3.Open("k1", sealed, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("dropped key: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "nokey", "k1:short", "bad id!:" + strings.Repeat("A", 44), NewKey("a") + "," + NewKey("a")} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%.20q) accepted", s)
		}
	}
}

// TestBindingTableColumnRow: a sealed value opens only where it was sealed;
// copied to another row, column or table it does not. A value sealed
// before bindings (bound to the reference alone) still opens.
func TestBindingTableColumnRow(t *testing.T) {
	k, err := Parse(NewKey("k1"))
	if err != nil {
		t.Fatal(err)
	}
	kid, sealed := k.SealAt([]byte("Amina, +49 30 1234"), EnquiryPersonal("FL-AAAA-BBBB-CCCC"))
	if got, err := k.OpenAt(kid, sealed, EnquiryPersonal("FL-AAAA-BBBB-CCCC")); err != nil || string(got) != "Amina, +49 30 1234" {
		t.Fatalf("open where sealed: %q %v", got, err)
	}
	for name, b := range map[string]Binding{
		"another row":    EnquiryPersonal("FL-AAAA-BBBB-DDDD"),
		"another column": {"enquiries", "other", "FL-AAAA-BBBB-CCCC"},
		"another table":  EnquiryEvent("FL-AAAA-BBBB-CCCC"),
		"a gallery case": GalleryCase("FL-AAAA-BBBB-CCCC"),
	} {
		if _, err := k.OpenAt(kid, sealed, b); err == nil {
			t.Errorf("a value moved to %s opened", name)
		}
	}
	if !Bound(sealed) {
		t.Error("a value sealed with its binding is not marked bound")
	}
	kid, legacy := k.Seal([]byte("DRK-7"), []byte("TTF-RK001"))
	if got, err := k.OpenAt(kid, legacy, GalleryCase("TTF-RK001")); err != nil || string(got) != "DRK-7" || Bound(legacy) {
		t.Errorf("a value sealed before bindings: %q %v", got, err)
	}
}
