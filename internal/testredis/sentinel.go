package testredis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
	"github.com/redis/go-redis/v9"
)

// Sentinel is a master, one replica of it and three Sentinels (quorum
// 2) watching them under Name, all on loopback.
type Sentinel struct {
	t               testing.TB
	Name            string
	Master, Replica *Server
	Sentinels       []*Server
}

// StartSentinel starts them and waits (bounded) until every Sentinel
// knows the replica and the other Sentinels, so a failover can be
// agreed on.
func StartSentinel(t testing.TB, name string) *Sentinel {
	t.Helper()
	s := &Sentinel{t: t, Name: name, Master: start(t, nil, nil)}
	s.Replica = start(t, []string{"--replicaof", "127.0.0.1", s.Master.Port}, nil)
	rc := s.Replica.Client()
	wait.For(t, 15*time.Second, "the replica in sync", func() bool {
		info, _ := rc.Info(context.Background(), "replication").Result()
		return strings.Contains(info, "master_link_status:up")
	})
	bin := Bin(t, "redis-server")
	for i := 0; i < 3; i++ {
		port := strconv.Itoa(FreePort(t))
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %[3]s 1000\nsentinel failover-timeout %[3]s 10000\n"+
			"sentinel parallel-syncs %[3]s 1\n", port, dir, name, s.Master.Port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		sn := &Server{t: t, bin: bin, Port: port, args: []string{conf, "--sentinel"}}
		sn.Restart()
		t.Cleanup(sn.Kill)
		s.Sentinels = append(s.Sentinels, sn)
	}
	for _, sn := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr()})
		wait.For(t, 30*time.Second, "Sentinels to find each other and the replica", func() bool {
			ctx := context.Background()
			others, _ := c.Sentinels(ctx, name).Result()
			reps, _ := c.Replicas(ctx, name).Result()
			return len(others) == 2 && len(reps) == 1
		})
		_ = c.Close()
	}
	return s
}

// Addrs are the Sentinels' host:port.
func (s *Sentinel) Addrs() []string {
	var out []string
	for _, sn := range s.Sentinels {
		out = append(out, sn.Addr())
	}
	return out
}

// MasterAddr is the master's host:port as the first Sentinel answers.
func (s *Sentinel) MasterAddr() string {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0].Addr()})
	defer c.Close()
	a, err := c.GetMasterAddrByName(context.Background(), s.Name).Result()
	if err != nil || len(a) != 2 {
		return ""
	}
	return a[0] + ":" + a[1]
}

// KillMaster kills the master and waits (bounded) until the Sentinels
// have promoted the replica.
func (s *Sentinel) KillMaster() {
	s.t.Helper()
	s.Master.Kill()
	wait.For(s.t, 30*time.Second, "the Sentinels to promote the replica", func() bool {
		return s.MasterAddr() == s.Replica.Addr()
	})
	rc := s.Replica.Client()
	wait.For(s.t, 10*time.Second, "the promoted replica to take writes", func() bool {
		info, _ := rc.Info(context.Background(), "replication").Result()
		return strings.Contains(info, "role:master")
	})
}
