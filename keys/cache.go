package keys

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// PollInterval is how often the cache writes spend and looks for
// changes made by any replica: a change is seen everywhere within it
// (plus one round trip).
const PollInterval = 500 * time.Millisecond

// opTimeout bounds one store call of the background loop.
const opTimeout = 5 * time.Second

// Cache holds every key, user and team in memory for the request path
// and keeps them current: a background loop writes the spend added
// here, polls the store's change version (reloading on a change) and
// every record's spend, and resets budgets whose period ended.
type Cache struct {
	store Store
	log   *slog.Logger
	state atomic.Pointer[cacheState]
	// gen is bumped by every reload (the server rebuilds what it
	// derives from entries when it changes).
	gen atomic.Uint64

	cmu      sync.Mutex
	counters map[counterID]*counter

	logs spendRing

	redisState

	up        atomic.Bool
	downSince atomic.Int64 // Unix ms of the first failure of an outage
	lastErr   atomic.Pointer[string]

	// kick asks the loop for an immediate round (after a management
	// change on this replica).
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
	now  func() time.Time
}

type counterID struct {
	kind Kind
	id   string
}

type cacheState struct {
	version int64
	keys    map[[sha256.Size]byte]*Entry
	byToken map[string]*Entry
	users   map[string]*User
	teams   map[string]*Team
}

// NewCache loads every record from store (which must answer: a
// gateway does not start on a database it cannot read) and starts the
// background loop.
func NewCache(ctx context.Context, store Store, log *slog.Logger) (*Cache, error) {
	c := &Cache{store: store, log: log, counters: map[counterID]*counter{}, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), now: time.Now}
	v, rows, err := store.Rows(ctx)
	if err != nil {
		return nil, err
	}
	c.rebuild(v, rows)
	c.up.Store(true)
	go c.loop()
	return c, nil
}

// Store is the cache's store (for the management API).
func (c *Cache) Store() Store { return c.store }

// Gen changes whenever the cache reloads.
func (c *Cache) Gen() uint64 { return c.gen.Load() }

// Lookup returns the entry of a key by its SHA-256, or nil. It reads
// memory only and allocates nothing.
func (c *Cache) Lookup(d *[sha256.Size]byte) *Entry { return c.state.Load().keys[*d] }

// Entries calls f for every key entry.
func (c *Cache) Entries(f func(*Entry)) {
	for _, e := range c.state.Load().keys {
		f(e)
	}
}

// Up reports whether the store answered the last round, and since when
// it has not.
func (c *Cache) Up() (bool, time.Time, string) {
	if c.up.Load() {
		return true, time.Time{}, ""
	}
	msg := ""
	if p := c.lastErr.Load(); p != nil {
		msg = *p
	}
	return false, time.UnixMilli(c.downSince.Load()), msg
}

// Kick asks for a reload now (after a change made through this
// replica's management API).
func (c *Cache) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Close stops the loop after writing all spend not yet written (it
// tries until ctx ends).
func (c *Cache) Close(ctx context.Context) error {
	c.stopRedis()
	c.once.Do(func() { close(c.stop) })
	<-c.done
	var err error
	for {
		if err = c.flush(ctx); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cache) counter(kind Kind, id string) *counter {
	k := counterID{kind, id}
	if x := c.counters[k]; x != nil {
		return x
	}
	x := &counter{kind: kind, id: id}
	c.counters[k] = x
	return x
}

// rebuild replaces the state with rows at version v.
func (c *Cache) rebuild(v int64, rows []Row) {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	st := &cacheState{version: v, keys: map[[sha256.Size]byte]*Entry{}, byToken: map[string]*Entry{},
		users: map[string]*User{}, teams: map[string]*Team{}}
	var keys []*Key
	live := map[counterID]bool{}
	for _, r := range rows {
		ctr := c.counter(r.Kind, r.ID)
		live[counterID{r.Kind, r.ID}] = true
		c.observe(ctr, r)
		switch r.Kind {
		case KindKey:
			k := new(Key)
			if json.Unmarshal(r.Data, k) == nil {
				k.Token, k.Spend = r.ID, r.Spend
				keys = append(keys, k)
			}
		case KindUser:
			u := new(User)
			if json.Unmarshal(r.Data, u) == nil {
				u.UserID, u.Spend = r.ID, r.Spend
				st.users[r.ID] = u
			}
		case KindTeam:
			t := new(Team)
			if json.Unmarshal(r.Data, t) == nil {
				t.TeamID, t.Spend = r.ID, r.Spend
				st.teams[r.ID] = t
			}
		}
	}
	for _, k := range keys {
		e := c.entry(st, k)
		if e != nil {
			st.keys[e.Digest] = e
			st.byToken[k.Token] = e
		}
	}
	// Counters of deleted records go once nothing is left to write.
	for id, x := range c.counters {
		if !live[id] && x.pending.Load() == 0 && x.writing.Load() == 0 {
			delete(c.counters, id)
		}
	}
	c.state.Store(st)
	c.gen.Add(1)
}

// observe takes a polled row's spend and reset time into its counter.
func (c *Cache) observe(x *counter, r Row) {
	x.stored.Store(r.Spend)
	x.writing.Store(0)
	x.resetAt.Store(r.ResetAt)
}

func (c *Cache) entry(st *cacheState, k *Key) *Entry {
	d, ok := digestOf(k.Token)
	if !ok {
		return nil
	}
	e := &Entry{Key: k, Digest: d, Models: k.Models, key: c.counter(KindKey, k.Token), maxKey: budget(&k.Limits), maxUser: -1, maxTm: -1}
	if k.Expires != nil {
		e.expiresMs = k.Expires.UnixMilli()
	}
	if k.Blocked {
		e.blocked = "Authentication Error - Key is blocked. Update via /key/unblock if you're an admin."
	}
	var teamLim *Limits
	if k.UserID != nil {
		if u := st.users[*k.UserID]; u != nil {
			e.User, e.user, e.maxUser = u, c.counter(KindUser, u.UserID), budget(&u.Limits)
		}
	}
	if k.TeamID != nil {
		if t := st.teams[*k.TeamID]; t != nil {
			e.Team, e.team, e.maxTm = t, c.counter(KindTeam, t.TeamID), budget(&t.Limits)
			teamLim = &t.Limits
			if len(e.Models) == 0 {
				e.Models = t.Models
			}
			if t.Blocked {
				e.blocked = "Authentication Error - Team=" + t.TeamID + " is blocked. Update via /team/unblock if you're an admin."
			}
		}
	}
	if teamLim == nil {
		teamLim = &Limits{}
	}
	e.RPM, e.TPM, e.Parallel = orInt(k.RPMLimit, teamLim.RPMLimit), orInt(k.TPMLimit, teamLim.TPMLimit), orInt(k.MaxParallel, teamLim.MaxParallel)
	return e
}

func (c *Cache) loop() {
	defer close(c.done)
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.kick:
		}
		c.round()
	}
}

// round is one pass of the loop: write spend, reload or poll spend,
// reset ended budget periods.
func (c *Cache) round() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := c.flush(ctx)
	if err == nil {
		err = c.poll(ctx)
	}
	if err == nil {
		err = c.resetBudgets(ctx)
	}
	c.setUp(err)
}

func (c *Cache) setUp(err error) {
	if err == nil {
		if !c.up.Swap(true) {
			c.log.Info("database reachable again: spend kept meanwhile is written", "engine", c.store.Engine())
		}
		return
	}
	msg := err.Error()
	c.lastErr.Store(&msg)
	if c.up.Swap(false) {
		c.downSince.Store(c.now().UnixMilli())
		c.log.Error("database unreachable: cached keys keep serving, spend is kept in memory until it answers", "engine", c.store.Engine(), "err", msg)
	}
}

// poll reloads everything when the version moved, else refreshes spend.
func (c *Cache) poll(ctx context.Context) error {
	v, err := c.store.Version(ctx)
	if err != nil {
		return err
	}
	if v != c.state.Load().version {
		v, rows, err := c.store.Rows(ctx)
		if err != nil {
			return err
		}
		c.rebuild(v, rows)
	} else if c.tracksSpend() {
		rows, err := c.store.Spends(ctx)
		if err != nil {
			return err
		}
		c.cmu.Lock()
		for _, r := range rows {
			if x := c.counters[counterID{r.Kind, r.ID}]; x != nil {
				c.observe(x, r)
			}
		}
		c.cmu.Unlock()
	}
	return nil
}

// flush writes the spend added since the last flush, and the spend
// logs, in one transaction. On failure both are kept for the next
// round.
// tracksSpend reports whether any record has a counter. With none (no
// key, user or team in the database: the embedded default) a spend poll
// has nothing to update, and skipping it halves an idle gateway's SQL.
func (c *Cache) tracksSpend() bool {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return len(c.counters) > 0
}

func (c *Cache) flush(ctx context.Context) error {
	c.cmu.Lock()
	var deltas []Delta
	var moved []*counter
	for _, x := range c.counters {
		if d := x.pending.Swap(0); d != 0 {
			x.writing.Add(d)
			deltas = append(deltas, Delta{x.kind, x.id, d})
			moved = append(moved, x)
		}
	}
	c.cmu.Unlock()
	logs := c.logs.take()
	if len(deltas) == 0 && len(logs) == 0 {
		return nil
	}
	if err := c.store.AddSpend(ctx, deltas, logs); err != nil {
		for i, x := range moved {
			x.writing.Add(-deltas[i].Spend)
			x.pending.Add(deltas[i].Spend)
		}
		c.logs.putBack(logs)
		return err
	}
	return nil
}

// resetBudgets starts a new period for every record whose period
// ended. Each replica tries; the store lets one win.
func (c *Cache) resetBudgets(ctx context.Context) error {
	now := c.now()
	st := c.state.Load()
	type due struct {
		kind     Kind
		id       string
		prev     int64
		duration *string
	}
	var todo []due
	for _, e := range st.byToken {
		if r := e.key.resetAt.Load(); r != 0 && now.UnixMilli() >= r {
			todo = append(todo, due{KindKey, e.Key.Token, r, e.Key.BudgetDuration})
		}
	}
	for _, u := range st.users {
		if x := c.peek(KindUser, u.UserID); x != nil && x.resetAt.Load() != 0 && now.UnixMilli() >= x.resetAt.Load() {
			todo = append(todo, due{KindUser, u.UserID, x.resetAt.Load(), u.BudgetDuration})
		}
	}
	for _, t := range st.teams {
		if x := c.peek(KindTeam, t.TeamID); x != nil && x.resetAt.Load() != 0 && now.UnixMilli() >= x.resetAt.Load() {
			todo = append(todo, due{KindTeam, t.TeamID, x.resetAt.Load(), t.BudgetDuration})
		}
	}
	for _, d := range todo {
		next := NextReset(d.duration, now)
		if err := c.store.ResetSpend(ctx, d.kind, d.id, d.prev, next); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		c.Kick()
	}
	return nil
}

func (c *Cache) peek(kind Kind, id string) *counter {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return c.counters[counterID{kind, id}]
}

// NextReset is when a budget period starting at now ends (Unix ms; 0
// without a budget_duration).
func NextReset(duration *string, now time.Time) int64 {
	if duration == nil || *duration == "" {
		return 0
	}
	d, err := ParseDuration(*duration)
	if err != nil {
		return 0
	}
	return now.Add(d).UnixMilli()
}
