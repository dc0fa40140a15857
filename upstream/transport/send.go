package transport

import (
	"bufio"
	"sync"
	"syscall"

	"github.com/valyala/fasthttp"
)

// A request is written from inside a raw read of its connection, and
// that read returns once the poller says the answer is readable. The
// poller forgets the readiness it saw each time a read begins, so a
// read begun after the request went out must try the socket once
// first, and that try nearly always finds nothing (the upstream has
// not answered yet): one read syscall returning EAGAIN per request.
// Begun before the write, the raw read keeps whatever readiness the
// answer brings from then on, so the header read that follows is the
// one that gets its bytes. Connections that are not a plain socket
// (TLS) write and read as they are.

// sender is one request's write inside the raw read; pooled, with its
// step bound once, so that a request allocates nothing.
type sender struct {
	step  func(fd uintptr) bool
	req   *fasthttp.Request
	bw    *bufio.Writer
	wrote bool
	err   error
}

var senders = sync.Pool{New: func() any { s := new(sender); s.step = s.run; return s }}

// run is the raw read's callback: the first call writes the request
// (false: now wait in the poller), the next, once the connection is
// readable, ends the wait without reading.
func (s *sender) run(uintptr) bool {
	if s.wrote {
		return true
	}
	s.wrote = true
	s.err = s.req.Write(s.bw)
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	return s.err != nil
}

// send writes req through bw and, on a plain socket (rc not nil),
// waits until the answer is readable. err is the write's failure,
// waitErr the wait's (its deadline, the connection closed under it).
func send(req *fasthttp.Request, bw *bufio.Writer, rc syscall.RawConn) (err, waitErr error) {
	if rc == nil {
		if err = req.Write(bw); err == nil {
			err = bw.Flush()
		}
		return err, nil
	}
	s := senders.Get().(*sender)
	s.req, s.bw, s.wrote, s.err = req, bw, false, nil
	waitErr = rc.Read(s.step)
	err = s.err
	if !s.wrote {
		// The read failed before its first call (the connection
		// was closed under it): nothing was sent.
		err, waitErr = waitErr, nil
	}
	s.req, s.bw, s.err = nil, nil, nil
	senders.Put(s)
	if err != nil {
		waitErr = nil
	}
	return err, waitErr
}
