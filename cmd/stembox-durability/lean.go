package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"
)

// leanClient sends answers over one keep-alive connection with hand-written
// HTTP/1.1, so that the load generator, which shares the machine's two
// cores with the box, costs as little as it can (net/http's client and
// encoding/json would take a good part of the CPU the box is measured on).
// It is for measuring only: the kill test uses net/http.
type leanClient struct {
	conn    net.Conn
	r       *bufio.Reader
	host    string
	cookie  string
	req     []byte
	body    []byte
	entropy io.Reader
}

func dialLean(addr string) (*leanClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &leanClient{conn: conn, r: bufio.NewReaderSize(conn, 4096), host: addr, entropy: ulid.Monotonic(rand.Reader, 0)}, nil
}

func (l *leanClient) close() { l.conn.Close() }

var (
	seqKey     = []byte(`"seq":`)
	learnerKey = []byte("stembox_learner=")
)

// send posts one answer and returns its sequence number.
func (l *leanClient) send(t target) (int64, error) {
	id := ulid.MustNew(ulid.Now(), l.entropy).String()
	b := append(l.body[:0], `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","pack":`...)
	b = strconv.AppendQuote(b, t.Pack)
	b = append(b, `,"set":`...)
	b = strconv.AppendQuote(b, t.Set)
	b = append(b, `,"item":`...)
	b = strconv.AppendQuote(b, t.Item)
	if len(t.Choices) > 0 {
		b = append(b, `,"choices":[`...)
		b = strconv.AppendInt(b, int64(t.Choices[0]), 10)
		b = append(b, ']')
	} else {
		b = append(b, `,"text":`...)
		b = strconv.AppendQuote(b, t.Text)
	}
	b = append(b, '}')
	l.body = b

	r := append(l.req[:0], "POST /api/v1/answers HTTP/1.1\r\nHost: "...)
	r = append(r, l.host...)
	r = append(r, "\r\nContent-Type: application/json\r\nAccept-Language: en\r\n"...)
	if l.cookie != "" {
		r = append(r, "Cookie: stembox_learner="...)
		r = append(r, l.cookie...)
		r = append(r, "\r\n"...)
	}
	r = append(r, "Content-Length: "...)
	r = strconv.AppendInt(r, int64(len(b)), 10)
	r = append(r, "\r\n\r\n"...)
	r = append(r, b...)
	l.req = r
	if _, err := l.conn.Write(r); err != nil {
		return 0, err
	}

	status, err := l.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	length, chunked := -1, false
	for {
		line, err := l.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, _ = strconv.Atoi(string(value))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Set-Cookie")) && bytes.HasPrefix(value, learnerKey):
			v := value[len(learnerKey):]
			if i := bytes.IndexByte(v, ';'); i >= 0 {
				v = v[:i]
			}
			l.cookie = string(v)
		}
	}
	var resp []byte
	switch {
	case chunked:
		if resp, err = l.readChunked(); err != nil {
			return 0, err
		}
	case length >= 0:
		resp = make([]byte, length)
		if _, err := io.ReadFull(l.r, resp); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("response without a length: %s", bytes.TrimSpace(status))
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s %s", errRefused, bytes.TrimSpace(status), resp)
	}
	i := bytes.Index(resp, seqKey)
	if i < 0 {
		return 0, fmt.Errorf("%w: no seq in %s", errRefused, resp)
	}
	rest := resp[i+len(seqKey):]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	return strconv.ParseInt(string(rest[:end]), 10, 64)
}

// readChunked reads a body in HTTP/1.1 chunked encoding (the box chunks
// answers whose feedback is long).
func (l *leanClient) readChunked() ([]byte, error) {
	var body []byte
	for {
		line, err := l.r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(line), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("chunk size %q: %w", line, err)
		}
		if n == 0 {
			// Trailers (none expected), then the blank line.
			for {
				t, err := l.r.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return body, nil
				}
			}
		}
		start := len(body)
		body = append(body, make([]byte, n+2)...)
		if _, err := io.ReadFull(l.r, body[start:]); err != nil {
			return nil, err
		}
		body = body[:start+int(n)]
	}
}
