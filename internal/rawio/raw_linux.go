//go:build linux && !race

package rawio

import (
	"syscall"
	"unsafe"
)

// supported: Init makes a Ready Conn.
const supported = true

// ReadFD is one read(2) of the non-blocking socket fd, raw (no
// scheduler bookkeeping), with its errno (0: none); for a raw
// connection's own read step (syscall.RawConn.Read).
func ReadFD(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}
