#!/bin/bash
# low2.sh RATE ROUNDS "A..." "B...": CPU and context switches per request at an open-loop rate, bare then A then B
cd /tmp/p23; RATE=$1; R=$2; A=$3; B=$4
m() { pid=$2; c0=$(cat /proc/$pid/task/*/status | awk '/ctxt/{s+=$2} END{print s}'); st0=$(awk '{print $14+$15}' /proc/$pid/stat)
  lat=$(echo "POST http://127.0.0.1:$1/v1/chat/completions" | /tmp/perf-bin/vegeta attack -rate $RATE -duration 5s -body /work/shared/perf/body.json -header "Authorization: Bearer sk-master" -header "Content-Type: application/json" | /tmp/perf-bin/vegeta report -type=json | python3 -c "import json,sys; d=json.load(sys.stdin)['latencies']; print('p50=%d p99=%d'%(d['50th']/1000, d['99th']/1000))")
  c1=$(cat /proc/$pid/task/*/status | awk '/ctxt/{s+=$2} END{print s}'); st1=$(awk '{print $14+$15}' /proc/$pid/stat); n=$((RATE*5))
  echo "cs/req=$(echo "scale=2;($c1-$c0)/$n"|bc) cpu/req=$(( (st1-st0)*10000000/n/1000 ))us $lat"; }
st() { [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3; $@ serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 1; }
for r in $(seq $R); do
  echo "bare $(m 31902 $(cat bare.pid))"
  st $A; echo "A    $(m 31903 $(cat llmedge.pid))"
  st $B; echo "B    $(m 31903 $(cat llmedge.pid))"
done
