package replicas

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/redis/go-redis/v9"
)

// startCluster starts three redis-server nodes in cluster mode on
// loopback (own ports and data dirs) and joins them with
// redis-cli --cluster create. It returns their addresses.
func startCluster(t *testing.T) []string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server / redis-cli not on PATH")
		}
		t.Skip("redis-server / redis-cli not on PATH")
	}
	var addrs []string
	for i := 0; i < 3; i++ {
		// Cluster nodes also listen on port+10000: pick ports below 55000.
		var port int
		for {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port = ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			if port < 55000 {
				if bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
					bus.Close()
					break
				}
			}
		}
		dir := t.TempDir()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", dir+"/nodes.conf", "--dir", dir, "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := "127.0.0.1:" + strconv.Itoa(port)
		c := redis.NewClient(&redis.Options{Addr: addr})
		deadline := time.Now().Add(10 * time.Second)
		for c.Ping(context.Background()).Err() != nil {
			if time.Now().After(deadline) {
				t.Fatalf("redis-server %s did not start", addr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		c.Close()
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c := redis.NewClient(&redis.Options{Addr: addrs[0]})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, _ := c.ClusterInfo(context.Background()).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ok:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addrs
}

// On a real three-node Redis Cluster, named as LiteLLM names it
// (redis_startup_nodes), the health exchange script runs (its keys in
// one hash slot) and two replicas see each other's counts and cooldowns.
func TestClusterExchange(t *testing.T) {
	addrs := startCluster(t)
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
