package main

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The log's destination, as the log writer's flusher writes to it.
//
// Go runs a blocking syscall (os.File.Write) between entersyscall and
// exitsyscall, and either of them wakes the runtime's monitor thread,
// sysmon, when it sleeps: it sleeps whenever every P is idle for a
// moment, which a proxy waiting on the network is many times a second.
// Woken by a syscall, sysmon polls every 20 µs for a millisecond and
// then backs off; each poll is a context switch on a machine that is
// busy proxying. The client and upstream sockets are read and written
// with raw syscalls for this reason (internal/rawio), which left the
// log's flush, about every 200 access lines, as the one syscall per
// few milliseconds that kept sysmon polling: about 3 % of llmedge's CPU
// per request under load (docs/performance.md, seventh pass).
//
// newLogSink returns out itself unless it is a file it can write
// without that bookkeeping: a noWaitSink, whose write that would block
// falls back to out.Write, so nothing is lost and nothing spins.

// noWaitSink writes to a pipe, a socket or a character device with
// pwritev2(RWF_NOWAIT), which returns EAGAIN where a write would wait
// for the reader, and to a regular file with write(2); both with
// RawSyscall, which the scheduler does not see. What a non-blocking
// write could not take, or failed to write, goes through f.Write, the
// ordinary blocking write. A descriptor that does not support
// RWF_NOWAIT (a terminal) is written with f.Write from the first such
// error on.
//
// A regular file's write is not handed off even when it waits for the
// disk (page-cache writeback throttling): it holds its P for that long,
// as CPU work would. The log writer's flusher goroutine makes the
// writes here (logwriter.go), not a request's goroutine.
type noWaitSink struct {
	f       *os.File
	fd      uintptr
	regular bool
	plain   bool // RWF_NOWAIT unsupported: f.Write only
}

func newLogSink(out io.Writer) io.Writer {
	f, ok := out.(*os.File)
	if !ok {
		return out
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return out
	}
	s := &noWaitSink{f: f}
	var st syscall.Stat_t
	if err := rc.Control(func(fd uintptr) {
		s.fd = fd
		err = syscall.Fstat(int(fd), &st)
	}); err != nil {
		return out
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		s.regular = true
	case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR:
	default:
		return out
	}
	return s
}

func (s *noWaitSink) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) && !s.plain {
		m, errno := s.try(p[n:])
		if errno == 0 {
			n += m
			continue
		}
		if errno == syscall.EINTR {
			continue
		}
		if errno == syscall.EOPNOTSUPP || errno == syscall.EINVAL || errno == syscall.ENOSYS {
			s.plain = true
		}
		// EAGAIN: the rest waits in the blocking write. Any other
		// error is f.Write's to report, the standard way (EPIPE on
		// stderr ends the process, as it would have).
		break
	}
	if n == len(p) {
		return n, nil
	}
	m, err := s.f.Write(p[n:])
	return n + m, err
}

// try is one raw write of p (not empty).
func (s *noWaitSink) try(p []byte) (int, syscall.Errno) {
	if s.regular {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, s.fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		return int(n), errno
	}
	iov := syscall.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	// pwritev2(fd, iov, 1, offset -1 in both halves (the file's own
	// position), RWF_NOWAIT)
	n, _, errno := syscall.RawSyscall6(unix.SYS_PWRITEV2, s.fd, uintptr(unsafe.Pointer(&iov)), 1, ^uintptr(0), ^uintptr(0), unix.RWF_NOWAIT)
	return int(n), errno
}
