package transport

import (
	"net"
	"sync"
	"sync/atomic"
)

// Cancel is shared by everything one client request does upstream: every
// attempt and every stream read. Cancel it once and whatever is in
// flight stops at once (its connection is closed); later attempts fail
// before dialing. The zero value is ready to use.
type Cancel struct {
	mu       sync.Mutex
	canceled atomic.Bool
	conn     net.Conn
	wake     chan struct{} // closed on cancel; created lazily for sleepers
}

// Cancel stops the call. Safe to call from any goroutine, any number of
// times.
func (c *Cancel) Cancel() {
	c.mu.Lock()
	if c.canceled.Load() {
		c.mu.Unlock()
		return
	}
	c.canceled.Store(true)
	conn := c.conn
	c.conn = nil
	if c.wake != nil {
		close(c.wake)
	}
	c.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
}

// Canceled reports whether Cancel was called.
func (c *Cancel) Canceled() bool { return c.canceled.Load() }

// Done returns a channel closed on Cancel (for waits between retries).
func (c *Cancel) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wake == nil {
		c.wake = make(chan struct{})
		if c.canceled.Load() {
			close(c.wake)
		}
	}
	return c.wake
}

// Reset makes c reusable (pooling). Only when nothing uses it.
func (c *Cancel) Reset() {
	c.canceled.Store(false)
	c.conn = nil
	c.wake = nil
}

// attach registers the connection an attempt is using; false means the
// call was already canceled (the caller must drop the connection).
func (c *Cancel) attach(conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled.Load() {
		return false
	}
	c.conn = conn
	return true
}

func (c *Cancel) detach() {
	c.mu.Lock()
	c.conn = nil
	c.mu.Unlock()
}
