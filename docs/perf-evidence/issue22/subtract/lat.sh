#!/bin/bash
# lat.sh RATE ROUNDS BIN...: p50/p99 (µs) of bare and each llmedge binary, interleaved, vegeta 5 s open loop
cd /tmp/p23; RATE=$1; R=$2; shift 2
v() { echo "POST http://127.0.0.1:$1/v1/chat/completions" | /tmp/perf-bin/vegeta attack -rate $RATE -duration 5s -body /work/shared/perf/body.json -header "Authorization: Bearer sk-master" -header "Content-Type: application/json" | /tmp/perf-bin/vegeta report -type=json | python3 -c "import json,sys; d=json.load(sys.stdin)['latencies']; print('%d %d'%(d['50th']/1000, d['99th']/1000))"; }
for r in $(seq $R); do
  line="bare $(v 31902)"
  for b in "$@"; do
    [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3
    $b serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 0.8
    line="$line | $(basename $b) $(v 31903)"
  done
  echo "$line"
done
