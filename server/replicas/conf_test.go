package replicas

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
)

// confFrom loads router_settings text with llmedge's config loader and
// reads its Redis keys; err is the loader's error or ParseConf's.
func confFrom(t *testing.T, router string) (Conf, error) {
	t.Helper()
	cfg, err := config.Parse([]byte("router_settings:\n"+router), config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return Conf{}, err
	}
	c, errs := ParseConf(&cfg.Router, "router_settings")
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// Bad Redis settings are refused with an error naming the key, and never
// quoting a password.
func TestParseConfErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ router, key string }{
		{"  redis_host: h\n  redis_port: nope\n", "router_settings.redis_port"},
		{"  redis_url: http://u:hunter2secret@h\n", "router_settings.redis_url"},
		{"  redis_startup_nodes: h:1\n", "router_settings.redis_startup_nodes"},
		{"  redis_startup_nodes: [{port: 1}]\n", "router_settings.redis_startup_nodes[0]"},
		{"  sentinel_nodes: [[s, 26379]]\n", "router_settings.service_name"},
		{"  sentinel_nodes: [[s]]\n  service_name: m\n", "router_settings.sentinel_nodes[0]"},
		{"  service_name: mymaster\n", "router_settings.service_name"},
		{"  redis_host: h\n  ssl: maybe\n", "router_settings.ssl"},
		{"  redis_host: h\n  ssl: true\n  ssl_ca_certs: /nonexistent/ca.pem\n", "router_settings.ssl_ca_certs"},
		{"  redis_url: redis://h:1\n  redis_startup_nodes: [{host: a, port: 1}]\n", "router_settings.redis_url"},
	} {
		_, err := confFrom(t, tc.router)
		if err == nil || !strings.Contains(err.Error(), tc.key) || strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("%q: error %v, want one naming %s", tc.router, err, tc.key)
		}
	}
}

func TestParseConfForms(t *testing.T) {
	c, err := confFrom(t, "  sentinel_nodes: [[s1, 26379], [s2, \"26380\"]]\n  service_name: mymaster\n  ssl: true\n")
	if err != nil || c.Addrs != "s1:26379,s2:26380" || c.MasterName != "mymaster" || !c.TLS {
		t.Fatalf("sentinel: %+v %v", c, err)
	}
	c, err = confFrom(t, "  redis_url: rediss://:pw@cache:6380/1\n")
	if err != nil || !c.TLS || c.Where() != "cache:6380" || !strings.Contains(strings.Join(c.Secrets(), " "), "pw") {
		t.Fatalf("rediss: %+v %v", c, err)
	}
	c, err = confFrom(t, "  redis_startup_nodes: [{host: 10.0.0.1, port: \"7001\"}, {host: 10.0.0.2}]\n")
	if err != nil || !c.Cluster || c.Addrs != "10.0.0.1:7001,10.0.0.2:6379" {
		t.Fatalf("cluster: %+v %v", c, err)
	}
}
