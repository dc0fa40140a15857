package deploy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yaml with the Compose loader itself
// (schema-validated, interpolated as docker compose would) with the
// given profiles enabled.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  wd,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(wd, "docker-compose.yaml")}},
		Environment: types.Mapping{"LLMEDGE_MASTER_KEY": "sk-compose-test", "OPENAI_API_KEY": ""},
	}, loader.WithProfiles(profiles), func(o *loader.Options) { o.SetProjectName("llmedge", true) })
	if err != nil {
		t.Fatalf("docker-compose.yaml does not load: %v", err)
	}
	return p
}

// TestComposeFile loads the Compose file and checks it against llmedge:
// three replicas behind the load balancer, the Dockerfile's port, the
// drain timing, Redis for shared state, PostgreSQL only as a profile,
// the load balancer's health check on a real llmedge route (run against
// the binary with the file's command, config and environment).
func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	if _, err := p.GetService("postgres"); err == nil {
		t.Error("postgres runs without its profile: it must be optional (--profile keys)")
	}
	withKeys := loadCompose(t, "keys")
	if pg, err := withKeys.GetService("postgres"); err != nil || !slices.Contains(pg.Profiles, "keys") {
		t.Errorf("postgres: want a service in profile keys (%v)", err)
	}

	svc, err := p.GetService("llmedge")
	if err != nil {
		t.Fatal(err)
	}
	if svc.Deploy == nil || svc.Deploy.Replicas == nil || *svc.Deploy.Replicas != 3 {
		t.Errorf("llmedge: want deploy.replicas 3")
	}
	replicas := 3
	if svc.Deploy != nil && svc.Deploy.Replicas != nil {
		replicas = *svc.Deploy.Replicas
	}
	f := parseServeArgs(t, svc.Command)
	if exposed := dockerfilePort(t); f.port != exposed {
		t.Errorf("--port %d, Dockerfile EXPOSE %d", f.port, exposed)
	}
	if !slices.Contains(svc.Expose, strconv.Itoa(f.port)) {
		t.Errorf("llmedge exposes %v, not its --port %d", svc.Expose, f.port)
	}
	if svc.StopGracePeriod == nil {
		t.Error("no stop_grace_period: docker stops llmedge after 10 s, cutting streams --grace would let finish")
	} else if sg := time.Duration(*svc.StopGracePeriod); sg < f.grace+time.Second || sg > f.grace+15*time.Second {
		t.Errorf("stop_grace_period %v: want --grace %v plus a few seconds to exit", sg, f.grace)
	}

	// The config file: deploy/config.yaml mounted where --config reads.
	var cfgSource string
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == f.config {
			cfgSource = v.Source
		}
	}
	if want, _ := filepath.Abs("config.yaml"); cfgSource != want {
		t.Errorf("--config %s is mounted from %q, want %s", f.config, cfgSource, want)
	}
	env := map[string]string{}
	for k, v := range svc.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	cfgText, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, string(cfgText), env)
	if cfg.General.MasterKey != "sk-compose-test" {
		t.Error("the master key does not come from LLMEDGE_MASTER_KEY")
	}
	u, err := url.Parse(env["REDIS_URL"])
	if err != nil || u.Hostname() == "" {
		t.Fatalf("REDIS_URL %q", env["REDIS_URL"])
	}
	if _, err := p.GetService(u.Hostname()); err != nil {
		t.Errorf("REDIS_URL names %q, not a service of the file", u.Hostname())
	}
	if dep, ok := svc.DependsOn[u.Hostname()]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("llmedge does not wait for %s to be healthy", u.Hostname())
	}

	// The load balancer: one HAProxy server per replica, on llmedge's
	// port, checked on an llmedge health route.
	lb, err := p.GetService("lb")
	if err != nil {
		t.Fatal(err)
	}
	var lbCfg string
	for _, v := range lb.Volumes {
		if v.Target == "/usr/local/etc/haproxy/haproxy.cfg" {
			lbCfg = v.Source
		}
	}
	if lbCfg == "" {
		t.Fatal("lb: haproxy.cfg is not mounted")
	}
	hb, err := os.ReadFile(lbCfg)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*server-template\s+\S+\s+(\d+)\s+([\w.-]+):(\d+)\s`).FindSubmatch(hb)
	if m == nil {
		t.Fatal("haproxy.cfg: no server-template")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != replicas {
		t.Errorf("haproxy server-template has %d servers for %d replicas", n, replicas)
	}
	if string(m[2]) != "llmedge" || string(m[3]) != strconv.Itoa(f.port) {
		t.Errorf("haproxy sends to %s:%s, not llmedge:%d", m[2], m[3], f.port)
	}
	bind := regexp.MustCompile(`(?m)^\s*bind\s+\S*:(\d+)`).FindSubmatch(hb)
	published := false
	for _, port := range lb.Ports {
		if bind != nil && strconv.Itoa(int(port.Target)) == string(bind[1]) {
			published = true
		}
	}
	if !published {
		t.Errorf("lb publishes %v, not haproxy's bind port", lb.Ports)
	}
	chk := regexp.MustCompile(`(?m)^\s*option\s+httpchk\s+GET\s+(\S+)`).FindSubmatch(hb)
	if chk == nil || string(chk[1]) != "/health/readiness" {
		t.Fatalf("haproxy.cfg: want option httpchk GET /health/readiness")
	}
	runServe(t, svc.Command, string(cfgText), env, []string{string(chk[1])})
}
