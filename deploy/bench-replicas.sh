#!/usr/bin/env bash
# Three llmedge replicas behind HAProxy vs one, on this machine, in one run.
#
#   deploy/bench-replicas.sh [ROUNDS] [SECONDS] [CONCURRENCY]   (defaults 3 10 32)
#
# Needs go, redis-server and haproxy (apt-get install -y haproxy). Everything
# listens on loopback ports picked at start, with temporary files; nothing is
# left running. Started: a fake upstream (llmedge bench upstream, answers at
# once), a redis-server of its own, three replicas sharing it (rate limits,
# cooldowns, usage: router_settings.redis_*; a key with an rpm limit too high
# to refuse, so every request runs the limiter's script on Redis), and one
# HAProxy with two frontends: "three" balances over the three replicas
# (leastconn, as deploy/haproxy.cfg), "one" sends everything to replica 1.
# "direct" is replica 1 without HAProxy. Each round runs every lane once
# (closed loop, llmedge bench run), rotating which goes first; the figures
# are requests/s over all rounds and the median over rounds of p50 and p99.
# Load generator, upstream, HAProxy, Redis and replicas share the machine's
# cores: ratios between lanes, not capacity.
set -euo pipefail
rounds=${1:-3} secs=${2:-10} conc=${3:-32}
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
for bin in go redis-server haproxy; do
  command -v "$bin" >/dev/null || { echo "$bin is needed" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

go build -o "$tmp/llmedge" .
up=$(freeport); rport=$(freeport); one=$(freeport); three=$(freeport)
"$tmp/llmedge" bench upstream --addr "127.0.0.1:$up" >"$tmp/upstream.log" 2>&1 & pids+=($!)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 & pids+=($!)
waitport "$up"; waitport "$rport"
key=sk-bench-replicas-$RANDOM$RANDOM
cat >"$tmp/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params: {model: openai/bench-model, api_base: http://127.0.0.1:$up/v1, api_key: sk-fake}
general_settings:
  master_key: sk-bench-master
  api_keys: [{key: $key, rpm_limit: 100000000}]
router_settings: {redis_host: 127.0.0.1, redis_port: $rport}
YAML
ports=()
for i in 1 2 3; do
  p=$(freeport); ports+=("$p")
  "$tmp/llmedge" serve --config "$tmp/config.yaml" --host 127.0.0.1 --port "$p" >"$tmp/replica$i.log" 2>&1 & pids+=($!)
done
for p in "${ports[@]}"; do waitport "$p"; done
cat >"$tmp/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend three
  bind 127.0.0.1:$three
  default_backend three
frontend one
  bind 127.0.0.1:$one
  default_backend one
backend three
  balance leastconn
  server r1 127.0.0.1:${ports[0]}
  server r2 127.0.0.1:${ports[1]}
  server r3 127.0.0.1:${ports[2]}
backend one
  server r1 127.0.0.1:${ports[0]}
CFG
haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 & pids+=($!)
waitport "$one"; waitport "$three"

declare -A target=([direct]="http://127.0.0.1:${ports[0]}" [one]="http://127.0.0.1:$one" [three]="http://127.0.0.1:$three")
lanes=(three one direct)
run() { "$tmp/llmedge" bench run --target "${target[$1]}" --model bench --api-key "$key" --concurrency "$conc" --duration "$2" --json; }
for l in "${lanes[@]}"; do run "$l" 2s >/dev/null; done # warm-up
for r in $(seq "$rounds"); do
  for k in 0 1 2; do
    l=${lanes[$(((r + k) % 3))]}
    run "$l" "${secs}s" >"$tmp/$l.$r.json"
    echo "round $r $l: $(jq -r '"\(.throughput_rps|floor) req/s, p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, errors \(.errors)"' "$tmp/$l.$r.json")" >&2
  done
done
echo "requests each replica served, all lanes (its access log):" >&2
for i in 1 2 3; do echo "  replica $i: $(grep -c 'msg=request ' "$tmp/replica$i.log" || true)" >&2; done

printf '%-7s %10s %9s %9s %7s\n' lane 'req/s' 'p50 ms' 'p99 ms' errors
for l in three one direct; do
  jq -s -r --arg l "$l" '
    def median: sort | .[length/2|floor];
    "\($l) \((map(.ok)|add) / (map(.elapsed_s)|add) | floor) \(map(.latency_ms.p50)|median) \(map(.latency_ms.p99)|median) \(map(.errors)|add)"' \
    "$tmp/$l".*.json | xargs printf '%-7s %10s %9s %9s %7s\n'
done
