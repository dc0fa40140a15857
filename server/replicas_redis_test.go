package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/testredis"
)

// Shared state over Redis as it is run at scale, each against real
// redis-servers the test starts: TLS only (rediss:// and ssl: true with
// ssl_ca_certs), Sentinel (sentinel_nodes + service_name, through a
// failover) and a three-node Cluster (redis_startup_nodes). Each shows
// through three gateways that a cooldown travels and that rpm and tpm
// limits hold exactly across them.

// sharedRig is the upstreams and keys those tests share: model m on
// one healthy and two flaky deployments (flaky[i] answers 401, which
// cools it down, once told to), model t on a deployment whose answers
// report exactly the tokens the gateway reserves for tpmBody, so a tpm
// window's count never depends on when a settlement lands.
type sharedRig struct {
	tok     *fakeOpenAI
	flaky   [2]*fakeOpenAI
	failing [2]atomic.Bool
	rpmKeys [2]string
	tpmKey  string
}

const tpmBody = `{"model":"t","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}`

// tpmReserve is the gateway's reservation for tpmBody
// (limits.EstimateTokens: body bytes / 4 + max_tokens).
const tpmReserve = len(tpmBody)/4 + 20

func newSharedRig(t *testing.T) *sharedRig {
	r := &sharedRig{tok: newFakeOpenAI(t), rpmKeys: [2]string{randomKey(t), randomKey(t)}, tpmKey: randomKey(t)}
	r.tok.setHandler(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":"t","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":20,"total_tokens":%d}}`,
			tpmReserve-20, tpmReserve)
	})
	for i := range r.flaky {
		r.flaky[i] = newFakeOpenAI(t)
		r.flaky[i].setHandler(func(w http.ResponseWriter, req *http.Request, body []byte) {
			if r.failing[i].Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":{"message":"invalid api key","type":"invalid_request_error","code":"invalid_api_key"}}`))
				return
			}
			answerJSON("ok")(w, req, body)
		})
	}
	return r
}

// config is the config of one replica whose router_settings name the
// Redis with redis (indented YAML lines).
func (r *sharedRig) config(redis string) string {
	return fmt.Sprintf(`model_list:
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-good}}
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-flaky0}}
  - {model_name: m, litellm_params: {model: openai/m, api_base: %q, api_key: k}, model_info: {id: m-flaky1}}
  - {model_name: t, litellm_params: {model: openai/t, api_base: %[1]q, api_key: k}, model_info: {id: t}}
general_settings:
  master_key: %[4]s
  api_keys: [{key: %[5]s, rpm_limit: 9}, {key: %[6]s, rpm_limit: 9}, {key: %[7]s, tpm_limit: %[8]d}]
router_settings:
%[9]s
  cooldown_time: 60
`, r.tok.base(), r.flaky[0].base(), r.flaky[1].base(), testMasterKey, r.rpmKeys[0], r.rpmKeys[1], r.tpmKey, 5*tpmReserve, redis)
}

// start starts one replica per Redis setting and waits until each
// shares: limits on Redis and every replica listed.
func (r *sharedRig) start(t *testing.T, redis ...string) []*replica {
	t.Helper()
	var reps []*replica
	for _, s := range redis {
		reps = append(reps, startReplica(t, r.config(s)))
	}
	waitShared(t, reps, 10*time.Second)
	return reps
}

// waitShared waits until every replica shares its limits and state on
// Redis and lists them all.
func waitShared(t *testing.T, reps []*replica, d time.Duration) {
	t.Helper()
	for i, rp := range reps {
		waitFor(t, d, fmt.Sprintf("replica %d sharing on Redis", i), func() bool {
			rd := rp.readiness(t)
			return rd.SharedState.Healthy && rd.RateLimits.Healthy && len(rd.Replicas) == len(reps)
		})
	}
}

// cooldownTravels makes flaky[i] fail, calls model m on reps[from]
// until it has cooled m-flaky<i> down, and checks every other replica
// honours the cooldown within a second.
func (r *sharedRig) cooldownTravels(t *testing.T, reps []*replica, from, i int) {
	t.Helper()
	id := fmt.Sprintf("m-flaky%d", i)
	r.failing[i].Store(true)
	for n := 0; n < 60 && !reps[from].cooling(id); n++ {
		rawPost(t, reps[from].gateway, "/v1/chat/completions", hostileBody(""), testMasterKey)
	}
	if !reps[from].cooling(id) {
		t.Fatalf("replica %d did not cool %s down after its 401", from, id)
	}
	cooled := time.Now()
	for j, rp := range reps {
		if j != from {
			waitFor(t, time.Second-time.Since(cooled), fmt.Sprintf("%s's cooldown seen by replica %d", id, j), func() bool { return rp.cooling(id) })
		}
	}
}

// limitsExact checks that rpmKeys[k] (rpm_limit 9) admits exactly 9 of
// 15 calls spread over the replicas, and, with tpm, that tpmKey
// (tpm_limit 5 calls' worth) admits exactly 5 of 8.
func (r *sharedRig) limitsExact(t *testing.T, reps []*replica, k int, tpm bool) {
	t.Helper()
	count := func(key string, n int) int {
		ok := 0
		for i := 0; i < n; i++ {
			switch x := rawPost(t, reps[i%len(reps)].gateway, "/v1/chat/completions", tpmBody, key); x.StatusCode {
			case 200:
				ok++
			case 429:
			default:
				t.Fatalf("status %d: %s", x.StatusCode, x.Body)
			}
		}
		return ok
	}
	awayFromMinuteEnd()
	if ok := count(r.rpmKeys[k], 15); ok != 9 {
		t.Fatalf("%d replicas admitted %d calls of a key with rpm_limit 9", len(reps), ok)
	}
	if tpm {
		if ok := count(r.tpmKey, 8); ok != 5 {
			t.Fatalf("%d replicas admitted %d calls of a key with tpm_limit %d (%d tokens each)", len(reps), ok, 5*tpmReserve, tpmReserve)
		}
	}
}

// TLS only (the server has no plaintext port), its certificate from a
// CA made by the test: LiteLLM's rediss:// URL and its redis_host +
// ssl: true, both with ssl_ca_certs. Without the CA the certificate is
// refused and the replica goes on alone.
func TestReplicasShareOverTLS(t *testing.T) {
	rd, ca := testredis.StartTLS(t)
	rig := newSharedRig(t)
	url := fmt.Sprintf("  redis_url: rediss://127.0.0.1:%s\n  ssl_ca_certs: %s", rd.Port, ca.BundlePath)
	hostSSL := fmt.Sprintf("  redis_host: 127.0.0.1\n  redis_port: %s\n  ssl: true\n  ssl_ca_certs: %s", rd.Port, ca.BundlePath)
	reps := rig.start(t, url, url, hostSSL)
	rig.cooldownTravels(t, reps, 2, 0)
	rig.limitsExact(t, reps, 0, true)

	untrusting := startReplica(t, rig.config(fmt.Sprintf("  redis_url: rediss://127.0.0.1:%s", rd.Port)))
	rawPost(t, untrusting.gateway, "/v1/chat/completions", tpmBody, rig.rpmKeys[1])
	waitFor(t, 3*time.Second, "a replica without the CA to refuse the certificate", func() bool {
		x := untrusting.readiness(t)
		return !x.RateLimits.Healthy && !x.SharedState.Healthy
	})
	if x := rawPost(t, untrusting.gateway, "/v1/chat/completions", tpmBody, rig.rpmKeys[1]); x.StatusCode != 200 {
		t.Fatalf("replica alone: %d %s", x.StatusCode, x.Body)
	}
}

// Sentinel: the replicas find the master through three Sentinels, and
// when it dies and the Sentinels promote its replica, they share again
// on the new master.
func TestReplicasShareOverSentinel(t *testing.T) {
	sn := testredis.StartSentinel(t, "llmedge-master")
	rig := newSharedRig(t)
	var nodes []string
	for _, a := range sn.Addrs() {
		h, p, _ := net.SplitHostPort(a)
		nodes = append(nodes, "["+h+", "+p+"]")
	}
	conf := "  sentinel_nodes: [" + strings.Join(nodes, ", ") + "]\n  service_name: llmedge-master"
	reps := rig.start(t, conf, conf, conf)
	rig.cooldownTravels(t, reps, 0, 0)
	rig.limitsExact(t, reps, 0, true)

	killed := time.Now()
	sn.KillMaster()
	promoted := time.Since(killed)
	waitShared(t, reps, 15*time.Second)
	t.Logf("master killed: replica promoted after %s, the gateways shared on it after %s", promoted.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	rig.cooldownTravels(t, reps, 1, 1)
	rig.limitsExact(t, reps, 1, false)
}

// Cluster: the limiter's and the health exchange's Lua scripts run on a
// real three-node Cluster (every key in the {llmedge} slot), found
// from one startup node.
func TestReplicasShareOverCluster(t *testing.T) {
	addrs := testredis.StartCluster(t)
	rig := newSharedRig(t)
	h, p, _ := net.SplitHostPort(addrs[1])
	conf := "  redis_startup_nodes: [{host: " + h + ", port: " + p + "}]"
	reps := rig.start(t, conf, conf, conf)
	rig.cooldownTravels(t, reps, 1, 0)
	rig.limitsExact(t, reps, 0, true)
}
