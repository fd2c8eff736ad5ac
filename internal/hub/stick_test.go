package hub

import (
	"testing"

	"github.com/mitstem/stembox/internal/upstream/wire"
)

func TestParseRequirement(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Requirement
		ok   bool
	}{
		{"all", Requirement{Scope: "all"}, true},
		{"region:Sughd", Requirement{Scope: "region", Value: "Sughd"}, true},
		{"school:01HX:Y", Requirement{Scope: "school", Value: "01HX:Y"}, true},
		{"region:", Requirement{}, false},
		{"school", Requirement{}, false},
		{"country:TJ", Requirement{}, false},
	} {
		got, err := ParseRequirement(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseRequirement(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestAckFileName(t *testing.T) {
	if got, want := AckFileName(wire.Ack{BoxID: "box1", Bundle: "0123456789abcdef"}), "box1-0123456789ab.stemack"; got != want {
		t.Errorf("AckFileName = %q, want %q", got, want)
	}
	if got, want := AckFileName(wire.Ack{BoxID: "box1", Bundle: "short"}), "box1-short.stemack"; got != want {
		t.Errorf("AckFileName of a short bundle id = %q, want %q", got, want)
	}
}
