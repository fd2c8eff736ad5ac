package redirect_test

import (
	"strings"
	"testing"

	"github.com/mitstem/stembox/internal/redirect"
)

// hostile are targets that a browser follows (or could be made to follow)
// off the site, raw and encoded.
var hostile = []string{
	"",
	"evil.example",
	"//evil.example",
	"//evil.example/",
	"///evil.example",
	"/\\evil.example",
	"\\\\evil.example",
	"/\t/evil.example/",
	"/\t\t/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"/\r\n/evil.example",
	"\t//evil.example",
	" //evil.example",
	"/\x00/evil.example",
	"/\x7f/evil.example",
	"/%09/evil.example",
	"/%0a/evil.example",
	"/%0D%0A/evil.example",
	"/%5Cevil.example",
	"/%5cevil.example",
	"/%2Fevil.example",
	"/%2f%2fevil.example",
	"/%252F/evil.example",
	"/%25252F/evil.example",
	"/%2525252F/evil.example",
	"/%255Cevil.example",
	"/%2509/evil.example",
	"/packs/%0d%0aSet-Cookie:x=y",
	"https:evil.example",
	"https:/evil.example",
	"https://evil.example/",
	"HTTPS://evil.example/",
	"javascript:alert(1)",
	"data:text/html,hi",
	"/\u2028/evil.example",
	"/\ufeff/evil.example",
	"/" + strings.Repeat("a", 3000),
}

func TestLocalRefusesHostileTargets(t *testing.T) {
	for _, target := range hostile {
		if got := redirect.Local(target, "/home"); got != "/home" {
			t.Errorf("Local(%q) = %q, want the fallback", target, got)
		}
	}
}

func TestLocalKeepsPathsOnTheSite(t *testing.T) {
	for _, target := range []string{
		"/",
		"/packs/mini",
		"/packs/mini/sets/speed/4?answer=01HX",
		"/login?next=%2Fadmin%2Fpeers",
		"/reports?by=gender&school=a%20b",
		"/student/K7Q2",
		"/packs/mini#part-2",
		"/admin/sync?notice=%D0%93%D0%BE%D1%82%D0%BE%D0%B2%D0%BE",
		"/%D1%83%D1%80%D0%BE%D0%BA",
		"/progress?q=100%25",
		"/.well-known/x",
	} {
		if got := redirect.Local(target, "/home"); got != target {
			t.Errorf("Local(%q) = %q, want it kept", target, got)
		}
	}
}
