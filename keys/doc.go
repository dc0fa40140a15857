// Package keys owns llmedge's database-backed virtual keys: LiteLLM's
// key, user and team records, their budgets and spend, the SQL store
// they live in (embedded SQLite or PostgreSQL, versioned migrations at
// startup), the in-memory cache the request path reads them from, the
// spend accumulator that writes spend in batches, and LiteLLM's
// management API (/key/*, /user/*, /team/*, /spend/logs).
//
// The request path never waits on the database: Cache.Lookup and
// Budget checks read memory only; a background loop polls the store's
// change version (so a change made by any replica is seen within
// PollInterval) and flushes spend. With the limits' Redis
// (Cache.UseRedis) spend is also counted there (redisspend.go), so
// budgets hold across replicas within RedisRefresh, still without a
// round trip per request.
//
// It must not know about routing, providers or HTTP handling outside
// its management routes; the server calls it to authenticate, check
// budgets and add spend.
package keys
