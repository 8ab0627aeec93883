package cards

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// Change is one field that differs between two versions of a card, by its
// path ("phones.0.number") and its values as text ("" when absent).
type Change struct {
	Field, Before, After string
}

// Diff lists what changed from before to after (stored cards, as JSON),
// field by field in path order: what the second person checks before
// publishing, and what the history shows for each version. A version that
// cannot be read counts as empty.
func Diff(before, after json.RawMessage) []Change {
	b, a := flatten(before), flatten(after)
	var out []Change
	for _, k := range slices.Sorted(maps.Keys(union(a, b))) {
		if a[k] != b[k] {
			out = append(out, Change{Field: k, Before: b[k], After: a[k]})
		}
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func flatten(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		join := func(k string) string {
			if prefix == "" {
				return k
			}
			return prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(join(k), e)
			}
		case []any:
			for i, e := range x {
				walk(join(strconv.Itoa(i)), e)
			}
		case string:
			out[prefix] = x
		case nil:
		default:
			out[prefix] = fmt.Sprint(x)
		}
	}
	walk("", v)
	return out
}
