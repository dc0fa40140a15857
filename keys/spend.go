package keys

import (
	"sync"
	"time"
)

// maxSpendLogs bounds the spend logs held while the database is
// unreachable (about 200 bytes each): past it the oldest are dropped
// and counted. Spend itself is never dropped: it is one counter per
// record.
const maxSpendLogs = 50_000

// Usage is what one answered request spent.
type Usage struct {
	RequestID        []byte
	Model            string
	Cost             float64
	PromptTokens     int64
	CompletionTokens int64
	Start, End       time.Time
}

// AddSpend adds an answer's cost to the key, its user and its team and
// logs it; the loop writes both in its next round. It takes one lock
// and allocates nothing once the log ring has grown.
func (c *Cache) AddSpend(e *Entry, u *Usage) {
	if u.Cost != 0 {
		rs := c.redis.Load()
		c.add(rs, e.key, u.Cost)
		if e.user != nil {
			c.add(rs, e.user, u.Cost)
		}
		if e.team != nil {
			c.add(rs, e.team, u.Cost)
		}
		if rs != nil {
			rs.kick()
		}
	}
	c.logs.add(e, u)
}

// spendRing holds spend logs until they are written, in fixed-size
// slots (no allocation per request); when full the oldest is dropped.
type spendRing struct {
	mu      sync.Mutex
	slots   []ringSlot
	head, n int
	dropped int64
	// held are logs taken for a write that failed.
	held []SpendLog
}

type ringSlot struct {
	e                *Entry
	reqID            [128]byte
	reqLen           uint8
	model            string
	cost             float64
	prompt, complete int64
	start, end       int64 // Unix ms
}

func (r *spendRing) add(e *Entry, u *Usage) {
	r.mu.Lock()
	if r.n == len(r.slots) {
		if len(r.slots) < maxSpendLogs {
			r.grow()
		} else {
			r.head = (r.head + 1) % len(r.slots)
			r.n--
			r.dropped++
		}
	}
	s := &r.slots[(r.head+r.n)%len(r.slots)]
	r.n++
	s.e, s.model, s.cost, s.prompt, s.complete = e, u.Model, u.Cost, u.PromptTokens, u.CompletionTokens
	s.reqLen = uint8(copy(s.reqID[:], u.RequestID))
	s.start, s.end = u.Start.UnixMilli(), u.End.UnixMilli()
	r.mu.Unlock()
}

// grow doubles the ring (keeping order). Caller holds mu.
func (r *spendRing) grow() {
	size := max(64, 2*len(r.slots))
	size = min(size, maxSpendLogs)
	s := make([]ringSlot, size)
	for i := 0; i < r.n; i++ {
		s[i] = r.slots[(r.head+i)%len(r.slots)]
	}
	r.slots, r.head = s, 0
}

// take empties the ring into spend logs, after those held from a
// failed write (the oldest dropped past maxSpendLogs).
func (r *spendRing) take() []SpendLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 && len(r.held) == 0 {
		return nil
	}
	out := r.held
	r.held = nil
	for i := 0; i < r.n; i++ {
		s := &r.slots[(r.head+i)%len(r.slots)]
		l := SpendLog{RequestID: string(s.reqID[:s.reqLen]), APIKey: s.e.Key.Token, Model: s.model, Spend: s.cost,
			PromptTokens: s.prompt, CompletionTokens: s.complete, StartTime: time.UnixMilli(s.start), EndTime: time.UnixMilli(s.end)}
		if s.e.Key.UserID != nil {
			l.User = *s.e.Key.UserID
		}
		if s.e.Key.TeamID != nil {
			l.TeamID = *s.e.Key.TeamID
		}
		out = append(out, l)
		s.e = nil
	}
	r.head, r.n = 0, 0
	if len(out) > maxSpendLogs {
		r.dropped += int64(len(out) - maxSpendLogs)
		out = out[len(out)-maxSpendLogs:]
	}
	return out
}

// putBack keeps logs that could not be written for the next take.
func (r *spendRing) putBack(logs []SpendLog) {
	r.mu.Lock()
	r.held = logs
	r.mu.Unlock()
}

// Dropped is how many spend logs were dropped because the database
// was unreachable for longer than maxSpendLogs answers.
func (c *Cache) Dropped() int64 {
	c.logs.mu.Lock()
	defer c.logs.mu.Unlock()
	return c.logs.dropped
}
