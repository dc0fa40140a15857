package server

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/redis/go-redis/v9"
)

// ownRedis is a redis-server this test starts, kills and restarts on
// one loopback port (never the shared one).
type ownRedis struct {
	t         *testing.T
	bin, port string
	cmd       *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not on PATH")
		}
		t.Skip("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	r := &ownRedis{t: t, bin: bin, port: port}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + r.port})
	defer c.Close()
	waitFor(r.t, 10*time.Second, "redis-server up", func() bool { return c.Ping(context.Background()).Err() == nil })
}

func (r *ownRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// withinOneWindow waits, if needed, for a fixed minute with at least
// need left, and returns it.
func withinOneWindow(need time.Duration) int64 {
	if left := 60 - time.Now().Unix()%60; time.Duration(left)*time.Second < need {
		time.Sleep(time.Duration(left) * time.Second)
	}
	return time.Now().Unix() / 60
}

// Two replicas at rpm 100 admitted 360 in one minute across a Redis
// restart: each local fallback started at zero, then the restarted
// Redis did. Now each replica admits only its share while Redis is down
// and tells the restarted Redis what it admitted.
func TestRedisRestartDoesNotAddWindows(t *testing.T) {
	rd := startOwnRedis(t)
	up := newFakeOpenAI(t)
	key := randomKey(t)
	const limit = 20
	cfg := func() *config.Config {
		return redisConfig("127.0.0.1", rd.port, map[string]any{"key": key, "rpm_limit": limit}, dep(0, "m", "openai/m", up.base(), "k"))
	}
	gws := []*gateway{startGateway(t, cfg()), startGateway(t, cfg())}
	stores := make([]*redisStore, 2)
	for i, gw := range gws {
		rs, ok := gw.srv.current().edge.redisStore()
		if !ok {
			t.Fatal("no Redis store")
		}
		stores[i] = rs
	}
	for _, st := range stores {
		st.heartbeat() // both replicas registered: each sees two
	}
	for _, st := range stores {
		st.heartbeat()
		if n := st.replicas.Load(); n != 2 {
			t.Fatalf("replicas seen: %d", n)
		}
	}
	minute := withinOneWindow(15 * time.Second)
	admitted := make([]int, 2)
	send := func(n int) {
		for i := 0; i < n; i++ {
			for g, gw := range gws {
				switch r := rawPost(t, gw, "/v1/chat/completions", hostileBody(""), key); r.StatusCode {
				case 200:
					admitted[g]++
				case 429:
				default:
					t.Fatalf("status %d: %s", r.StatusCode, r.Body)
				}
			}
		}
	}
	send(3) // 6 through Redis
	before := admitted[0] + admitted[1]
	rd.kill()
	send(limit) // Redis down: local limits
	for i, st := range stores {
		if _, healthy, _ := st.status(); healthy {
			t.Fatalf("gateway %d did not notice the outage", i)
		}
	}
	during := admitted[0] + admitted[1] - before
	rd.start() // a fresh, empty Redis on the same port
	for _, st := range stores {
		waitFor(t, 10*time.Second, "back on Redis", func() bool { _, ok, _ := st.status(); return ok })
	}
	send(limit)
	total := admitted[0] + admitted[1]
	if now := time.Now().Unix() / 60; now != minute {
		t.Fatalf("the test crossed a minute boundary (%d -> %d): counts are not one window's", minute, now)
	}
	// Load spread evenly: each replica admits up to ceil(limit/2) of its
	// own count during the outage, and Redis, told all of it, no more.
	share := (limit + 1) / 2
	bound := max(limit, 2*max(before/2, share))
	t.Logf("admitted %d before the outage, %d during, %d in all (per gateway %v)", before, during, total, admitted)
	if total > bound {
		t.Fatalf("window admitted %d across a Redis restart, bound %d", total, bound)
	}
}
