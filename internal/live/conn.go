package live

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Timing of a connection. A phone that drops off the Wi-Fi is noticed within
// pongWait; one that cannot take what is written to it within writeWait is
// dropped and reconnects.
const (
	writeWait  = 10 * time.Second
	pongWait   = 40 * time.Second
	pingPeriod = 25 * time.Second // < pongWait
	closeGrace = time.Second      // for the close frame, then the socket is closed
	// Messages waiting for a connection's writer. A queue holds a whole
	// burst of replies (each message a client may send at once within its
	// rate limit gets one) and the broadcasts that may come meanwhile:
	// smaller, a client keeping to its limit was closed as too slow
	// whenever its writer lagged behind the room.
	sendQueue = rateBurst + 16
	hostQueue = rateBurst*teacherRate + 64 // a teacher or a screen: few of them, and they get more
)

// Per-connection rate limit: a token bucket of rateBurst messages, refilled
// at ratePerSec (a teacher, who holds the secret and may click through
// questions quickly, gets teacherRate). A message with no token left is
// refused (rate_limited); floodLimit refusals in a row close the connection.
const (
	ratePerSec  = 10
	rateBurst   = 30
	teacherRate = 5 // times the students' rate and burst
	floodLimit  = 50
)

// outMsg is one message for a connection's writer: a broadcast encoded once
// for everyone, or bytes for this connection only.
type outMsg struct {
	pm   *websocket.PreparedMessage
	data []byte
}

// conn is one websocket connection: a read pump (readLoop) that parses and
// forwards what the client sends, and a writer (writeLoop) that is the only
// goroutine writing to the socket. The room sends to it without ever
// blocking: a full queue drops the connection.
type conn struct {
	ws     *websocket.Conn
	room   *room
	role   Role
	secret string // the token the connection claimed (hashed by the room)

	// Set by the room goroutine only.
	player string // the player's id, for students once registered
	gone   bool   // unregistered or dropped: the room sends no more

	send     chan outMsg
	done     chan struct{} // closed to stop the writer
	readDone chan struct{} // closed when readLoop returns
	once     sync.Once
	code     int
	why      string

	tokens   float64
	burst    float64
	rate     float64
	last     time.Time
	refusals int
}

func newConn(ws *websocket.Conn, r *room, role Role, secret string) *conn {
	queue := sendQueue
	if role != RoleStudent {
		queue = hostQueue
	}
	c := &conn{ws: ws, room: r, role: role, secret: secret, send: make(chan outMsg, queue),
		done: make(chan struct{}), readDone: make(chan struct{}), burst: rateBurst, rate: ratePerSec, last: time.Now()}
	if role == RoleTeacher {
		c.burst, c.rate = rateBurst*teacherRate, ratePerSec*teacherRate
	}
	c.tokens = c.burst
	return c
}

// enqueue queues a message without blocking; a connection whose queue is
// full is too slow and is closed (its client reconnects and gets the whole
// state). It reports whether the message was queued.
func (c *conn) enqueue(m outMsg) bool {
	select {
	case c.send <- m:
		return true
	default:
		c.close(CloseSlow, "too slow: reconnect")
		return false
	}
}

// close asks the writer to send a close frame with code and reason and to
// close the socket. The socket is closed after closeGrace at the latest, so
// a writer stuck on a dead phone lets go.
func (c *conn) close(code int, reason string) {
	c.once.Do(func() {
		c.code, c.why = code, reason
		close(c.done)
		time.AfterFunc(closeGrace+time.Second, func() { c.ws.NetConn().Close() })
	})
}

// writeLoop writes queued messages and pings until the connection closes.
func (c *conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close()
		c.room.sessions.untrack(c)
	}()
	for {
		select {
		case m := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			var err error
			if m.pm != nil {
				err = c.ws.WritePreparedMessage(m.pm)
			} else {
				err = c.ws.WriteMessage(websocket.TextMessage, m.data)
			}
			if err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.done:
			// Flush what is queued (an error or "removed" before the
			// close frame), within the grace time.
			deadline := time.Now().Add(closeGrace)
			c.ws.SetWriteDeadline(deadline)
			for flushing := true; flushing; {
				select {
				case m := <-c.send:
					if m.data != nil {
						c.ws.WriteMessage(websocket.TextMessage, m.data)
					}
				default:
					flushing = false
				}
			}
			if c.code != websocket.CloseAbnormalClosure {
				c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.code, c.why), deadline)
				c.awaitClose()
			}
			return
		}
	}
}

// awaitClose gives the client closeGrace to answer the close frame before
// the socket is closed: closing it with bytes from the client still unread
// would reset the connection, and the client could lose the close frame and
// its reason. When the reader has stopped (a flood, a frame too big), what
// the client still sends is read and thrown away here.
func (c *conn) awaitClose() {
	timer := time.NewTimer(closeGrace)
	defer timer.Stop()
	select {
	case <-c.readDone:
		nc := c.ws.NetConn()
		nc.SetReadDeadline(time.Now().Add(closeGrace))
		io.Copy(io.Discard, nc)
	case <-timer.C:
	}
}

// readLoop reads until the connection fails or closes, then unregisters it.
func (c *conn) readLoop() {
	defer close(c.readDone)
	defer func() {
		c.room.post(unregister{c})
		c.close(websocket.CloseNormalClosure, "")
	}()
	c.ws.SetReadLimit(maxMessageBytes)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				// gorilla has sent close 1009 itself.
				c.close(CloseTooBig, "message too big")
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.close(websocket.CloseAbnormalClosure, "")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if !c.allow(time.Now()) {
			if c.refusals >= floodLimit {
				c.close(CloseFlood, "too many messages")
				return
			}
			if c.refusals == 1 {
				c.refuse(CodeRateLimited, "too many messages: slow down", "")
			}
			continue
		}
		if typ != websocket.TextMessage {
			c.refuse(CodeBadFrame, "send JSON text frames", "")
			continue
		}
		var m inMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.refuse(CodeBadJSON, "the message is not a JSON object of the protocol", "")
			continue
		}
		if code, msg := c.check(&m); code != "" {
			c.refuse(code, msg, m.ID)
			continue
		}
		c.room.post(inbound{c, m})
	}
}

// allow takes a token from the connection's bucket.
func (c *conn) allow(now time.Time) bool {
	c.tokens = min(c.burst, c.tokens+now.Sub(c.last).Seconds()*c.rate)
	c.last = now
	if c.tokens < 1 {
		c.refusals++
		return false
	}
	c.tokens--
	c.refusals = 0
	return true
}

// check refuses what the connection may not send or what is malformed,
// before it reaches the room.
func (c *conn) check(m *inMsg) (code, msg string) {
	switch {
	case !knownMessages[m.Type]:
		return CodeUnknownType, "unknown message type " + clip(m.Type, 32)
	case m.Session != "" && m.Session != c.room.code:
		return CodeWrongSession, "this connection is for session " + c.room.code
	case c.role == RoleStudent && !studentMessages[m.Type],
		c.role == RoleTeacher && !teacherMessages[m.Type],
		c.role == RoleScreen && m.Type != msgSync:
		return CodeNotAllowed, "a " + string(c.role) + " may not send " + m.Type
	}
	switch m.Type {
	case msgAnswer:
		if m.Q == nil || m.ID == "" || len(m.ID) > 64 || (m.Choices == nil && m.Text == nil) ||
			len(m.Choices) > maxAnswerChoice || (m.Text != nil && utf8.RuneCountInString(*m.Text) > maxAnswerRunes) {
			return CodeBadMessage, "an answer needs q, id, and choices or a text of at most 200 characters"
		}
	case msgRename:
		if m.Player == "" || len(m.Player) > 16 {
			return CodeBadMessage, m.Type + " needs a player"
		}
	case msgKick:
		if (m.Player == "" && len(m.Players) == 0) || len(m.Player) > 16 || len(m.Players) > maxKick {
			return CodeBadMessage, "kick needs a player or at most 200 players"
		}
	}
	return "", ""
}

// refuse sends an error to this connection only.
func (c *conn) refuse(code, msg, ref string) {
	c.enqueue(outMsg{data: marshal(errorMsg{Type: "error", Code: code, Message: msg, Ref: clip(ref, 64)})})
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
