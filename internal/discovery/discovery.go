// Package discovery makes a school box findable on its LAN and finds other
// boxes: it advertises the box with multicast DNS and DNS-SD, answers for its
// host name (stembox.local), browses for other boxes, and lists the plain
// URLs (and a QR code of the best one) for devices that cannot resolve
// .local names. docs/discovery.md describes the records and the choices
// behind them.
//
// Service records (_stembox._tcp and _http._tcp) are announced with
// grandcat/zeroconf. Host records, browsing and the rest are this package's
// own, on miekg/dns, because zeroconf v1.0.0 answers no queries for the host
// name, reports no goodbyes to a browser, stops querying after the first
// answer, and compares instance names without the escaping DNS uses.
package discovery

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The records a box advertises.
const (
	ServiceType     = "_stembox._tcp"
	HTTPServiceType = "_http._tcp"
	Domain          = "local."
	// Proto is the version of what the TXT record and the peer API promise;
	// it changes only when a change would mislead an older box.
	Proto = "1"
	// DefaultName is the instance name of a box no one named.
	DefaultName = "stembox"
	// DefaultHost is the host name a box answers to: stembox.local.
	DefaultHost = "stembox"
)

// Timings; tests shorten none of them, so they are what a school gets.
const (
	pollEvery = 2 * time.Second // how often interfaces and addresses are read
	// probeWait is how long a box listens for others using its name before it
	// claims it.
	probeWait = 1500 * time.Millisecond
	hostTTL   = 120 // seconds, for A and AAAA records (RFC 6762 section 10)
)

// Limits on what the box accepts from other boxes' records.
const (
	maxTXTBytes   = 1300 // a box's TXT is about 100 bytes; an Ethernet frame holds 1500
	maxFieldBytes = 64
	maxBoxes      = 256 // boxes remembered at once
)

// Info is what a box says about itself in its TXT record.
type Info struct {
	Proto   string `json:"proto"`
	ID      string `json:"id"`      // the box's permanent id (a ULID)
	Version string `json:"version"` // the software version
	Path    string `json:"path"`    // where its web UI starts, "/"
}

// TXT returns the TXT record's strings.
func (i Info) TXT() []string {
	path := i.Path
	if path == "" {
		path = "/"
	}
	return []string{"proto=" + Proto, "id=" + i.ID, "version=" + i.Version, "path=" + path}
}

var errNoID = errors.New("TXT record has no box id")

// ParseTXT reads a box's TXT record. It refuses records too large to be a
// box's and values that are not plain short text; unknown keys are ignored,
// so newer boxes may add some.
func ParseTXT(txt []string) (Info, error) {
	total := 0
	for _, s := range txt {
		total += len(s) + 1
	}
	if total > maxTXTBytes {
		return Info{}, fmt.Errorf("TXT record of %d bytes is larger than a box's (%d at most)", total, maxTXTBytes)
	}
	var in Info
	for _, s := range txt {
		k, v, _ := strings.Cut(s, "=")
		var dst *string
		switch strings.ToLower(k) {
		case "proto":
			dst = &in.Proto
		case "id":
			dst = &in.ID
		case "version":
			dst = &in.Version
		case "path":
			dst = &in.Path
		default:
			continue
		}
		if *dst != "" {
			continue // RFC 6763 section 6.4: only the first counts
		}
		if len(v) > maxFieldBytes || !printable(v) {
			return Info{}, fmt.Errorf("TXT key %q has a value that is too long or not plain text", k)
		}
		*dst = v
	}
	if in.ID == "" {
		return Info{}, errNoID
	}
	if in.Path == "" || in.Path[0] != '/' {
		in.Path = "/"
	}
	return in, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
