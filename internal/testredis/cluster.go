package testredis

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
)

// StartCluster starts three redis-server nodes in cluster mode on
// loopback (own ports and data dirs), joins them with
// redis-cli --cluster create (no replicas: each node owns a third of
// the slots) and waits until the cluster is ok. It returns their
// addresses.
func StartCluster(t testing.TB) []string {
	t.Helper()
	bin, cli := Bin(t, "redis-server"), Bin(t, "redis-cli")
	var addrs []string
	var nodes []*Server
	for i := 0; i < 3; i++ {
		// Cluster nodes also listen on port+10000: pick ports below 55000.
		var port int
		for {
			port = FreePort(t)
			if port < 55000 {
				if bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
					bus.Close()
					break
				}
			}
		}
		dir := t.TempDir()
		n := &Server{t: t, bin: bin, Port: strconv.Itoa(port), args: []string{"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", dir + "/nodes.conf",
			"--dir", dir, "--save", "", "--appendonly", "no"}}
		n.Restart()
		t.Cleanup(n.Kill)
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		c := n.Client()
		wait.For(t, 15*time.Second, "cluster_state:ok on "+n.Addr(), func() bool {
			info, _ := c.ClusterInfo(context.Background()).Result()
			return strings.Contains(info, "cluster_state:ok")
		})
	}
	return addrs
}
