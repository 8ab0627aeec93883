package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedDataIsCommitted fails when content/countries.json is not
// what the generator makes of the committed upstream records: a hand edit,
// or a generator change whose output was not committed.
func TestGeneratedDataIsCommitted(t *testing.T) {
	got, _, err := build(".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../countries.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("content/countries.json differs from what `go run ./content/gen` writes; run it and commit the result")
	}
	md, err := os.ReadFile("../SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := websitesSection(md, got); err != nil || !bytes.Equal(fresh, md) {
		t.Fatalf("content/SOURCES.md's table of websites is not what the generator writes (%v)", err)
	}
}
