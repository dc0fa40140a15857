#!/bin/bash
# latab.sh RATE ROUNDS "A..." ["B..."]: p50/p99 (µs) direct, bare, A (, B), vegeta 5s each, interleaved
cd /tmp/p23; RATE=$1; R=$2; A=$3; B=$4
v() { echo "POST http://127.0.0.1:$1/v1/chat/completions" | /tmp/perf-bin/vegeta attack -rate $RATE -duration 5s -body /work/shared/perf/body.json -header "Authorization: Bearer sk-master" -header "Content-Type: application/json" | /tmp/perf-bin/vegeta report -type=json | python3 -c "import json,sys; d=json.load(sys.stdin)['latencies']; print('%d/%d'%(d['50th']/1000, d['99th']/1000))"; }
st() { [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3; $@ serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 1; }
for r in $(seq $R); do
  line="direct $(v 31901) bare $(v 31902)"
  st $A; line="$line A $(v 31903)"
  [ -n "$B" ] && { st $B; line="$line B $(v 31903)"; }
  echo "$line"
done
