//go:build (race || !linux) && !windows

package rawio

import "syscall"

// Under the race detector, and off Linux, the reads and writes go
// through syscall.Read and syscall.Write. Under the detector: they tell
// it that socket I/O orders what happened before a write and after the
// read that gets its bytes (syscall's ioSync), which a raw syscall does
// not, so every test relying on a socket for that order would report a
// race that is not one. Off Linux: raw syscalls are Linux's only here
// (other systems want their libc). The scheduler's bookkeeping comes
// back with them; the rest of the path (the poller's waits, deadlines,
// errors) is the same.

// supported: Init makes a Ready Conn.
const supported = true

// ReadFD is one read(2) of fd with its errno (0: none).
func ReadFD(fd uintptr, p []byte) (int, syscall.Errno) { return errno(syscall.Read(int(fd), p)) }

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) { return errno(syscall.Write(int(fd), p)) }

func errno(n int, err error) (int, syscall.Errno) {
	if err == nil {
		return n, 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return 0, e
	}
	return 0, syscall.EIO
}
