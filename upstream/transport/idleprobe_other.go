//go:build !linux

package transport

import "syscall"

// canProbe is false: idle connections are not probed here; fasthttp's
// idle timeout closes them.
const canProbe = false

func peerDone(syscall.RawConn) bool { return false }
