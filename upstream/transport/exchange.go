package transport

import (
	"bufio"
	"errors"
	"io"
	"net"
	"time"

	"github.com/llmedge/llmedge/internal/clock"
	"github.com/valyala/fasthttp"
)

// ErrCanceled is returned by a call whose Cancel was called (the client
// went away).
var ErrCanceled = errors.New("upstream call canceled: client disconnected")

// ErrBodyTooLarge is returned when a non-stream answer exceeds its cap.
var ErrBodyTooLarge = errors.New("upstream response body too large")

// ErrTimeout is returned when a deadline of the call passed.
var ErrTimeout = errors.New("upstream timed out")

// Exchange is one HTTP request/response on a pooled connection whose
// body is read incrementally with a deadline per read. Set the exported
// fields (a struct literal: *x = Exchange{Pool: ..., Cancel: ...}), then
// RoundTrip, Read the body, and Release.
type Exchange struct {
	// Pool is the host's connection pool; Cancel is the client call's.
	Pool   Pool
	Cancel *Cancel
	// ReadTimeout is set as a fresh deadline before every body read
	// (stream gap timeout); 0 keeps the deadline fixed.
	ReadTimeout time.Duration
	// Deadline, when set, caps every read deadline (a non-stream call's
	// whole-call timeout).
	Deadline time.Time
	// Obs accumulates the time spent waiting on the upstream (optional).
	Obs *Observed
	// WaitBare waits for the answer's first byte without a read buffer
	// (an upstream slow to answer); lead holds that byte for the header
	// reader.
	WaitBare bool

	pc pooledConn
	// conn is what the body is read from and the read deadline set on:
	// pc's connection, under its idle-probe wrapper (trackedConn adds
	// nothing to a read), so a read is one interface call, not three.
	conn net.Conn
	// br reads the response headers; the body reader releases it as
	// soon as the bytes it buffered are consumed (body.go).
	br      *bufio.Reader
	framing bodyFraming
	left    uint64 // body bytes still to read (bodyLength)
	chunks  chunkDecoder
	eof     bool
	failed  bool
	// armed is the read deadline set on the connection (zero: none).
	armed time.Time
	lead  leadByte
	// dec decodes a gzip-coded body (encoding.go); nil for identity.
	dec *bodyDecoder
}

// MarkFailed keeps the connection from being reused: the stream on it
// failed or was cut short.
func (x *Exchange) MarkFailed() { x.failed = true }

// Failed reports whether the exchange failed (its connection is not
// reused).
func (x *Exchange) Failed() bool { return x.failed }

// HoldsHeaderReader reports whether the exchange still holds the
// header reader (tests: a stream gives it back once its bytes are read).
func (x *Exchange) HoldsHeaderReader() bool { return x.br != nil }

// RoundTrip sends req and reads the response headers into resp (whose
// body is then streamed by x.Read). headerDeadline bounds the wait for
// the response headers.
func (x *Exchange) RoundTrip(req *fasthttp.Request, resp *fasthttp.Response, headerDeadline time.Time) (err error) {
	if x.Cancel.Canceled() {
		return ErrCanceled
	}
	// One clock read (internal/clock: the monotonic clock alone) for
	// the wait's start and the first try's time left.
	start := clock.Now(headerDeadline)
	if x.Obs != nil {
		defer x.Obs.waited(start, &err)
	}
	for now := start; ; now = clock.Now(headerDeadline) {
		stale, err := x.try(req, resp, headerDeadline, now)
		if !stale || x.Cancel.Canceled() {
			return err
		}
		// A kept-alive connection the upstream had closed while it sat
		// idle (uvicorn and Node close after 5 s, well before our idle
		// timeout): the request never reached a live server, so it is
		// sent again on another connection. Each stale one is closed,
		// so this ends with a fresh dial at the latest.
	}
}

// try is one attempt of roundTrip on one pooled connection, begun at
// now. stale
// reports a failure that shows the connection was already closed by the
// upstream: a reused connection that failed while sending, or closed
// before the first byte of the answer.
func (x *Exchange) try(req *fasthttp.Request, resp *fasthttp.Response, headerDeadline, now time.Time) (stale bool, err error) {
	x.failed, x.eof = false, false // a stale connection's failure is not this one's
	x.lead.first.Release()         // nor its bytes
	wait := headerDeadline.Sub(now)
	if wait <= 0 {
		return false, ErrTimeout
	}
	x.pc, err = x.Pool.acquire(wait)
	if err != nil {
		return false, err
	}
	conn := x.pc.Conn()
	if !x.Cancel.attach(conn) {
		x.pc.put(false)
		x.pc = pooledConn{}
		return false, ErrCanceled
	}
	x.conn = readSide(conn)
	reused := x.pc.reused()
	hc := x.Pool.client()
	// One deadline for the request's write and the answer's headers
	// (one runtime timer serves both when they are equal).
	x.armed = headerDeadline
	if err := conn.SetDeadline(headerDeadline); err != nil {
		return false, x.fail(err)
	}
	bw := hc.AcquireWriter(x.Pool.requestWriter(conn))
	err, waitErr := send(req, bw, plainSocket(conn))
	hc.ReleaseWriter(bw)
	if err != nil {
		return reused && !isTimeout(err), x.fail(err)
	}
	if waitErr != nil {
		return false, x.fail(waitErr)
	}
	if x.WaitBare {
		if err := x.lead.wait(conn, hc.ReadBufferSize); err != nil {
			// Closed before the first byte (a reset included), as
			// fasthttp reports it for the read below.
			return reused && !isTimeout(err), x.fail(err)
		}
		x.br = hc.AcquireReader(conn)
		x.br.Reset(&x.lead)
	} else {
		x.br = hc.AcquireReader(conn)
	}
	if err := readResponseHeader(resp, x.br); err != nil {
		// fasthttp reports any failure before the first byte of the
		// headers (a reset included) as io.EOF.
		return reused && err == io.EOF, x.fail(err)
	}
	x.framing, x.left, x.chunks = bodyFramingOf(resp), 0, chunkDecoder{}
	switch x.framing {
	case bodyNone:
		x.eof = true
	case bodyLength:
		x.left = uint64(resp.Header.ContentLength())
		x.eof = x.left == 0
	}
	if err := x.setDecoder(resp); err != nil {
		return false, x.fail(err)
	}
	return false, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, fasthttp.ErrTimeout)
}

// Read reads the response body, decoded when the upstream compressed it
// (encoding.go).
func (x *Exchange) Read(p []byte) (int, error) {
	if x.dec != nil && x.conn != nil {
		return x.dec.read(p)
	}
	return x.readPlain(p)
}

// readPlain reads the response body as sent. With readTimeout set, the read fails
// when no byte comes within readTimeout (and never past deadline). The
// connection's deadline is not moved before every read (a timer update
// per event): it stays where an earlier read armed it, which is never
// later than this read's own limit, and when it fires early the read
// re-arms it to its own limit and goes on. So a stream whose events
// come faster than readTimeout updates its timer once per readTimeout,
// and a stall is still noticed exactly readTimeout after the last byte.
func (x *Exchange) readPlain(p []byte) (int, error) {
	if x.conn == nil || x.eof {
		return 0, io.EOF
	}
	var start, limit time.Time
	if x.ReadTimeout > 0 || x.Obs != nil {
		start = clock.Now(x.armed) // armed since RoundTrip
	}
	if x.ReadTimeout > 0 {
		limit = start.Add(x.ReadTimeout)
		if !x.Deadline.IsZero() && x.Deadline.Before(limit) {
			limit = x.Deadline
		}
		if x.armed.IsZero() || x.armed.After(limit) {
			if err := x.arm(limit); err != nil {
				return 0, x.mapErr(err)
			}
		}
	}
	n, err := x.readBody(p)
	for err != nil && !limit.IsZero() && x.armed.Before(limit) && isTimeout(err) && time.Now().Before(limit) {
		// The deadline an earlier read armed came first: this read
		// still has time.
		if err = x.arm(limit); err != nil {
			break
		}
		n, err = x.readBody(p)
	}
	if x.Obs != nil {
		now := clock.Now(start)
		x.Obs.UpstreamWait += now.Sub(start)
		x.Obs.ReadAt = now
	}
	if err == io.EOF {
		x.eof = true
		return n, io.EOF
	}
	if err != nil {
		x.failed = true
		return n, x.mapErr(err)
	}
	return n, nil
}

// arm sets the connection's read deadline.
func (x *Exchange) arm(dl time.Time) error {
	x.armed = dl
	return x.conn.SetReadDeadline(dl)
}

// ReadAll reads the rest of the body into dst, up to limit bytes.
func (x *Exchange) ReadAll(dst []byte, limit int) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := x.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		if limit > 0 && len(dst) > limit {
			x.failed = true
			return dst, ErrBodyTooLarge
		}
	}
}

func (x *Exchange) mapErr(err error) error {
	if x.Cancel.Canceled() {
		return ErrCanceled
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout
	}
	if errors.Is(err, fasthttp.ErrTimeout) {
		return ErrTimeout
	}
	return err
}

func (x *Exchange) fail(err error) error {
	x.failed = true
	err = x.mapErr(err)
	x.Release(nil)
	return err
}

// Release returns the connection to the pool when the body was read to
// its end cleanly, else closes it. resp (optional) is checked for
// Connection: close.
func (x *Exchange) Release(resp *fasthttp.Response) {
	if x.conn == nil {
		return
	}
	x.Cancel.detach()
	reuse := !x.failed && x.eof && x.framing != bodyClose && !x.Cancel.Canceled() && (resp == nil || !resp.ConnectionClose())
	hc := x.Pool.client()
	if x.br != nil {
		hc.ReleaseReader(x.br)
		x.br = nil
	}
	if x.dec != nil {
		x.dec.free()
		x.dec = nil
	}
	// A kept connection keeps its deadlines: nothing reads or writes it
	// while it idles, and the next exchange sets both before using it.
	x.pc.put(reuse)
	x.pc, x.conn = pooledConn{}, nil
}
