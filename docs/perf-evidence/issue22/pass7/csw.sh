#!/bin/bash
# csw.sh BIN...: context switches of llmedge's threads and sysmon's per request under wrk -c64 3s
for b in "$@"; do
  kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3
  (./$b serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid); sleep 0.8
  pid=$(cat llmedge.pid)
  wrk -t1 -c64 -d1s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:31903/v1/chat/completions >/dev/null
  cs() { cat /proc/$pid/task/*/status | awk '/ctxt_switches/{s+=$2} END{print s}'; }
  a=$(cs); st0=$(awk '{print $14+$15}' /proc/$pid/stat)
  wrk -t1 -c64 -d3s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:31903/v1/chat/completions > wrk.csw
  b2=$(cs); st1=$(awk '{print $14+$15}' /proc/$pid/stat)
  r=$(grep -o '"requests":[0-9]*' wrk.csw | cut -d: -f2)
  awk -v n=$b -v r=$r -v c=$((b2-a)) -v t=$((st1-st0)) 'BEGIN{printf "%-10s req=%d csw/req=%.3f cpu/req=%.1fus\n", n, r, c/r, t*10000/r}'
done
