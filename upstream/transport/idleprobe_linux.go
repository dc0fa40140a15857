package transport

import "syscall"

const canProbe = true

// peerDone peeks at an idle socket without blocking: an end of stream, a
// reset or unsolicited bytes mean it cannot carry another request.
func peerDone(raw syscall.RawConn) bool {
	done := false
	err := raw.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		done = err != syscall.EAGAIN && err != syscall.EINTR // EOF and data are nil errors
	})
	return done || err != nil
}
