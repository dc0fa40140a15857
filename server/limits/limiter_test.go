package limits

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/allocs"
)

// fixedClock is a settable clock for limiter tests.
type fixedClock struct{ t atomic.Int64 }

func (c *fixedClock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *fixedClock) set(t time.Time)     { c.t.Store(t.UnixNano()) }
func (c *fixedClock) add(d time.Duration) { c.t.Add(int64(d)) }
func newClock(t time.Time) *fixedClock    { c := &fixedClock{}; c.set(t); return c }
func minuteStart() time.Time              { return time.Unix(1_800_000_000-1_800_000_000%60, 0) }
func admitOne(l *limiter, scs ...*Scope) (*Admission, Verdict) {
	a := &Admission{}
	for i, s := range scs {
		a.Add(s, []string{"global", "key", "user"}[i])
	}
	return a, l.admit(a)
}

func TestLimiterRPMExactPerWindow(t *testing.T) {
	clk := newClock(minuteStart().Add(10 * time.Second))
	l := newLimiter(0, Quota{})
	l.now = clk.now
	k := NewScope("k", Quota{RPM: 3})
	for i := 0; i < 3; i++ {
		a, v := admitOne(l, nil, k)
		if !v.ok {
			t.Fatalf("request %d refused", i)
		}
		if v.limReq != 3 || v.remReq != int64(2-i) || v.reset != 50 {
			t.Fatalf("headers after %d: %+v", i, v)
		}
		l.release(a, 0)
	}
	_, v := admitOne(l, nil, k)
	if v.ok || v.kind != limitRPM || v.scope != "key" || v.retryAfter != 50 {
		t.Fatalf("4th request: %+v", v)
	}
	clk.add(50 * time.Second) // next minute
	if _, v := admitOne(l, nil, k); !v.ok {
		t.Fatalf("new window refused: %+v", v)
	}
}

func TestLimiterTPMCountsReleasedTokens(t *testing.T) {
	clk := newClock(minuteStart())
	l := newLimiter(0, Quota{})
	l.now = clk.now
	k := NewScope("k", Quota{TPM: 100})
	a, v := admitOne(l, nil, k)
	if !v.ok || v.remTok != 100 {
		t.Fatalf("%+v", v)
	}
	l.release(a, 99)
	a, v = admitOne(l, nil, k)
	if !v.ok || v.remTok != 1 {
		t.Fatalf("%+v", v)
	}
	l.release(a, 50)
	if _, v := admitOne(l, nil, k); v.ok || v.kind != limitTPM {
		t.Fatalf("over tpm admitted: %+v", v)
	}
}

func TestLimiterParallelAndAllOrNothing(t *testing.T) {
	l := newLimiter(2, Quota{})
	k := NewScope("k", Quota{RPM: 100})
	a1, _ := admitOne(l, l.global, k)
	a2, _ := admitOne(l, l.global, k)
	_, v := admitOne(l, l.global, k)
	if v.ok || v.kind != limitParallel || v.scope != "global" || v.retryAfter != 1 {
		t.Fatalf("third parallel: %+v", v)
	}
	// The refused request was not counted against the key.
	if k.reqs != 2 {
		t.Fatalf("key counted %d requests, want 2", k.reqs)
	}
	l.release(a1, 0)
	l.release(a2, 0)
	if _, v := admitOne(l, l.global, k); !v.ok {
		t.Fatalf("after release: %+v", v)
	}
}

func TestLimiterConcurrentNeverOverAdmits(t *testing.T) {
	l := newLimiter(0, Quota{})
	k := NewScope("k", Quota{RPM: 500})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a, v := admitOne(l, nil, k)
				if v.ok {
					ok.Add(1)
					l.release(a, 0)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() > 500 {
		t.Fatalf("admitted %d > 500", ok.Load())
	}
}

func TestLimiterUsersBounded(t *testing.T) {
	clk := newClock(minuteStart())
	l := newLimiter(0, Quota{RPM: 1})
	l.now = clk.now
	l.maxUsers = 3
	alice := l.user([]byte("alice"))
	if alice == nil || l.user([]byte("alice")) != alice {
		t.Fatal("same user, different scopes")
	}
	admitOne(l, nil, nil, alice) // alice holds a slot: never evicted while in flight
	l.user([]byte("bob"))
	l.user([]byte("carol"))
	if l.user([]byte("dave")) != l.overflow {
		t.Fatal("map grew past maxUsers")
	}
	clk.add(3 * time.Minute) // bob and carol idle: evicted for newcomers
	if d := l.user([]byte("dave")); d == l.overflow || l.user([]byte("alice")) != alice || len(l.users) > 3 {
		t.Fatalf("eviction: %d users", len(l.users))
	}
	if l.user(nil) != nil {
		t.Fatal("empty user id got a Scope")
	}
	if newLimiter(0, Quota{}).user([]byte("x")) != nil {
		t.Fatal("user Scope without user limits")
	}
}

// BenchmarkLimiterAdmitRelease: the in-memory check path, three scopes.
func BenchmarkLimiterAdmitRelease(b *testing.B) {
	admitRelease := admitReleaser(b)
	b.ReportAllocs()
	for b.Loop() {
		admitRelease()
	}
}

// admitReleaser is one request's admission and release in memory, in
// three scopes (global, key, user), none of them reached.
func admitReleaser(tb testing.TB) func() {
	l := newLimiter(1<<40, Quota{RPM: 1 << 40, TPM: 1 << 40, Parallel: 1 << 40})
	k := NewScope("k", Quota{RPM: 1 << 40, TPM: 1 << 40, Parallel: 1 << 40})
	uid := []byte("user-123")
	l.user(uid)
	var a Admission
	return func() {
		a.Reset()
		a.Add(l.global, "global")
		a.Add(k, "key")
		a.Add(l.user(uid), "user")
		if v := l.admit(&a); !v.ok {
			tb.Fatal(v)
		}
		l.release(&a, 10)
	}
}

// The README's "allocation-free in memory" rate limits.
func TestLimiterAdmitReleaseAllocs(t *testing.T) {
	allocs.None(t, "an admission and its release", 1000, admitReleaser(t))
}
