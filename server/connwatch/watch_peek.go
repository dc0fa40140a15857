//go:build unix

package connwatch

import (
	"errors"
	"io"
	"syscall"
)

// watchRead waits for the client to send or close. On a socket it peeks
// (MSG_PEEK), so a request the client pipelines behind the one in
// flight stays in the socket for fasthttp to read: the connection and
// the answer in flight survive. consumed is true only when the fallback
// Read took a byte (connections that are not sockets).
func (w *Watcher) watchRead(b []byte) (n int, consumed bool, err error) {
	sc, ok := w.conn.(syscall.Conn)
	if !ok {
		n, err = w.conn.Read(b)
		return n, n > 0, err
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		n, err = w.conn.Read(b)
		return n, n > 0, err
	}
	var rerr error
	// RawConn.Read parks on the poller (honouring the read deadline
	// stop() sets) until f reports done.
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK)
		return !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EINTR)
	})
	if err == nil {
		err = rerr
	}
	if n < 0 {
		n = 0
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	return n, false, err
}
