// Package replicas owns what llmedge replicas share through Redis
// besides the rate limits: the Redis connection as LiteLLM's settings
// name it (redis_url / redis_host, TLS, Sentinel, Cluster; also used by
// the limits), deployment health (cooldowns, failure counts, usage:
// the Redis side of upstream.SharedHealth), config reloads announced to
// every replica, and which config version each replica runs.
//
// Every key lives in the {llmedge} hash slot, so every script runs on
// Redis Cluster. Redis unreachable: each replica goes on with its own
// state, logs it once, and picks the shared state up again when Redis
// answers. It must not touch HTTP, the limits' logic or provider wire
// formats.
package replicas
