package limits

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits through a Redis outage. Without care, a Redis restart adds
// whole windows: every replica's local fallback starts at zero, then the
// restarted Redis starts at zero (two replicas at rpm 100 admitted 360
// in one minute). So:
//
//   - each replica shadows in its local counters what Redis admitted
//     through it (limiter.shadow), so it always knows its own count of
//     the window;
//   - while Redis is down, it admits locally up to its share of each
//     limit: limit / R, rounded up, against that count, where R is the
//     number of replicas that sent a heartbeat to Redis in the last
//     redisReplicaTTL (1 when never seen);
//   - when Redis is back, before it admits again, each replica adds to
//     the window's Redis counters what it admitted locally, or all it
//     admitted in the window when Redis restarted (its run_id changed)
//     and lost the counts.
//
// A window thus admits at most limit + (R-1)*ceil(limit/R): one replica
// took the whole limit before the outage, or only some replicas lost
// Redis and admit their share while the others go on through it. When
// every replica loses Redis and load is spread evenly it is limit + R.
// Parallel slots are leases that a restarted Redis forgets: requests in
// flight then are not counted again.

const (
	redisHeartbeat  = 5 * time.Second
	redisReplicaTTL = 3 * redisHeartbeat
)

// heartbeatScript: KEYS[1] the replica set; ARGV now (ms), the oldest
// heartbeat still counted (ms), this process, the set's lifetime (ms).
var heartbeatScript = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`)

// admitLocal admits a while Redis is down: up to this replica's share.
func (s *redisStore) admitLocal(a *Admission) Verdict {
	a.outage = max(s.replicas.Load(), 1)
	v := s.local.admit(a)
	if v.ok {
		s.touch(a, a.minute)
	}
	return v
}

// touch notes a's scopes as used in minute m (seed needs them).
func (s *redisStore) touch(a *Admission, m int64) {
	s.tmu.Lock()
	if s.touchedMin != m {
		clear(s.touched)
		s.touchedMin = m
	}
	for i := 0; i < a.n; i++ {
		s.touched[a.scopes[i]] = struct{}{}
	}
	s.tmu.Unlock()
}

func (s *redisStore) heartbeatLoop() {
	defer s.wg.Done()
	t := time.NewTicker(redisHeartbeat)
	defer t.Stop()
	for {
		if s.retired.Load() {
			s.leave()
			return
		}
		s.heartbeat()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// heartbeat registers this replica, counts the replicas, and notices a
// Redis restart that happened without an outage being seen (seeding it
// then counts twice what the new instance admitted before this
// heartbeat: stricter, never looser).
func (s *redisStore) heartbeat() {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	now := time.Now().UnixMilli()
	n, err := heartbeatScript.Run(ctx, s.rdb, []string{s.replicasKey}, now, now-redisReplicaTTL.Milliseconds(), s.proc, redisReplicaTTL.Milliseconds()).Int64()
	if err != nil {
		return // the probe deals with outages
	}
	s.replicas.Store(max(n, 1))
	// While down, the probe checks the run_id itself (before it seeds).
	if !s.up.Load() {
		return
	}
	if restarted, err := s.checkRunID(); err == nil && restarted {
		s.seed(true)
	}
}

// checkRunID reads the Redis instance's run_id and reports whether it
// changed since last read (a restart, or a failover to another node).
func (s *redisStore) checkRunID() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	// On Cluster, the node that holds the {llmedge} slot.
	var node redis.Cmdable = s.rdb
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, "{llmedge}")
		if err != nil {
			return false, err
		}
		node = m
	}
	info, err := node.Info(ctx, "server").Result()
	if err != nil {
		return false, err
	}
	_, id, _ := strings.Cut(info, "run_id:")
	id, _, _ = strings.Cut(id, "\r\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	restarted := s.runID != "" && s.runID != id
	s.runID = id
	return restarted, nil
}

// seed adds to Redis, for the current window, what this replica
// admitted locally (all it counted in the window when full).
func (s *redisStore) seed(full bool) {
	m := s.local.now().Unix() / 60
	var scopes []*Scope
	s.tmu.Lock()
	if s.touchedMin == m {
		for sc := range s.touched {
			scopes = append(scopes, sc)
		}
	}
	s.tmu.Unlock()
	ms := strconv.FormatInt(m, 10)
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	pipe := s.rdb.Pipeline()
	type taken struct {
		sc   *Scope
		r, t int64
	}
	var took []taken
	for _, sc := range scopes {
		sc.mu.Lock()
		sc.roll(m)
		r, t := sc.outReqs, sc.outToks
		if full {
			r, t = sc.reqs, sc.toks
		}
		sc.outReqs, sc.outToks = 0, 0
		sc.mu.Unlock()
		if r == 0 && t == 0 {
			continue
		}
		took = append(took, taken{sc, r, t})
		p := "{llmedge}:rl:" + sc.id
		if r > 0 {
			pipe.IncrBy(ctx, p+":r:"+ms, r)
			pipe.Expire(ctx, p+":r:"+ms, 120*time.Second)
		}
		if t > 0 {
			pipe.IncrBy(ctx, p+":t:"+ms, t)
			pipe.Expire(ctx, p+":t:"+ms, 120*time.Second)
		}
	}
	if len(took) == 0 {
		return
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.Warn("could not add the requests admitted during the Redis outage to Redis", "redis", s.where, "err", err.Error())
		if !full {
			for _, x := range took {
				x.sc.mu.Lock()
				if x.sc.minute == m {
					x.sc.outReqs += x.r
					x.sc.outToks += x.t
				}
				x.sc.mu.Unlock()
			}
		}
	}
}

// retire stops counting this store as a replica: a reload replaced it
// (it still releases the calls it admitted until it closes).
func (s *redisStore) retire() { s.retired.Store(true) }

// leave takes this replica out of the count.
func (s *redisStore) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	_ = s.rdb.ZRem(ctx, s.replicasKey, s.proc).Err()
}
