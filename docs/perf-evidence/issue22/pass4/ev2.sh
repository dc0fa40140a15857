#!/bin/bash
# ev2.sh "A..." "B..." ROUNDS [EVENTS]: CPU per streamed event (cpu/up), 1000 streams, bare + A + B per round, order alternating; medians
cd /tmp/p23; A=$1; B=$2; R=${3:-6}; E=${4:-128}
m() { pid=$2; up=$(cat perfup.pid); st0=$(awk '{print $14+$15}' /proc/$pid/stat); u0=$(awk '{print $14+$15}' /proc/$up/stat)
  /tmp/perf-bin/streamload -c 1000 -events $E -ramp 1s -url http://127.0.0.1:$1/v1/chat/completions > sl.tmp 2>&1
  st1=$(awk '{print $14+$15}' /proc/$pid/stat); u1=$(awk '{print $14+$15}' /proc/$up/stat)
  lost=$(grep -o '"lost_events": [0-9]*' sl.tmp | grep -o '[0-9]*$'); [ "$lost" = 0 ] || echo "LOST $lost" >&2
  awk -v c=$((st1-st0)) -v u=$((u1-u0)) 'BEGIN{printf "%.4f", c/u}'; }
st() { [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3; $@ serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 1; /tmp/perf-bin/streamload -c 200 -events 8 -ramp 0s -url http://127.0.0.1:31903/v1/chat/completions >/dev/null 2>&1; }
: > ev.out
for r in $(seq $R); do
  b=$(m 31902 $(cat bare.pid))
  if [ $((r%2)) = 1 ]; then st $A; a=$(m 31903 $(cat llmedge.pid)); st $B; bb=$(m 31903 $(cat llmedge.pid)); else st $B; bb=$(m 31903 $(cat llmedge.pid)); st $A; a=$(m 31903 $(cat llmedge.pid)); fi
  echo "$b $a $bb" | tee -a ev.out
done
python3 -c "
import statistics as s
rows=[list(map(float,l.split())) for l in open('/tmp/p23/ev.out')]
b,a,c=[s.median(x) for x in zip(*rows)]
print('median bare=%.3f A=%.3f (%.3f) B=%.3f (%.3f)  B/A=%.3f; B<A in %d of %d rounds'%(b,a,a/b,c,c/b,c/a,sum(r[2]<r[1] for r in rows),len(rows)))
"
