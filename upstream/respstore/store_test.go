package respstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func entry(n int) *Entry {
	return &Entry{Response: make([]byte, n), Conversation: []byte(`[]`), Model: "m"}
}

func TestMemoryTTL(t *testing.T) {
	m := NewMemory(time.Minute, 10, 1<<20)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	if err := m.Put(ctx, "resp_a", entry(10)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Get(ctx, "resp_a"); !ok {
		t.Fatal("fresh entry missing")
	}
	now = now.Add(time.Minute)
	if _, ok, _ := m.Get(ctx, "resp_a"); ok {
		t.Fatal("expired entry returned")
	}
	if m.Len() != 0 {
		t.Fatalf("expired entry kept: %d", m.Len())
	}
}

func TestMemoryBounds(t *testing.T) {
	m := NewMemory(time.Hour, 3, 1000)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := m.Put(ctx, id, entry(100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := m.Get(ctx, "a"); ok || m.Len() != 3 {
		t.Fatalf("entry bound: len %d, oldest kept %v", m.Len(), ok)
	}
	// Bytes: two entries of 400 fit in 1000 with nothing else.
	_ = m.Put(ctx, "big1", entry(400))
	_ = m.Put(ctx, "big2", entry(400))
	if m.Len() != 2 {
		t.Fatalf("byte bound: len %d", m.Len())
	}
	if err := m.Put(ctx, "huge", entry(2000)); err != ErrTooLarge {
		t.Fatalf("oversized: %v", err)
	}
	if ok, _ := m.Delete(ctx, "big2"); !ok {
		t.Fatal("delete of a present entry")
	}
	if ok, _ := m.Delete(ctx, "big2"); ok {
		t.Fatal("second delete found it")
	}
}

// Two stores on the same Redis (two replicas) see each other's
// entries; entries carry the TTL.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("LLMEDGE_TEST_REDIS not set in CI")
		}
		t.Skip("LLMEDGE_TEST_REDIS not set")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	prefix := "llmedge-test:resp:" + hex.EncodeToString(rnd[:]) + ":"
	a := NewRedis(rdb, prefix, time.Minute, 0)
	b := NewRedis(rdb, prefix, time.Minute, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e := &Entry{Response: []byte(`{"id":"resp_x"}`), Conversation: []byte(`[{"role":"user","content":"hi"}]`), Model: "m",
		Input: []byte(`[{"id":"msg_x_in0","type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]`)}
	if err := a.Put(ctx, "resp_x", e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.Get(ctx, "resp_x")
	if err != nil || !ok || string(got.Conversation) != string(e.Conversation) || got.Model != "m" || string(got.Input) != string(e.Input) {
		t.Fatalf("replica b: %v %v %+v", ok, err, got)
	}
	if ttl := rdb.PTTL(ctx, prefix+"resp_x").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	if ok, err := b.Delete(ctx, "resp_x"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if _, ok, _ := a.Get(ctx, "resp_x"); ok {
		t.Fatal("deleted entry still there")
	}
}
