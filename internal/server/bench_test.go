package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/server"
)

// BenchmarkLessonPage serves a lesson page through the whole handler stack
// (security headers, logging and metrics, language choice, cache, ETag) over
// real TCP connections, with the box's http.Server limits;
// BenchmarkBareLessonPage writes the same bytes with a bare handler on a
// plain http.Server, the reference. Their ratio is the cost of stembox's
// features, and allocs/op shows the garbage each request leaves (the client
// reads responses without allocating). `make bench` also measures both,
// as separate processes, under wrk.
func BenchmarkLessonPage(b *testing.B) {
	box := mustRunServer(b)
	srv := newServer(b, server.Config{}, nil, box.db, box.lib) // logging at info, as a box does
	// As the box's http.Server (box/listen.go).
	benchTCP(b, &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10})
}

func BenchmarkBareLessonPage(b *testing.B) {
	box := mustRunServer(b)
	page := box.device(b, "en").get("/packs/mini/lessons/speed").body
	benchTCP(b, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})})
}

// benchTCP serves GET /packs/mini/lessons/speed from srv to 8 keep-alive
// connections.
func benchTCP(b *testing.B, srv *http.Server) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	req := []byte("GET /packs/mini/lessons/speed HTTP/1.1\r\nHost: box\r\nAccept-Language: en\r\n\r\n")
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for range 8 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			for left.Add(-1) >= 0 {
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				if err := readResponse(br); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// readResponse reads one 200 response, with a Content-Length or a chunked
// body, into nothing and without allocating.
func readResponse(br *bufio.Reader) error {
	length, chunked := -1, false
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q", line)
	}
	for {
		if line, err = br.ReadSlice('\n'); err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length = atoi(bytes.TrimSpace(value), 10)
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = true
		}
	}
	if !chunked {
		if length < 0 {
			return fmt.Errorf("no Content-Length")
		}
		_, err := br.Discard(length)
		return err
	}
	for {
		if line, err = br.ReadSlice('\n'); err != nil {
			return err
		}
		size := atoi(bytes.TrimSpace(line), 16)
		if size < 0 {
			return fmt.Errorf("chunk size %q", line)
		}
		if _, err := br.Discard(size + 2); err != nil || size == 0 {
			return err
		}
	}
}

// atoi parses a non-negative number in base 10 or 16 without allocating;
// -1 if it is not one.
func atoi(b []byte, base int) int {
	if len(b) == 0 {
		return -1
	}
	n := 0
	for _, c := range b {
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case base == 16 && 'a' <= c|0x20 && c|0x20 <= 'f':
			d = int(c|0x20-'a') + 10
		default:
			return -1
		}
		n = n*base + d
	}
	return n
}
