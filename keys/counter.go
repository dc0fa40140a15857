package keys

import (
	"math"
	"sync/atomic"
)

// atomicFloat is a float64 updated with compare-and-swap.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) Load() float64   { return math.Float64frombits(f.bits.Load()) }
func (f *atomicFloat) Store(v float64) { f.bits.Store(math.Float64bits(v)) }
func (f *atomicFloat) Swap(v float64) float64 {
	return math.Float64frombits(f.bits.Swap(math.Float64bits(v)))
}

func (f *atomicFloat) Add(d float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// counter is one record's spend as this process sees it: what the
// store (or Redis) held at the last poll, plus what this process added
// since and has not yet seen come back from there. It outlives reloads
// (the cache keeps it by kind and id), so no spend is lost when a
// record's document changes.
type counter struct {
	kind Kind
	id   string
	// stored is the spend at the last poll.
	stored atomicFloat
	// pending is spend added here and not yet written; writing is what
	// was written and is not yet reflected in stored (the next poll
	// after a successful write clears it).
	pending, writing atomicFloat
	// resetAt is the budget period's end (Unix ms; 0 = no period).
	resetAt atomic.Int64

	// With Redis (redisspend.go): shared is the period's spend across
	// every replica as Redis last told us, valid while sharedFor is
	// resetAt+1 (0: not known, or Redis unreachable); unsent is spend
	// added here not yet sent to Redis, sending what is on its way.
	shared          atomicFloat
	sharedFor       atomic.Int64
	unsent, sending atomicFloat
	dirty           atomic.Bool
	used            atomic.Int64 // Unix ms of the last budget check (to the second)
}

// spend is the record's spend in its current budget period: once the
// period has ended (and until a replica resets it in the store) only
// what was added here since counts.
func (c *counter) spend(nowMs int64) float64 {
	local := c.pending.Load() + c.writing.Load()
	r := c.resetAt.Load()
	if r != 0 && nowMs >= r {
		return local
	}
	db := c.stored.Load() + local
	if c.sharedFor.Load() == r+1 {
		// Redis's count, never below what the database knows.
		return max(db, c.shared.Load()+c.unsent.Load()+c.sending.Load())
	}
	return db
}

// touch notes a budget check (the Redis refresh reads the counters
// checked in the last minute more often). One store a second at most.
func (c *counter) touch(nowMs int64) {
	if nowMs-c.used.Load() >= 1000 {
		c.used.Store(nowMs)
	}
}
