package keys

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Spend counters on Redis. With the limits' Redis configured
// (Cache.UseRedis), every cost added here is also added to Redis with
// INCRBYFLOAT, one counter per key, user and team and budget period:
//
//	{llmedge}:spend:<ns>:<k|u|t>:<id>:<period end, Unix ms; 0 = no period>
//
// A counter Redis does not have yet (first spend after Redis was
// configured, a new budget period, a Redis that lost its data) starts
// from the spend this replica last read from the database (SET NX),
// then the cost is added. A period's counter expires an hour after the
// period ends; one without a period 30 days after its last spend.
//
// The request path never waits on Redis: AddSpend adds in memory and
// wakes the Redis loop, which sends what was added in one pipeline and
// takes back each counter's new total; every RedisRefresh the loop also
// reads (one MGET) the counters checked in the last minute, and all of
// them every fifth time. A budget check reads the last total plus what
// this replica added since, never less than the database's spend.
//
// So across replicas a budget can be exceeded by the requests in flight
// when it is crossed plus what other replicas spent in the last
// RedisRefresh (plus one Redis round trip), instead of a database write
// and poll (~1 s).
//
// The database still receives all spend (the 500 ms writer), for
// /key/info, spend logs and restarts. When Redis does not answer the
// loop logs a warning once, budgets are checked against the database's
// spend again (the cross-replica bound of the database path), spend not
// sent is kept and sent when Redis answers (its counters may then count
// it once more if they had to be started again from the database: over,
// never under).
//
// Between a period's end and the database's reset (one poll) spend is
// kept here (the period counts only this replica's spend, as on the
// database path) and sent to the new period's counter.

// RedisRefresh is how often the Redis loop reads the spend counters
// checked in the last minute.
const RedisRefresh = 100 * time.Millisecond

const (
	redisOpTimeout = 2 * time.Second
	redisNoPeriod  = 30 * 24 * time.Hour
	redisAfterEnd  = time.Hour
	redisMGetChunk = 500
	recentlyUsedMs = 60_000
)

type redisSpend struct {
	rdb  redis.UniversalClient
	ns   string
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	down bool // only the loop reads and writes it
}

func (rs *redisSpend) kick() {
	select {
	case rs.wake <- struct{}{}:
	default:
	}
}

// redisState is the cache's Redis part.
type redisState struct {
	redis atomic.Pointer[redisSpend]
	// umu serialises UseRedis.
	umu sync.Mutex
	// rmu guards rdirty: counters with spend not yet sent.
	rmu    sync.Mutex
	rdirty []*counter
}

// UseRedis keeps spend counters on rdb (the limits' Redis) under the
// namespace ns (the same on every replica of a deployment, distinct
// between deployments), or stops doing so when rdb is nil. Calling it
// again with the same client and namespace changes nothing.
func (c *Cache) UseRedis(rdb redis.UniversalClient, ns string) {
	c.umu.Lock()
	defer c.umu.Unlock()
	cur := c.redis.Load()
	if cur != nil && cur.rdb == rdb && cur.ns == ns {
		return
	}
	if cur == nil && rdb == nil {
		return
	}
	if cur != nil {
		c.redis.Store(nil)
		close(cur.stop)
		<-cur.done
		c.forgetShared()
	}
	if rdb == nil {
		return
	}
	rs := &redisSpend{rdb: rdb, ns: ns, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.redis.Store(rs)
	go c.redisLoop(rs)
}

// stopRedis stops the Redis loop (Close).
func (c *Cache) stopRedis() { c.UseRedis(nil, "") }

// add adds cost to x in memory: for the database and, with Redis, to
// send there.
func (c *Cache) add(rs *redisSpend, x *counter, cost float64) {
	x.pending.Add(cost)
	if rs == nil {
		return
	}
	x.unsent.Add(cost)
	c.markDirty(x)
}

func (c *Cache) markDirty(x *counter) {
	if x.dirty.CompareAndSwap(false, true) {
		c.rmu.Lock()
		c.rdirty = append(c.rdirty, x)
		c.rmu.Unlock()
	}
}

// forgetShared makes every budget check read the database's spend.
func (c *Cache) forgetShared() {
	c.cmu.Lock()
	for _, x := range c.counters {
		x.sharedFor.Store(0)
	}
	c.cmu.Unlock()
}

func (c *Cache) redisLoop(rs *redisSpend) {
	defer close(rs.done)
	t := time.NewTicker(RedisRefresh)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-rs.stop:
			return
		case <-rs.wake:
			if rs.down {
				continue // the next tick tries
			}
			if err := c.redisSend(rs); err != nil {
				c.redisHealth(rs, err)
			}
			continue
		case <-t.C:
		}
		err := c.redisSend(rs)
		if err == nil {
			err = c.redisRefresh(rs, n%5 == 0 || rs.down)
		}
		c.redisHealth(rs, err)
	}
}

func (c *Cache) redisHealth(rs *redisSpend, err error) {
	if err == nil {
		if rs.down {
			rs.down = false
			c.log.Info("Redis reachable again: budgets count spend across replicas on it")
		}
		return
	}
	if !rs.down {
		rs.down = true
		c.log.Warn("Redis unreachable: budgets are checked against the database's spend (other replicas' spend seen each database round) until it answers", "err", err.Error())
	}
	c.forgetShared()
}

func (rs *redisSpend) name(x *counter, period int64) string {
	k := "k"
	switch x.kind {
	case KindUser:
		k = "u"
	case KindTeam:
		k = "t"
	}
	return "{llmedge}:spend:" + rs.ns + ":" + k + ":" + x.id + ":" + strconv.FormatInt(period, 10)
}

// take sets shared to v, Redis's total of x's period (unchanged if
// the period moved meanwhile). Within a period the total only grows.
func take(x *counter, period int64, v float64) {
	if x.resetAt.Load() != period {
		return
	}
	if x.sharedFor.Load() == period+1 {
		if v > x.shared.Load() {
			x.shared.Store(v)
		}
		return
	}
	x.shared.Store(v)
	x.sharedFor.Store(period + 1)
}

// redisSend adds the spend not yet sent, in one pipeline, and takes
// back each counter's total.
func (c *Cache) redisSend(rs *redisSpend) error {
	c.rmu.Lock()
	batch := c.rdirty
	c.rdirty = nil
	c.rmu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	now := c.now()
	nowMs := now.UnixMilli()
	type item struct {
		x      *counter
		d      float64
		period int64
		incr   *redis.FloatCmd
	}
	items := make([]item, 0, len(batch))
	var held []*counter
	ctx, cancel := context.WithTimeout(context.Background(), redisOpTimeout)
	defer cancel()
	pipe := rs.rdb.Pipeline()
	for _, x := range batch {
		x.dirty.Store(false)
		period := x.resetAt.Load()
		if period != 0 && nowMs >= period {
			held = append(held, x) // the new period is not known yet
			continue
		}
		d := x.unsent.Swap(0)
		if d == 0 {
			continue
		}
		x.sending.Add(d)
		name := rs.name(x, period)
		ttl := redisNoPeriod
		if period != 0 {
			ttl = time.UnixMilli(period).Add(redisAfterEnd).Sub(now)
		}
		pipe.SetNX(ctx, name, strconv.FormatFloat(x.stored.Load()+x.writing.Load(), 'f', -1, 64), ttl)
		it := item{x: x, d: d, period: period, incr: pipe.IncrByFloat(ctx, name, d)}
		pipe.PExpire(ctx, name, ttl)
		items = append(items, it)
	}
	for _, x := range held {
		c.markDirty(x)
	}
	if len(items) == 0 {
		return nil
	}
	_, err := pipe.Exec(ctx)
	for _, it := range items {
		if v, ierr := it.incr.Result(); ierr == nil {
			take(it.x, it.period, v)
			it.x.sending.Add(-it.d)
			continue
		}
		// Not added (or not known to be): kept for the next send.
		it.x.sending.Add(-it.d)
		it.x.unsent.Add(it.d)
		c.markDirty(it.x)
	}
	return err
}

// redisRefresh reads the totals of the counters checked in the last
// minute (all of them when all is set).
func (c *Cache) redisRefresh(rs *redisSpend, all bool) error {
	nowMs := c.now().UnixMilli()
	var xs []*counter
	var periods []int64
	var names []string
	c.cmu.Lock()
	for _, x := range c.counters {
		period := x.resetAt.Load()
		if period != 0 && nowMs >= period {
			continue
		}
		if !all && nowMs-x.used.Load() > recentlyUsedMs {
			continue
		}
		xs = append(xs, x)
		periods = append(periods, period)
		names = append(names, rs.name(x, period))
	}
	c.cmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), redisOpTimeout)
	defer cancel()
	if len(names) == 0 {
		return rs.rdb.Ping(ctx).Err()
	}
	for i := 0; i < len(names); i += redisMGetChunk {
		j := min(i+redisMGetChunk, len(names))
		vals, err := rs.rdb.MGet(ctx, names[i:j]...).Result()
		if err != nil {
			return err
		}
		for k, v := range vals {
			f := 0.0
			if s, ok := v.(string); ok {
				f, _ = strconv.ParseFloat(s, 64)
			}
			take(xs[i+k], periods[i+k], f)
		}
	}
	return nil
}
