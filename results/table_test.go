package results

import (
	"math"
	"testing"
)

func TestFormatNs(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{0.5, "0.5 ns"},
		{1, "1 ns"},
		{999, "999 ns"},
		{999.6, "1 µs"},
		{1000, "1 µs"},
		{4800, "4.8 µs"},
		{21_000, "21 µs"},
		{187_400, "187 µs"},
		{1e6, "1 ms"},
		{98_200_000, "98.2 ms"},
		{1e9, "1 s"},
		{2_345e9, "2350 s"},
		{0, "0 ns"},
		{math.NaN(), "-"},
	}
	for _, tt := range tests {
		if got := FormatNs(tt.ns); got != tt.want {
			t.Errorf("FormatNs(%g) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}
