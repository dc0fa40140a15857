package rawio

import "syscall"

// On Windows a socket is not read with read(2): Go's poller reads it
// with overlapped WSARecv. Init leaves the Conn not Ready there, so its
// users read and write through net (they check Ready); ReadFD, which
// only a Ready Conn's users call, fails.

// supported: Init makes a Ready Conn.
const supported = false

func ReadFD(fd uintptr, p []byte) (int, syscall.Errno) { return 0, syscall.EWINDOWS }

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) { return 0, syscall.EWINDOWS }
