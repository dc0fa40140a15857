package replicas

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/testredis"
	"github.com/llmedge/llmedge/upstream"
	"github.com/redis/go-redis/v9"
)

// On a real three-node Redis Cluster, named as LiteLLM names it
// (redis_startup_nodes), the health exchange script runs (its keys in
// one hash slot) and two replicas see each other's counts and cooldowns.
func TestClusterExchange(t *testing.T) {
	addrs := testredis.StartCluster(t)
	// One startup node is enough to find the rest.
	h0, p0, _ := net.SplitHostPort(addrs[0])
	conf, err := confFrom(t, "  redis_startup_nodes: [{host: "+h0+", port: "+p0+"}]\n")
	if err != nil || !conf.Cluster {
		t.Fatalf("conf %+v: %v", conf, err)
	}
	rdb, err := Open(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("Open gave %T for redis_startup_nodes, want a cluster client", rdb)
	}
	h := &health{rdb: rdb, ns: "cluster-test"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := time.Now().Unix() / 60
	ids := []string{"a", "b"}
	cool := time.Now().Add(time.Minute).UnixMilli()
	d1 := []upstream.HealthCounts{{Calls: 3, Tokens: 30}, {Calls: 1, CoolUntil: cool}}
	d1[1].Fails[2] = 1
	if _, err := h.Exchange(ctx, m, ids, d1); err != nil {
		t.Fatalf("exchange on the cluster: %v", err)
	}
	tot, err := h.Exchange(ctx, m, ids, []upstream.HealthCounts{{Calls: 2}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if tot[0].Calls != 5 || tot[0].Tokens != 30 || tot[1].Calls != 1 || tot[1].Fails[2] != 1 || tot[1].CoolUntil != cool {
		t.Fatalf("totals %+v", tot)
	}
	// The reload channel and the replica list work on the cluster too.
	n, err := Start(conf, "cluster-test", slogDiscard(), Hooks{
		Registry: func() *upstream.Registry { return emptyRegistry(t) },
		Reload:   func() error { return nil },
		Version:  func() string { return "v1" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Subscribed(ctx); err != nil {
		t.Fatal(err)
	}
	for len(n.Replicas()) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("no heartbeat on the cluster")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := n.AnnounceReload(ctx); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkExchange is one health exchange of 20 deployments with the
// Redis at LLMEDGE_TEST_REDIS (what each replica sends every SyncEvery).
func BenchmarkExchange(b *testing.B) {
	addr := os.Getenv("LLMEDGE_TEST_REDIS")
	if addr == "" {
		b.Skip("LLMEDGE_TEST_REDIS not set")
	}
	rdb, err := Open(Conf{Addrs: addr})
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	h := &health{rdb: rdb, ns: "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	ids := make([]string, 20)
	deltas := make([]upstream.HealthCounts, 20)
	for i := range ids {
		ids[i] = "deployment-" + strconv.Itoa(i)
		deltas[i].Calls, deltas[i].Tokens = 1, 100
	}
	ctx := context.Background()
	m := time.Now().Unix() / 60
	for b.Loop() {
		if _, err := h.Exchange(ctx, m, ids, deltas); err != nil {
			b.Fatal(err)
		}
	}
}
