#!/bin/bash
# ev.sh ROUNDS "A..." "B...": CPU per event (µs) and per upstream CPU, 1000 streams x 64 events, bare then A then B
cd /tmp/p23; R=$1; A=$2; B=$3
m() { pid=$2; up=$(cat perfup.pid); st0=$(awk '{print $14+$15}' /proc/$pid/stat); u0=$(awk '{print $14+$15}' /proc/$up/stat)
  /tmp/perf-bin/streamload -c 1000 -events 64 -ramp 1s -url http://127.0.0.1:$1/v1/chat/completions > sl.tmp 2>&1
  st1=$(awk '{print $14+$15}' /proc/$pid/stat); u1=$(awk '{print $14+$15}' /proc/$up/stat)
  ev=$(grep -o '"events": [0-9]*' sl.tmp | head -1 | grep -o '[0-9]*$'); lost=$(grep -o '"lost_events": [0-9]*' sl.tmp | grep -o '[0-9]*$')
  awk -v c=$((st1-st0)) -v u=$((u1-u0)) -v e=$ev -v l=$lost 'BEGIN{printf "cpu/event=%.1fus cpu/up=%.3f lost=%s", c*10000/e, c/u, l}'; }
st() { [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3; $@ serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 1; }
for r in $(seq $R); do
  line="bare $(m 31902 $(cat bare.pid))"
  if [ $((r%2)) = 1 ]; then st $A; a="$(m 31903 $(cat llmedge.pid))"; st $B; b="$(m 31903 $(cat llmedge.pid))"; else st $B; b="$(m 31903 $(cat llmedge.pid))"; st $A; a="$(m 31903 $(cat llmedge.pid))"; fi
  echo "$line | A $a | B $b"
done
