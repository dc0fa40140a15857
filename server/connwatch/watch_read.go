//go:build !unix

package connwatch

// watchRead waits for the client to send or close; it consumes what it
// reads (see watch_peek.go for sockets on unix).
func (w *Watcher) watchRead(b []byte) (n int, consumed bool, err error) {
	n, err = w.conn.Read(b)
	return n, n > 0, err
}
