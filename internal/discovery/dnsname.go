package discovery

import (
	"strings"

	"github.com/miekg/dns"
)

// DNS names are handled in miekg/dns's presentation form, where a label's
// special bytes are escaped ("Room\ 5\ \(2\)", "\208\156…" for UTF-8). These
// helpers turn people's names into that form and back.

// escapeLabel returns a label in presentation form, escaped exactly as
// miekg/dns escapes names it unpacks, so names compare equal to those in
// received packets.
func escapeLabel(raw string) string {
	if raw == "" || len(raw) > maxLabel {
		return ""
	}
	wire := make([]byte, 0, len(raw)+2)
	wire = append(wire, byte(len(raw)))
	wire = append(wire, raw...)
	wire = append(wire, 0)
	s, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(s, ".")
}

// splitFirstLabel splits a name in presentation form after its first label
// and returns that label unescaped, and the rest of the name.
func splitFirstLabel(name string) (label, rest string, ok bool) {
	var b []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			return string(b), name[i+1:], true
		case c != '\\':
			b = append(b, c)
		case i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
			v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
			if v > 255 {
				return "", "", false
			}
			b = append(b, byte(v))
			i += 3
		case i+1 < len(name):
			b = append(b, name[i+1])
			i++
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// instanceFQDN is the full name of an instance of a service type.
func instanceFQDN(instance, service string) string {
	return escapeLabel(instance) + "." + service + "." + Domain
}

func serviceFQDN(service string) string { return service + "." + Domain }

func hostFQDN(host string) string { return host + "." + Domain }
