package contact

import "testing"

func TestASCIIDigits(t *testing.T) {
	for in, want := range map[string]string{"٤٥": "45", "۱۲۰": "120", "+49 ٣٠ ١٢": "+49 30 12", "42": "42", "abc": "abc"} {
		if got := asciiDigits(in); got != want {
			t.Errorf("asciiDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
