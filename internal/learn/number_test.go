package learn

import (
	"errors"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in    string
		value float64
		unit  string
	}{
		{"9.8", 9.8, ""},
		{"9,8", 9.8, ""},
		{"  9.8  ", 9.8, ""},
		{"-3", -3, ""},
		{"−3", -3, ""},
		{"– 3", -3, ""},
		{"+3", 3, ""},
		{"-0", 0, ""},
		{"0", 0, ""},
		{"007", 7, ""},
		{"1 000", 1000, ""},
		{"1\u00a0000", 1000, ""},
		{"1\u2009000", 1000, ""},
		{"1\u202f000", 1000, ""},
		{"12 345 678", 12345678, ""},
		{"1 000,5", 1000.5, ""},
		{"1 000.5", 1000.5, ""},
		{"1 500,250", 1500.25, ""},
		{"0,125", 0.125, ""},
		{"12,5", 12.5, ""},
		{"1,5000", 1.5, ""},
		{"1234,567", 1234.567, ""},
		{"1.500", 1.5, ""},
		{"3e8", 3e8, ""},
		{"3E-2", 0.03, ""},
		{"3e+2", 300, ""},
		{"3е8", 3e8, ""}, // Cyrillic е
		{"6.67e-11", 6.67e-11, ""},
		{"3·10^8", 3e8, ""},
		{"3*10^8", 3e8, ""},
		{"3×10^8", 3e8, ""},
		{"3x10^8", 3e8, ""},
		{"3х10^8", 3e8, ""}, // Cyrillic х
		{"3 · 10^8", 3e8, ""},
		{"3·10⁸", 3e8, ""},
		{"1,6·10⁻¹⁹", 1.6e-19, ""},
		{"1.6×10^-19", 1.6e-19, ""},
		{"1.6×10^−19", 1.6e-19, ""},
		{"1.6×10^(-19)", 1.6e-19, ""},
		{"10^8", 1e8, ""},
		{"10⁻³", 1e-3, ""},
		{"-10^3", -1000, ""},
		{".5", 0.5, ""},
		{",5", 0.5, ""},
		{"-.5", -0.5, ""},
		{"5.", 5, ""},
		{"9.8 m/s²", 9.8, "m/s²"},
		{"9.8m/s^2", 9.8, "m/s^2"},
		{"20м/с", 20, "м/с"},
		{"20 м/с ", 20, "м/с"},
		{"4 %", 4, "%"},
		{"4%", 4, "%"},
		{"3·10^8 m/s", 3e8, "m/s"},
		{"3e8m/s", 3e8, "m/s"},
		{"5 eV", 5, "eV"},
		{"5e", 5, "e"},
		{"3 x 10", 3, "x 10"},
		{"-40 °C", -40, "°C"},
		{"25 ℃", 25, "℃"},
		{"100 $", 100, "$"},
		{"1e-400", 0, ""},
	}
	for _, tt := range tests {
		v, u, err := ParseNumber(tt.in)
		if err != nil {
			t.Errorf("ParseNumber(%q): error %v, want %v %q", tt.in, err, tt.value, tt.unit)
			continue
		}
		if v != tt.value || u != tt.unit {
			t.Errorf("ParseNumber(%q) = %v %q, want %v %q", tt.in, v, u, tt.value, tt.unit)
		}
	}
}

func TestParseNumberErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"\u00a0", ErrEmpty},
		{"abc", ErrNotANumber},
		{"m/s", ErrNotANumber},
		{"-", ErrNotANumber},
		{".", ErrNotANumber},
		{"-.", ErrNotANumber},
		{"1,2,3", ErrNotANumber},
		{"1.2.3", ErrNotANumber},
		{"1.2,3", ErrNotANumber},
		{"NaN", ErrNotANumber},
		{"nan", ErrNotANumber},
		{"Inf", ErrNotANumber},
		{"-Inf", ErrNotANumber},
		{"+Infinity", ErrNotANumber},
		{"1e400", ErrNotANumber},
		{"-1e99999999999999999999", ErrNotANumber},
		{"5 6", ErrNotANumber},
		{"1 00", ErrNotANumber},
		{"1 0000", ErrNotANumber},
		{"1000 000", ErrNotANumber},
		{"1  000", ErrNotANumber},
		{"2^3", ErrNotANumber},
		{"3·10", ErrNotANumber},
		{"3×10^", ErrNotANumber},
		{"3 * 10^(8", ErrNotANumber},
		{"3 -", ErrNotANumber},
		{"(3)", ErrNotANumber},
		{"1,500", ErrAmbiguousNumber},
		{"12,345", ErrAmbiguousNumber},
		{"-999,999", ErrAmbiguousNumber},
		{"1,000,000", ErrAmbiguousNumber},
		{"1,500 m", ErrAmbiguousNumber},
	}
	for _, tt := range tests {
		v, u, err := ParseNumber(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseNumber(%q) = %v, %q, %v; want error %q", tt.in, v, u, err, tt.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v, scale float64
		comma    bool
		want     string
	}{
		{0, 0, false, "0"},
		{4, 4, false, "4"},
		{-3, 3, false, "-3"},
		{0.1 + 0.2, 0.3, false, "0.3"},
		{9.8, 9.8, false, "9.8"},
		{9.8, 9.8, true, "9,8"},
		{0.09999999999999987, 4.1, false, "0.1"},
		{123456, 123456, false, "123456"},
		{1.5e6, 1.5e6, false, "1.5·10<sup>6</sup>"},
		{1.5e6, 1.5e6, true, "1,5·10<sup>6</sup>"},
		{3e8, 3e8, false, "3·10<sup>8</sup>"},
		{1e8, 1e8, false, "10<sup>8</sup>"},
		{-1e-9, 1e-9, false, "-10<sup>-9</sup>"},
		{6.674e-11, 6.674e-11, false, "6.674·10<sup>-11</sup>"},
		{0.0001, 0.0001, false, "0.0001"},
		{0.00005, 0.00005, false, "5·10<sup>-5</sup>"},
		{1.0 / 3, 1, false, "0.333333333333"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v, tt.scale, tt.comma); got != tt.want {
			t.Errorf("formatNumber(%v, %v, %v) = %q, want %q", tt.v, tt.scale, tt.comma, got, tt.want)
		}
	}
}

func TestFormatRange(t *testing.T) {
	tests := []struct {
		min, max float64
		comma    bool
		want     string
	}{
		{4, 4, false, "4"},
		{4 - 0.05, 4 + 0.05, false, "4 ± 0.05"},
		{4 - 0.05, 4 + 0.05, true, "4 ± 0,05"},
		{3.9, 4.1, false, "4 ± 0.1"},
		{9.7, 9.9, false, "9.8 ± 0.1"},
		{3.14 - 0.01, 3.14 + 0.01, false, "3.14 ± 0.01"},
		{0.3 - 0.1, 0.3 + 0.1, false, "0.2..0.4"},
		{90, 110, false, "100 ± 10"},
		{-0.01, 0.01, false, "0 ± 0.01"},
		{-5.5, -4.5, false, "-5 ± 0.5"},
		{2.9e8, 3.1e8, false, "3·10<sup>8</sup> ± 10<sup>7</sup>"},
		{1, 5, false, "1..5"},
		{0, 10, false, "0..10"},
		{2, 3, false, "2..3"},
		{3.9, 4.2, false, "3.9..4.2"},
		{3.9, 4.2, true, "3,9..4,2"},
		{-5, -3, false, "-5..-3"},
		{2.5, 3.5, false, "3 ± 0.5"},
		{75, 125, false, "75..125"},
	}
	for _, tt := range tests {
		n := NumberAnswer{Min: tt.min, Max: tt.max, Weight: 1}
		if got := formatRange(n, tt.comma); got != tt.want {
			t.Errorf("formatRange(%v..%v, comma %v) = %q, want %q", tt.min, tt.max, tt.comma, got, tt.want)
		}
	}
}
