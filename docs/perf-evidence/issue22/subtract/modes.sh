#!/bin/bash
# modes.sh BIN "ENV1" "ENV2" ... : each mode's cpu/up next to bare's, 2 rounds interleaved
cd /tmp/p23
BIN=$1; shift
for round in 1 2; do
for m in "$@"; do
  [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3
  env $m $BIN serve --config ${CFG:-llmedge.yaml} --host 127.0.0.1 --port 31903 $EXTRA > llmedge.log 2>&1 & echo $! > llmedge.pid
  sleep 0.8
  wrk -t1 -c64 -d1s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:31903/v1/chat/completions >/dev/null
  b=$(bash cpu.sh bare 31902 $(cat bare.pid) 3s | grep -o 'cpu/up=[0-9.]*' | cut -d= -f2)
  l=$(bash cpu.sh x 31903 $(cat llmedge.pid) 3s | grep -o 'cpu/up=[0-9.]*' | cut -d= -f2)
  echo "$m bare=$b llm=$l ratio=$(echo "scale=3; $l/$b" | bc)"
done; done
