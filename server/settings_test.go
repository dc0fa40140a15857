package server

import (
	"encoding/json"
	"github.com/llmedge/llmedge/server/limits"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
)

// The settings as the real loader hands them over: YAML types,
// os.environ references resolved inside api_keys entries.
func TestEdgeSettingsFromYAML(t *testing.T) {
	yaml := `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: sk-deployment-secret-123}
general_settings:
  master_key: sk-1234
  api_keys:
    - {key: os.environ/TEAM_A_KEY, name: team-a, models: [gpt-4o, claude-sonnet-4.5],
       rpm_limit: 600, tpm_limit: 200000, max_parallel_requests: 20}
    - key: os.environ/TEAM_B_KEY
  max_parallel_requests: 100
  global_max_parallel_requests: 50
  user_rpm_limit: 60
  cors_allow_origins: [https://app.example.com]
  max_request_size_mb: 8
  http_read_timeout: 30
  http_idle_timeout: 90s
  max_header_bytes: 32768
  max_connections_per_ip: 64
router_settings:
  redis_host: os.environ/REDIS_HOST
  redis_port: 6390
  redis_password: os.environ/REDIS_PASSWORD
`
	env := map[string]string{"TEAM_A_KEY": "sk-team-a-value-0001", "TEAM_B_KEY": "sk-team-b-value-0002", "REDIS_HOST": "10.0.0.5", "REDIS_PASSWORD": "redis-pass-xyz"}
	cfg, err := config.Parse([]byte(yaml), config.Options{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	for _, ig := range cfg.Ignored {
		if strings.HasPrefix(ig, "general_settings.") || strings.HasPrefix(ig, "router_settings.") {
			t.Errorf("loader reports %s as ignored", ig)
		}
	}
	st, err := parseEdgeSettings(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.keys) != 2 || st.keys[0].key != "sk-team-a-value-0001" || st.keys[0].name != "team-a" ||
		st.keys[0].lim != (limits.Quota{RPM: 600, TPM: 200000, Parallel: 20}) || len(st.keys[0].models) != 2 ||
		st.keys[1].models != nil || st.keys[1].name != "key-1" {
		t.Fatalf("keys: %+v", st.keys)
	}
	if st.globalParallel != 50 || st.userLimits.RPM != 60 || st.corsOrigins[0] != "https://app.example.com" ||
		st.maxBody != 8<<20 || st.readTimeout != 30*time.Second || st.idleTimeout != 90*time.Second ||
		st.maxHeaderBytes != 32768 || st.maxConnsPerIP != 64 {
		t.Fatalf("settings: %+v", st)
	}
	if st.redis.Addrs != "10.0.0.5:6390" || st.redis.Password != "redis-pass-xyz" {
		t.Fatalf("redis: %+v", st.redis)
	}
	secrets := strings.Join(collectSecrets(cfg, st), " ")
	for _, s := range []string{"sk-1234", "sk-team-a-value-0001", "sk-team-b-value-0002", "redis-pass-xyz", "sk-deployment-secret-123"} {
		if !strings.Contains(secrets, s) {
			t.Errorf("%s not among the scrubbed secrets", s)
		}
	}
}

func TestEmptyKeyEntrySkipped(t *testing.T) {
	cfg := limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": "", "name": "unset"}, map[string]any{"key": "sk-valid-key-123"}}})
	st, err := parseEdgeSettings(cfg)
	if err != nil || len(st.keys) != 1 || len(st.warnings) != 1 || !strings.Contains(st.warnings[0], "api_keys[0].key is empty") {
		t.Fatalf("%v %+v", err, st)
	}
}

func TestRedisURLChecked(t *testing.T) {
	cfg := limitsConfig(nil)
	setSettings(cfg, "router_settings", map[string]any{"redis_url": "http://user:hunter2secret@host"})
	err := CheckConfig(cfg)
	if err == nil || !strings.Contains(err.Error(), "router_settings.redis_url") || strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("%v", err)
	}
	setSettings(cfg, "router_settings", map[string]any{"redis_url": "redis://:pw@127.0.0.1:6379/2"})
	if err := CheckConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

// A key's name namespaces its memory user ids: two keys with one name
// (or a name with ':') could reach each other's users.
func TestKeyNamesUniqueAndUserIDChecked(t *testing.T) {
	cfg := limitsConfig(map[string]any{"api_keys": []any{
		map[string]any{"key": "sk-one-0123456789", "name": "team"},
		map[string]any{"key": "sk-two-0123456789", "name": "team"},
		map[string]any{"key": "sk-three-0123456789", "name": "a:b"},
		map[string]any{"key": "sk-four-0123456789", "user_id": "a\x01b"},
	}})
	err := CheckConfig(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"api_keys[1].name: same name as api_keys[0]", "api_keys[2].name", "api_keys[3].user_id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// setSettings replaces one settings section of cfg (general_settings,
// litellm_settings or router_settings) with m, read by the real loader
// (JSON is YAML), so tests can write settings as map literals. A
// general_settings without master_key keeps cfg's.
func setSettings(cfg *config.Config, section string, m map[string]any) {
	data, err := json.Marshal(map[string]any{section: m})
	if err != nil {
		panic(err)
	}
	parsed, err := config.Parse(data, config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		panic(err)
	}
	switch section {
	case "general_settings":
		mk := cfg.General.MasterKey
		cfg.General = parsed.General
		if cfg.General.MasterKey == "" {
			cfg.General.MasterKey = mk
		}
	case "litellm_settings":
		cfg.LiteLLM = parsed.LiteLLM
	case "router_settings":
		cfg.Router = parsed.Router
	default:
		panic("setSettings: no section " + section)
	}
}
