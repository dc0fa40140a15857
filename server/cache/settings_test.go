package cache

import (
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// loadCache loads a config file's litellm_settings through the config
// decoder, as the gateway does.
func loadCache(t *testing.T, litellm string) (Settings, error) {
	t.Helper()
	cfg, err := config.Parse([]byte("model_list: []\nlitellm_settings:\n"+litellm), config.Options{})
	if err != nil {
		return Settings{}, err
	}
	st, errs := Parse(&cfg.LiteLLM, env(map[string]string{"REDIS_HOST": "envhost", "REDIS_PORT": "7000", "REDIS_PASSWORD": "pw"}))
	if len(errs) > 0 {
		return st, errs
	}
	return st, nil
}

func TestParseCorpusShapes(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want func(Settings) bool
	}{
		{"  cache: true\n", func(s Settings) bool {
			return s.Enabled && s.Type == "local" && s.TTL == DefaultTTL && s.Scope == ScopeKey && s.MaxBytes == DefaultLocalBytes
		}},
		{"  cache: true\n  cache_params:\n    type: local\n    ttl: 300\n", func(s Settings) bool { return s.TTL == 300*time.Second }},
		{"  cache: true\n  cache_params:\n    type: redis\n    ttl: 10368000  # 120 days\n    host: \"127.0.0.1\"\n    port: \"6379\"\n",
			func(s Settings) bool { return s.Redis.Addr == "127.0.0.1:6379" && s.TTL == 10368000*time.Second }},
		{"  cache: true\n  cache_params:\n    type: redis\n    host: redis\n    port: 6379\n    ttl: 3600\n",
			func(s Settings) bool { return s.Redis.Addr == "redis:6379" }},
		{"  cache: true\n  cache_params:\n    type: disk\n    disk_cache_dir: ~/.litellm/cache\n    ttl: 3600\n",
			func(s Settings) bool {
				return strings.HasSuffix(s.Dir, "/.litellm/cache") && !strings.HasPrefix(s.Dir, "~") && s.MaxBytes == DefaultDiskBytes
			}},
		{"  cache: true\n  cache_params:\n    type: redis\n",
			func(s Settings) bool { return s.Redis.Addr == "envhost:7000" && s.Redis.Password == "pw" }},
		{"  cache: true\n  cache_params:\n    mode: default_off\n    scope: global\n    namespace: ns\n    supported_call_types: [acompletion, aembedding, atranscription]\n",
			func(s Settings) bool {
				return s.DefaultOff && s.Scope == ScopeGlobal && s.Namespace == "ns" && s.Routes == RouteChat|RouteEmbeddings
			}},
		{"  cache: true\n  cache_params:\n    type: redis\n    host: h\n    default_in_redis_ttl: 90\n", func(s Settings) bool { return s.TTL == 90*time.Second }},
	} {
		s, err := loadCache(t, c.yaml)
		if err != nil || !c.want(s) {
			t.Errorf("%s: %+v %v", c.yaml, s, err)
		}
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct{ params, path string }{
		{"type: s3", "cache_params.type"},
		{"ttl: -1", "cache_params.ttl"},
		{"ttl: soon", "cache_params.ttl"},
		{"type: redis", ""}, // REDIS_HOST is set in loadCache
		{"type: redis\n    host: h\n    port: x", "cache_params.port"},
		{"type: redis\n    url: http://h", "cache_params.url"},
		{"mode: sometimes", "cache_params.mode"},
		{"scope: team", "cache_params.scope"},
		{"supported_call_types: [completion, chat]", "cache_params.supported_call_types[1]"},
		{"max_bytes: 10", "cache_params.max_bytes"},
		{"similarity_threshold: 0.8", "cache_params.similarity_threshold"},
	} {
		_, err := loadCache(t, "  cache: true\n  cache_params:\n    "+c.params+"\n")
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: %v", c.params, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: %v, want an error naming %s", c.params, err, c.path)
		}
	}
	if _, errs := Parse(&config.LiteLLMSettings{Cache: true, CacheParams: &config.CacheParams{Type: "redis"}}, env(nil)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "cache_params.host") {
		t.Errorf("redis without host or REDIS_*: %v", errs)
	}
	if _, err := loadCache(t, "  cache: yes please\n"); err == nil || !strings.Contains(err.Error(), "litellm_settings.cache") {
		t.Errorf("cache: yes please: %v", err)
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
