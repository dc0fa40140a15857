package respstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/testredis"
	"github.com/redis/go-redis/v9"
)

func entry(n int) *Entry {
	return &Entry{Response: make([]byte, n), Conversation: []byte(`[]`), Model: "m", Owner: "ka"}
}

func TestMemoryTTL(t *testing.T) {
	m := NewMemory(time.Minute, 10, 1<<20)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	if err := m.Put(ctx, "resp_a", entry(10)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Get(ctx, "resp_a", "ka"); !ok {
		t.Fatal("fresh entry missing")
	}
	now = now.Add(time.Minute)
	if _, ok, _ := m.Get(ctx, "resp_a", "ka"); ok {
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
	if _, ok, _ := m.Get(ctx, "a", "ka"); ok || m.Len() != 3 {
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
	if ok, _ := m.Delete(ctx, "big2", "ka"); !ok {
		t.Fatal("delete of a present entry")
	}
	if ok, _ := m.Delete(ctx, "big2", "ka"); ok {
		t.Fatal("second delete found it")
	}
}

// Two stores on the same Redis (two replicas) see each other's
// entries; entries carry the TTL.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	rdb, prefix := testRedis(t)
	a := NewRedis(rdb, prefix, time.Minute, 0)
	b := NewRedis(rdb, prefix, time.Minute, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e := &Entry{Response: []byte(`{"id":"resp_x"}`), Conversation: []byte(`[{"role":"user","content":"hi"}]`), Model: "m", Owner: "ka"}
	if err := a.Put(ctx, "resp_x", e); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.Get(ctx, "resp_x", "ka")
	if err != nil || !ok || string(got.Conversation) != string(e.Conversation) || got.Model != "m" {
		t.Fatalf("replica b: %v %v %+v", ok, err, got)
	}
	if ttl := rdb.PTTL(ctx, prefix+"resp_x").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	if ok, err := b.Delete(ctx, "resp_x", "ka"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if _, ok, _ := a.Get(ctx, "resp_x", "ka"); ok {
		t.Fatal("deleted entry still there")
	}
}

func testRedis(t *testing.T) (*redis.Client, string) {
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("LLMEDGE_TEST_REDIS not set in CI")
		}
		t.Skip("LLMEDGE_TEST_REDIS not set")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return rdb, "llmedge-test:resp:" + hex.EncodeToString(rnd[:]) + ":"
}

// An entry is its owner's: another caller's Get and Delete find
// nothing (as for an id never stored) and leave it in place; AnyOwner
// (the master key) reaches it; an entry without an owner is refused.
func TestOwnerScopes(t *testing.T) {
	stores := map[string]func(t *testing.T) Store{
		"memory": func(*testing.T) Store { return NewMemory(time.Minute, 10, 1<<20) },
		"redis": func(t *testing.T) Store {
			rdb, prefix := testRedis(t)
			return NewRedis(rdb, prefix, time.Minute, 0)
		},
		// One key per response: its commands and the delete's script
		// run on Cluster as they are.
		"redis cluster": func(t *testing.T) Store {
			rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testredis.StartCluster(t)[:1]})
			t.Cleanup(func() { _ = rdb.Close() })
			return NewRedis(rdb, "llmedge:resp:ns:", time.Minute, 0)
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			st := mk(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := st.Put(ctx, "resp_o", &Entry{Response: []byte("{}"), Conversation: []byte("[]")}); err != ErrNoOwner {
				t.Fatalf("entry without owner: %v", err)
			}
			if err := st.Put(ctx, "resp_o", entry(10)); err != nil {
				t.Fatal(err)
			}
			for _, other := range []string{"kb", "", "k", "kaa"} {
				if e, ok, err := st.Get(ctx, "resp_o", other); ok || e != nil || err != nil {
					t.Fatalf("get by %q: %v %v", other, ok, err)
				}
				if ok, err := st.Delete(ctx, "resp_o", other); ok || err != nil {
					t.Fatalf("delete by %q: %v %v", other, ok, err)
				}
			}
			if e, ok, err := st.Get(ctx, "resp_o", "ka"); !ok || err != nil || e.Owner != "ka" {
				t.Fatalf("owner's get after others' deletes: %v %v", ok, err)
			}
			if _, ok, _ := st.Get(ctx, "resp_o", AnyOwner); !ok {
				t.Fatal("AnyOwner get")
			}
			if ok, err := st.Delete(ctx, "resp_o", AnyOwner); !ok || err != nil {
				t.Fatalf("AnyOwner delete: %v %v", ok, err)
			}
			if _, ok, _ := st.Get(ctx, "resp_o", "ka"); ok {
				t.Fatal("deleted entry still there")
			}
			_ = st.Put(ctx, "resp_p", entry(10))
			if ok, err := st.Delete(ctx, "resp_p", "ka"); !ok || err != nil {
				t.Fatalf("owner's delete: %v %v", ok, err)
			}
		})
	}
}

// A Redis hash without an owner (written before owners existed) is no
// one's, not even AnyOwner's.
func TestRedisEntryWithoutOwner(t *testing.T) {
	rdb, prefix := testRedis(t)
	st := NewRedis(rdb, prefix, time.Minute, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rdb.HSet(ctx, prefix+"resp_old", "r", "{}", "c", "[]", "m", "m")
	rdb.Expire(ctx, prefix+"resp_old", time.Minute)
	for _, o := range []string{"", AnyOwner, "ka"} {
		if _, ok, err := st.Get(ctx, "resp_old", o); ok || err != nil {
			t.Fatalf("get by %q: %v %v", o, ok, err)
		}
		if ok, err := st.Delete(ctx, "resp_old", o); ok || err != nil {
			t.Fatalf("delete by %q: %v %v", o, ok, err)
		}
	}
}
