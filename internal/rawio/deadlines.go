package rawio

import (
	"errors"
	"os"
	"sync"
	"time"
)

// Deadlines defers a connection's read and write deadlines to the waits
// they bound. Setting a deadline on a socket updates a runtime timer
// (a lock, the timer heap, two clock reads), and an HTTP server sets
// three per kept-alive request: the idle deadline before the wait for
// the next request, the read timeout once its first bytes came, the
// write timeout before its answer. Most of them bound nothing: the
// request is read whole from the bytes the wait brought, and the answer
// fits the socket's buffer.
//
// With Deadlines, a Conn records a deadline when it is set. A read
// deadline is armed on the socket only when a read is about to wait and
// the one armed there (if any) is later; a write deadline when it is
// set earlier than the armed one (a write deadline moves forward, once
// per answer, unless a shutdown cuts a stream short). A deadline armed
// earlier than the one asked for is left to fire, and the read or write
// that sees it fire arms the one asked for and goes on. So a kept-alive
// connection arms about one deadline per read timeout of its life
// instead of three per request.
//
// A read deadline set while a read waits (the goroutine watcher being
// stopped) is armed at once when it is the earlier, so it wakes the
// wait as net.Conn's would; so is every earlier write deadline. The
// zero value is ready; it must not be copied once in use.
type Deadlines struct {
	mu sync.Mutex
	// arms counts the deadlines armed on the socket; reading is true
	// while a read waits.
	arms    int32
	reading bool
	r, w    deadline
}

// deadline is one direction's deadline: asked for, and armed on the
// socket (zero: none).
type deadline struct {
	want, armed time.Time
}

// Arms is how many deadlines were armed on the socket.
func (d *Deadlines) Arms() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return int(d.arms)
}

// SetDeadline sets both directions' deadlines, as net.Conn's does.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline, as net.Conn's does.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.dl == nil {
		return c.tc.SetReadDeadline(t)
	}
	return c.dl.set(c, true, t)
}

// SetWriteDeadline sets the write deadline, as net.Conn's does.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.dl == nil {
		return c.tc.SetWriteDeadline(t)
	}
	return c.dl.set(c, false, t)
}

func (d *Deadlines) dir(read bool) *deadline {
	if read {
		return &d.r
	}
	return &d.w
}

// set records t, arming it when it is earlier than the armed one and a
// wait may be under way: any write, a read that waits.
func (d *Deadlines) set(c *Conn, read bool, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	x := d.dir(read)
	x.want = t
	if (!read || d.reading) && x.late() {
		return d.arm(c, read, x)
	}
	return nil
}

// beforeWait runs in the read step that found the socket not ready: the
// wait to come must not outlast the deadline asked for.
func (d *Deadlines) beforeWait(c *Conn) {
	d.mu.Lock()
	x := &d.r
	d.reading = true
	if x.late() {
		_ = d.arm(c, true, x) // a closed socket fails the wait itself
	}
	d.mu.Unlock()
}

// afterWait ends a wait (or a try that failed before its step ran): true
// when it failed only because a deadline armed before the one asked for
// fired, which is then armed for another try.
func (d *Deadlines) afterWait(c *Conn, read bool, err error) (again bool) {
	d.mu.Lock()
	x := d.dir(read)
	if read {
		d.reading = false
	}
	if err != nil && x.early() && errors.Is(err, os.ErrDeadlineExceeded) {
		again = d.arm(c, read, x) == nil
	}
	d.mu.Unlock()
	return again
}

// late: a wait under the armed deadline could outlast the one asked
// for.
func (x *deadline) late() bool {
	return !x.want.IsZero() && (x.armed.IsZero() || x.armed.After(x.want))
}

// early: the armed deadline comes before the one asked for.
func (x *deadline) early() bool {
	return !x.armed.IsZero() && (x.want.IsZero() || x.armed.Before(x.want))
}

// arm sets the socket's deadline to the one asked for.
func (d *Deadlines) arm(c *Conn, read bool, x *deadline) error {
	var err error
	if read {
		err = c.tc.SetReadDeadline(x.want)
	} else {
		err = c.tc.SetWriteDeadline(x.want)
	}
	if err == nil {
		x.armed = x.want
		d.arms++
	}
	return err
}
