package cache

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseCorpusShapes(t *testing.T) {
	for _, c := range []struct {
		ls   map[string]any
		want func(Settings) bool
	}{
		{map[string]any{"cache": true}, func(s Settings) bool {
			return s.Enabled && s.Type == "local" && s.TTL == DefaultTTL && s.Scope == ScopeKey && s.MaxBytes == DefaultLocalBytes
		}},
		{map[string]any{"cache": true, "cache_params": map[string]any{"type": "local", "ttl": 300}}, func(s Settings) bool { return s.TTL == 300*time.Second }},
		{map[string]any{"cache": true, "cache_params": map[string]any{"type": "redis", "host": "127.0.0.1", "port": "6379", "ttl": 10368000}},
			func(s Settings) bool { return s.Redis.Addr == "127.0.0.1:6379" && s.TTL == 10368000*time.Second }},
		{map[string]any{"cache": true, "cache_params": map[string]any{"type": "redis", "host": "redis", "port": 6379, "ttl": 3600}},
			func(s Settings) bool { return s.Redis.Addr == "redis:6379" }},
		{map[string]any{"cache": true, "cache_params": map[string]any{"type": "disk", "disk_cache_dir": "~/.litellm/cache", "ttl": 3600}},
			func(s Settings) bool {
				return strings.HasSuffix(s.Dir, "/.litellm/cache") && !strings.HasPrefix(s.Dir, "~") && s.MaxBytes == DefaultDiskBytes
			}},
		{map[string]any{"cache": true, "cache_params": map[string]any{"type": "redis"}},
			func(s Settings) bool { return s.Redis.Addr == "envhost:7000" && s.Redis.Password == "pw" }},
		{map[string]any{"cache": true, "cache_params": map[string]any{"mode": "default_off", "scope": "global", "namespace": "ns",
			"supported_call_types": []any{"acompletion", "aembedding", "atranscription"}}},
			func(s Settings) bool {
				return s.DefaultOff && s.Scope == ScopeGlobal && s.Namespace == "ns" && s.Routes == RouteChat|RouteEmbeddings
			}},
	} {
		s, _, errs := Parse(c.ls, env(map[string]string{"REDIS_HOST": "envhost", "REDIS_PORT": "7000", "REDIS_PASSWORD": "pw"}))
		if len(errs) != 0 || !c.want(s) {
			t.Errorf("%v: %+v %v", c.ls, s, errs)
		}
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct {
		p    map[string]any
		path string
	}{
		{map[string]any{"type": "s3"}, "cache_params.type"},
		{map[string]any{"ttl": -1}, "cache_params.ttl"},
		{map[string]any{"ttl": "soon"}, "cache_params.ttl"},
		{map[string]any{"type": "redis"}, "cache_params.host"},
		{map[string]any{"type": "redis", "host": "h", "port": "x"}, "cache_params.port"},
		{map[string]any{"type": "redis", "url": "http://h"}, "cache_params.url"},
		{map[string]any{"mode": "sometimes"}, "cache_params.mode"},
		{map[string]any{"scope": "team"}, "cache_params.scope"},
		{map[string]any{"supported_call_types": []any{"completion", "chat"}}, "cache_params.supported_call_types[1]"},
		{map[string]any{"max_bytes": 10}, "cache_params.max_bytes"},
	} {
		_, _, errs := Parse(map[string]any{"cache": true, "cache_params": c.p}, env(nil))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.path) {
			t.Errorf("%v: %v, want one error naming %s", c.p, errs, c.path)
		}
	}
	_, ign, errs := Parse(map[string]any{"cache": true, "cache_params": map[string]any{"similarity_threshold": 0.8}}, env(nil))
	if len(errs) != 0 || len(ign) != 1 || ign[0] != "litellm_settings.cache_params.similarity_threshold" {
		t.Errorf("unknown key: %v %v", ign, errs)
	}
	if _, _, errs := Parse(map[string]any{"cache": "yes"}, env(nil)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "litellm_settings.cache") {
		t.Errorf("cache: yes: %v", errs)
	}
}

func TestParseControl(t *testing.T) {
	c, bad := ParseControl([]byte(`{"model":"m","cache":{"no-cache":true,"ttl":30,"s-maxage":5,"namespace":"team-a"}}`), []byte("No-Store, max-age=0"))
	if bad != nil || !c.NoCache || !c.NoStore || c.TTL != 30*time.Second || c.MaxAge != 5*time.Second || string(c.Namespace) != "team-a" {
		t.Fatalf("%+v %v", c, bad)
	}
	for body, param := range map[string]string{
		`{"cache":true}`:                   "cache",
		`{"cache":{"no-store":"yes"}}`:     "cache.no-store",
		`{"cache":{"ttl":-3}}`:             "cache.ttl",
		`{"cache":{"namespace":3}}`:        "cache.namespace",
		`{"cache":{"s-maxage":"a while"}}`: "cache.s-maxage",
	} {
		if _, bad := ParseControl([]byte(body), nil); bad == nil || bad.Param != param {
			t.Errorf("%s: %v, want %s", body, bad, param)
		}
	}
	body := []byte(`{"model":"m","cache":{"no-cache":true,"ttl":30}}`)
	if !raceEnabled {
		if n := testing.AllocsPerRun(100, func() { ParseControl(body, []byte("no-cache")) }); n != 0 {
			t.Fatalf("ParseControl allocates %v times", n)
		}
	}
}
