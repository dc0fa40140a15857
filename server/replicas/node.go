package replicas

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/upstream"
	"github.com/redis/go-redis/v9"
)

const (
	// SyncEvery is how often deployment health is exchanged: a
	// cooldown started on one replica is seen by the others within it
	// (plus a round trip).
	SyncEvery = 200 * time.Millisecond
	// heartbeatEvery is how often a replica writes its config version;
	// a replica silent for replicaTTL is left out of the list.
	heartbeatEvery = time.Second
	replicaTTL     = 10 * time.Second
)

// Hooks are what a Node needs from the server.
type Hooks struct {
	// Registry is the registry serving now.
	Registry func() *upstream.Registry
	// Reload re-reads this replica's config file (another replica was
	// asked to reload all).
	Reload func() error
	// Version is the config version serving now.
	Version func() string
}

// Replica is one replica as last seen on Redis.
type Replica struct {
	ID            string
	ConfigVersion string
	Seen          time.Time
}

// Node is this replica's membership: it exchanges deployment health,
// writes its config version, and listens for reloads.
type Node struct {
	rdb   redis.UniversalClient
	ns    string
	id    string
	where string
	log   *slog.Logger
	hooks Hooks
	h     health

	up       atomic.Bool
	mu       sync.Mutex
	since    time.Time
	replicas atomic.Pointer[[]Replica]

	subscribed chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup
}

// Start joins the replicas sharing the Redis c names, under namespace
// ns (replicas of other gateways on the same Redis use another).
func Start(c Conf, ns string, log *slog.Logger, hooks Hooks) (*Node, error) {
	rdb, err := Open(c)
	if err != nil {
		return nil, err
	}
	n := &Node{rdb: rdb, ns: ns, id: replicaID(), where: c.Where(), log: log, hooks: hooks,
		h: health{rdb: rdb, ns: ns}, subscribed: make(chan struct{}), stop: make(chan struct{})}
	n.up.Store(true)
	n.wg.Add(2)
	go n.syncLoop()
	go n.listen()
	return n, nil
}

// replicaID is the host name (the pod name on Kubernetes) and a random
// suffix, so two processes on one host differ.
func replicaID() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "llmedge"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return h + "-" + hex.EncodeToString(b[:])
}

// ID is this replica's id.
func (n *Node) ID() string { return n.id }

func (n *Node) channel() string     { return "{llmedge}:reload:" + n.ns }
func (n *Node) replicasKey() string { return "{llmedge}:rv:" + n.ns }

func (n *Node) syncLoop() {
	defer n.wg.Done()
	t := time.NewTicker(SyncEvery)
	defer t.Stop()
	var lastBeat time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		err := n.hooks.Registry().SyncHealth(ctx, &n.h)
		if err == nil && time.Since(lastBeat) >= heartbeatEvery {
			err = n.heartbeat(ctx)
			lastBeat = time.Now()
		}
		cancel()
		n.result(err)
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// result logs the switch to per-replica state and back, once each.
func (n *Node) result(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err == nil {
		if !n.up.Load() {
			n.up.Store(true)
			n.log.Info("Redis reachable again: cooldowns, failure counts and deployment usage are shared across replicas", "redis", n.where, "down_for", time.Since(n.since).Round(time.Millisecond).String())
		}
		return
	}
	var re redis.Error
	if errors.As(err, &re) && !IsConnErr(err) {
		n.log.Error("sharing deployment health on Redis failed", "redis", n.where, "err", err.Error())
	}
	if n.up.Load() {
		n.up.Store(false)
		n.since = time.Now()
		n.log.Warn("Redis unreachable: cooldowns, failure counts and deployment usage now per replica until it is back", "redis", n.where, "err", err.Error())
	}
}

// IsConnErr reports whether err is the connection's (unreachable,
// timed out), not an error reply of Redis.
func IsConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// Healthy reports whether the last exchange with Redis succeeded.
func (n *Node) Healthy() bool { return n.up.Load() }

// heartbeatScript: KEYS[1] the replica hash; ARGV this replica, its
// "version|unix ms", the oldest unix ms still listed. Returns the hash.
var heartbeatScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
local keep = {}
for i = 1, #all, 2 do
  local at = tonumber(string.match(all[i + 1], '|(%d+)$') or '0')
  if at < tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], all[i])
  else
    keep[#keep + 1] = all[i]
    keep[#keep + 1] = all[i + 1]
  end
end
redis.call('EXPIRE', KEYS[1], 60)
return keep
`)

func (n *Node) heartbeat(ctx context.Context) error {
	now := time.Now()
	res, err := heartbeatScript.Run(ctx, n.rdb, []string{n.replicasKey()}, n.id,
		n.hooks.Version()+"|"+strconv.FormatInt(now.UnixMilli(), 10), now.Add(-replicaTTL).UnixMilli()).StringSlice()
	if err != nil {
		return err
	}
	list := make([]Replica, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		v, at, _ := strings.Cut(res[i+1], "|")
		ms, _ := strconv.ParseInt(at, 10, 64)
		list = append(list, Replica{ID: res[i], ConfigVersion: v, Seen: time.UnixMilli(ms)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	n.replicas.Store(&list)
	return nil
}

// Replicas are the replicas seen on Redis in the last replicaTTL, as of
// the last heartbeat (nil when Redis was never reached).
func (n *Node) Replicas() []Replica {
	if p := n.replicas.Load(); p != nil {
		return *p
	}
	return nil
}

// AnnounceReload asks every other replica to re-read its config file.
func (n *Node) AnnounceReload(ctx context.Context) error {
	return n.rdb.Publish(ctx, n.channel(), n.id).Err()
}

// listen reloads this replica's config when another announces a
// reload. go-redis resubscribes after a lost connection; an
// announcement made while this replica could not hear it is missed
// (its /health/readiness then shows the old config version).
func (n *Node) listen() {
	defer n.wg.Done()
	ps := n.rdb.Subscribe(context.Background(), n.channel())
	defer ps.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := ps.Receive(ctx) // the subscription's confirmation
		cancel()
		if err == nil {
			close(n.subscribed)
			break
		}
		select {
		case <-n.stop:
			return
		case <-time.After(SyncEvery):
		}
	}
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(5 * time.Second))
	for {
		select {
		case <-n.stop:
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if m.Payload == n.id {
				continue
			}
			n.log.Info("config reload announced by another replica", "from", m.Payload)
			if err := n.hooks.Reload(); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), Timeout)
				_ = n.heartbeat(ctx)
				cancel()
			}
		}
	}
}

// Close leaves: it stops the loops, removes this replica from the list
// and closes the connections.
func (n *Node) Close() {
	select {
	case <-n.stop:
		return
	default:
	}
	close(n.stop)
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	_ = n.rdb.HDel(ctx, n.replicasKey(), n.id).Err()
	cancel()
	_ = n.rdb.Close()
}

// Subscribed waits until this replica listens for reloads, or ctx ends.
func (n *Node) Subscribed(ctx context.Context) error {
	select {
	case <-n.subscribed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Version names a config file's content: the first 12 hex digits of
// its SHA-256 ("" when it cannot be read, e.g. a config built in
// memory). Replicas that read the same bytes show the same version.
func Version(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
