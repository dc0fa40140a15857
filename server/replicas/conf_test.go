package replicas

import (
	"strings"
	"testing"
)

// Bad Redis settings are refused with an error naming the key, and never
// quoting a password.
func TestParseConfErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		raw map[string]any
		key string
	}{
		{map[string]any{"redis_host": "h", "redis_port": "nope"}, "router_settings.redis_port"},
		{map[string]any{"redis_url": "http://u:hunter2secret@h"}, "router_settings.redis_url"},
		{map[string]any{"redis_startup_nodes": "h:1"}, "router_settings.redis_startup_nodes"},
		{map[string]any{"redis_startup_nodes": []any{map[string]any{"port": 1}}}, "router_settings.redis_startup_nodes[0]"},
		{map[string]any{"sentinel_nodes": []any{[]any{"s", 26379}}}, "router_settings.service_name"},
		{map[string]any{"service_name": "mymaster"}, "router_settings.service_name"},
		{map[string]any{"redis_host": "h", "ssl": "maybe"}, "router_settings.ssl"},
		{map[string]any{"redis_host": "h", "ssl": true, "ssl_ca_certs": "/nonexistent/ca.pem"}, "router_settings.ssl_ca_certs"},
	} {
		_, errs := ParseConf(tc.raw, "router_settings")
		if len(errs) == 0 || !strings.Contains(errs.Error(), tc.key) || strings.Contains(errs.Error(), "hunter2secret") {
			t.Errorf("%v: errors %v, want one naming %s", tc.raw, errs, tc.key)
		}
	}
}

func TestParseConfForms(t *testing.T) {
	c, errs := ParseConf(map[string]any{"sentinel_nodes": []any{[]any{"s1", 26379}, []any{"s2", "26380"}}, "service_name": "mymaster", "ssl": true}, "router_settings")
	if len(errs) > 0 || c.Addrs != "s1:26379,s2:26380" || c.MasterName != "mymaster" || !c.TLS {
		t.Fatalf("sentinel: %+v %v", c, errs)
	}
	c, errs = ParseConf(map[string]any{"redis_url": "rediss://:pw@cache:6380/1"}, "router_settings")
	if len(errs) > 0 || !c.TLS || c.Where() != "cache:6380" || !strings.Contains(strings.Join(c.Secrets(), " "), "pw") {
		t.Fatalf("rediss: %+v %v", c, errs)
	}
}
