package server

import (
	"crypto/sha256"
	"strings"

	"github.com/llmedge/llmedge/keys"
	"github.com/llmedge/llmedge/server/limits"
)

// apiKey is one caller identity: the master key, an api_keys entry, or
// the anonymous caller of an open gateway. Only the key's SHA-256 is
// kept; its value never reaches a log, a metric or an error body (the
// name does).
type apiKey struct {
	digest keyDigest
	// name is api_keys[].name ("master" for the master key).
	name string
	// id names the key's rate-limit counters (shared through Redis by
	// every process with the same config): a keyed hash of the digest
	// (limits.CounterNamer), so the Redis keyspace does not reveal the key.
	id string
	// all is true when the key may use every model; else models and
	// prefixes ("openai/*" entries) say which.
	all      bool
	models   map[string]struct{}
	prefixes []string
	// sc is the key's limiter scope (nil when it has no limits).
	sc *limits.Scope
	// userID is the memory user id the key is bound to
	// (api_keys[].user_id): it always acts as that user. Else
	// userPrefix ("<name>:") namespaces the ids its requests name; the
	// master key and the anonymous caller have neither and act for any
	// user (memory.go).
	userID     []byte
	userPrefix []byte
	// entry is the database record of a virtual key (nil for the
	// master key and api_keys): its budgets and spend (dbkeys.go).
	entry *keys.Entry
	// modelsJSON is GET /v1/models for a key limited to some models
	// (nil: the full list).
	modelsJSON []byte
}

func newAPIKey(value, name string, models []string, lim limits.Quota, names *limits.CounterNamer) *apiKey {
	return newAPIKeyDigest(sha256.Sum256([]byte(value)), name, models, lim, names)
}

func newAPIKeyDigest(d keyDigest, name string, models []string, lim limits.Quota, names *limits.CounterNamer) *apiKey {
	k := &apiKey{digest: d, name: name}
	k.id = names.Name('k', k.digest[:])
	k.all = models == nil
	k.models = map[string]struct{}{}
	for _, m := range models {
		switch {
		case m == "*" || m == "all-proxy-models":
			k.all = true
		case strings.HasSuffix(m, "*"):
			k.prefixes = append(k.prefixes, strings.TrimSuffix(m, "*"))
		default:
			k.models[m] = struct{}{}
		}
	}
	if lim.Any() {
		k.sc = limits.NewScope(k.id, lim)
	}
	return k
}

// allows reports whether the key may use model (the name the client
// asked for). It allocates nothing.
func (k *apiKey) allows(model []byte) bool {
	if k.all {
		return true
	}
	if _, ok := k.models[string(model)]; ok {
		return true
	}
	for _, p := range k.prefixes {
		if len(model) >= len(p) && string(model[:len(p)]) == p {
			return true
		}
	}
	return false
}

// newAuthenticatorFrom builds the key table from the master key and
// api_keys.
func newAuthenticatorFrom(masterKey string, keys []keyConf) *authenticator {
	values := make([]string, len(keys))
	for i, kc := range keys {
		values[i] = kc.key
	}
	a := &authenticator{names: limits.NewCounterNamer(masterKey, values)}
	if masterKey == "" && len(keys) == 0 {
		a.open = true
		a.anon = newAPIKey("", "anonymous", nil, limits.Quota{}, &a.names)
		return a
	}
	if masterKey != "" {
		a.master = newAPIKey(masterKey, "master", nil, limits.Quota{}, &a.names)
		a.keys = append(a.keys, a.master)
	}
	for _, kc := range keys {
		k := newAPIKey(kc.key, kc.name, kc.models, kc.lim, &a.names)
		if kc.userID != "" {
			k.userID = []byte(kc.userID)
		} else {
			k.userPrefix = []byte(kc.name + ":")
		}
		a.keys = append(a.keys, k)
	}
	return a
}
