#!/bin/bash
# conc3.sh ROUNDS: cpu÷upstream of bare, llmedge (:31903) and a variant (:31904, PID in touch.pid) at -c8 and -c64
cd /tmp/p23
for r in $(seq $1); do for c in 8 64; do line="c$c"; for t in "bare 31902 $(cat bare.pid)" "main 31903 $(cat llmedge.pid)" "var 31904 $(cat touch.pid)"; do set -- $t
  up=$(cat perfup.pid); st0=$(awk '{print $14+$15}' /proc/$3/stat); u0=$(awk '{print $14+$15}' /proc/$up/stat)
  wrk -t1 -c$c -d3s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$2/v1/chat/completions > w.tmp
  st1=$(awk '{print $14+$15}' /proc/$3/stat); u1=$(awk '{print $14+$15}' /proc/$up/stat); n=$(grep -o '"requests":[0-9]*' w.tmp | cut -d: -f2)
  line="$line $(awk -v t=$1 -v n=$n -v a=$((st1-st0)) -v u=$((u1-u0)) 'BEGIN{printf "%s %.1fus %.3f", t, a*1e4/n, a/u}')"; done; echo "$line"; done; done
