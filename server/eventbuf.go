package server

import "sync"

// eventBuf gathers the events of one chunk written to a streaming
// client. It holds a buffer only while something waits to be written:
// an open stream spends nearly all its life waiting for the upstream's
// next event, and 10,000 open streams would otherwise pin 10,000
// buffers (2 KiB each on average, measured) for nothing.
type eventBuf struct{ b *[]byte }

// maxPooledEventBuf is the largest buffer returned to the pool: a burst
// bigger than this is rare and its buffer is left to the GC.
const maxPooledEventBuf = 16 << 10

var eventBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

// append adds p, taking a buffer from the pool first if needed.
func (e *eventBuf) append(p []byte) {
	if e.b == nil {
		e.b = eventBufPool.Get().(*[]byte)
	}
	*e.b = append(*e.b, p...)
}

// bytes is what was appended since the last release.
func (e *eventBuf) bytes() []byte {
	if e.b == nil {
		return nil
	}
	return *e.b
}

// release empties e and returns its buffer to the pool.
func (e *eventBuf) release() {
	if e.b == nil {
		return
	}
	if cap(*e.b) <= maxPooledEventBuf {
		*e.b = (*e.b)[:0]
		eventBufPool.Put(e.b)
	}
	e.b = nil
}
