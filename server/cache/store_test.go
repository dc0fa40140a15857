package cache

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testEntry(body string) *Entry {
	return JSONEntry([]byte("application/json"), []byte(body))
}

func k(i int) Key { kk, _ := MakeKey([]byte(fmt.Sprintf(`{"i":%d}`, i))); return kk }

func TestMemoryBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	e := testEntry(`{"id":"chatcmpl-0123456789","x":"` + string(bytes.Repeat([]byte("a"), 800)) + `"}`)
	m := NewMemory(e.Size() * 3)
	ctx, now := context.Background(), time.Now()
	for i := range 3 {
		kk := k(i)
		_ = m.Set(ctx, &kk, e, 0)
	}
	k0 := k(0)
	if got, _ := m.Get(ctx, &k0, now); got == nil { // 0 is now the most recent
		t.Fatal("entry 0 missing")
	}
	k3 := k(3)
	_ = m.Set(ctx, &k3, e, 0)
	k1 := k(1)
	if got, _ := m.Get(ctx, &k1, now); got != nil {
		t.Error("least recently used entry 1 kept past the budget")
	}
	for _, i := range []int{0, 2, 3} {
		kk := k(i)
		if got, _ := m.Get(ctx, &kk, now); got == nil {
			t.Errorf("entry %d evicted", i)
		}
	}
	if used, n, ev := m.Stats(); used > e.Size()*3 || n != 3 || ev != 1 {
		t.Errorf("stats: %d bytes, %d entries, %d evicted", used, n, ev)
	}
	big := testEntry(string(bytes.Repeat([]byte("b"), e.Size()*4)))
	_ = m.Set(ctx, &k1, big, 0)
	if got, _ := m.Get(ctx, &k1, now); got != nil {
		t.Error("an entry over the whole budget was kept")
	}
}

func TestMemoryExpiry(t *testing.T) {
	m := NewMemory(1 << 20)
	ctx, now := context.Background(), time.Now()
	e := testEntry(`{}`)
	e.Expires = now.Add(time.Second).UnixMilli()
	kk := k(1)
	_ = m.Set(ctx, &kk, e, time.Second)
	if got, _ := m.Get(ctx, &kk, now); got == nil {
		t.Fatal("fresh entry missing")
	}
	if got, _ := m.Get(ctx, &kk, now.Add(2*time.Second)); got != nil {
		t.Fatal("expired entry served")
	}
	if used, n, _ := m.Stats(); used != 0 || n != 0 {
		t.Errorf("expired entry still held: %d bytes, %d entries", used, n)
	}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	e := StreamEntry([][]byte{[]byte("data: {\"id\":\"chatcmpl-abcdefgh\",\"created\":1700000000,\"choices\":[]}\n\n"), []byte("data: [DONE]\n\n")})
	e.Tokens, e.Expires, e.Stored = 42, 1800000000000, 1700000000000
	b := e.Encode(nil)
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != KindStream || len(d.Events) != 2 || !bytes.Equal(d.Events[0], e.Events[0]) || d.Tokens != 42 ||
		d.Expires != e.Expires || d.Stored != e.Stored || string(d.ID) != "chatcmpl-abcdefgh" || string(d.Created) != "1700000000" {
		t.Fatalf("decoded %+v", d)
	}
	for i := range b {
		if _, err := Decode(b[:i]); err == nil {
			t.Fatalf("truncated entry (%d of %d bytes) decoded", i, len(b))
		}
	}
}

func TestDiskAtomicBoundedAndExpiring(t *testing.T) {
	dir := t.TempDir()
	ctx, now := context.Background(), time.Now()
	e := testEntry(`{"id":"chatcmpl-0123456789","x":"` + string(bytes.Repeat([]byte("a"), 1000)) + `"}`)
	e.Expires = now.Add(time.Hour).UnixMilli()
	size := int64(len(e.Encode(nil)))
	// A stray temporary from a crash is removed at start.
	if err := os.WriteFile(filepath.Join(dir, "x.123.tmp"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := NewDisk(dir, size*5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.123.tmp")); !os.IsNotExist(err) {
		t.Error("stray temporary kept")
	}
	for i := range 8 {
		kk := k(i)
		if err := d.Set(ctx, &kk, e, time.Hour); err != nil {
			t.Fatal(err)
		}
		if d.Used() > size*5 {
			t.Fatalf("disk store holds %d bytes over its bound %d", d.Used(), size*5)
		}
	}
	k7 := k(7)
	got, err := d.Get(ctx, &k7, now)
	if err != nil || got == nil || !bytes.Equal(got.Body, e.Body) {
		t.Fatalf("newest entry: %v %v", got, err)
	}
	k0 := k(0)
	if got, _ := d.Get(ctx, &k0, now); got != nil {
		t.Error("oldest entry kept past the bound")
	}
	if got, _ := d.Get(ctx, &k7, now.Add(2*time.Hour)); got != nil {
		t.Error("expired entry served")
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if filepath.Ext(f.Name()) == ".tmp" {
			t.Errorf("temporary %s left", f.Name())
		}
	}
	// A reopened store accounts what is there.
	d2, err := NewDisk(dir, size*5)
	if err != nil || d2.Used() != d.Used() {
		t.Fatalf("reopened: %d bytes vs %d (%v)", d2.Used(), d.Used(), err)
	}
}
