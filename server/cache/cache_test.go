package cache

import (
	"testing"
	"time"
)

// TestShortTTLLastsItsWholeSpan pins a bug: expiry was kept in whole
// seconds, so an answer stored late in a second with a 1s TTL was gone
// a few milliseconds later, and s-maxage counted its age a second high.
func TestShortTTLLastsItsWholeSpan(t *testing.T) {
	for _, typ := range []string{"local", "disk"} {
		t.Run(typ, func(t *testing.T) {
			st := Settings{Type: typ, Dir: t.TempDir(), TTL: time.Second, MaxBytes: 1 << 20, MaxEntryBytes: 1 << 20}
			c, err := New(st, nil, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// 950 ms into a second.
			stored := time.Unix(1_800_000_000, 950*int64(time.Millisecond))
			kk := k(7)
			c.Put(&kk, testEntry(`{"id":"chatcmpl-1"}`), 0, stored)
			for _, tc := range []struct {
				after  time.Duration
				maxAge time.Duration
				hit    bool
			}{
				{100 * time.Millisecond, 0, true},
				{900 * time.Millisecond, 0, true},
				{500 * time.Millisecond, time.Second, true},
				{500 * time.Millisecond, 400 * time.Millisecond, false},
				{time.Second, 0, false},
			} {
				e, bypass := c.Get(&kk, stored.Add(tc.after), tc.maxAge)
				if bypass || (e != nil) != tc.hit {
					t.Errorf("%v after storing (s-maxage %v): hit=%v bypass=%v, want hit=%v", tc.after, tc.maxAge, e != nil, bypass, tc.hit)
				}
			}
		})
	}
}
