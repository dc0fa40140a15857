#!/bin/bash
# evpair.sh "A..." "B..." ROUNDS [STREAMS]: A and B run side by side (ports 31903/31904, swapped each round),
# each under its own streamload of STREAMS streams x 64 events at the same time; CPU per event of B / A per round.
cd /tmp/p23; A=$1; B=$2; R=${3:-10}; S=${4:-400}
cfg=llmedge.yaml
kill $(cat pa.pid pb.pid 2>/dev/null) 2>/dev/null; sleep 0.3
: > evpair.out
for r in $(seq $R); do
  if [ $((r%2)) = 1 ]; then pa=31903; pb=31904; else pa=31904; pb=31903; fi
  $A serve --config $cfg --host 127.0.0.1 --port $pa > a.log 2>&1 & echo $! > pa.pid
  $B serve --config $cfg --host 127.0.0.1 --port $pb > b.log 2>&1 & echo $! > pb.pid
  sleep 1
  /tmp/perf-bin/streamload -c 100 -events 8 -ramp 0s -url http://127.0.0.1:$pa/v1/chat/completions >/dev/null 2>&1 & w1=$!
  /tmp/perf-bin/streamload -c 100 -events 8 -ramp 0s -url http://127.0.0.1:$pb/v1/chat/completions >/dev/null 2>&1 & w2=$!
  wait $w1 $w2
  ia=$(cat pa.pid); ib=$(cat pb.pid)
  a0=$(cat /proc/$ia/task/*/schedstat | awk '{s+=$1} END{printf "%d", s}'); b0=$(cat /proc/$ib/task/*/schedstat | awk '{s+=$1} END{printf "%d", s}')
  /tmp/perf-bin/streamload -c $S -events 64 -ramp 1s -url http://127.0.0.1:$pa/v1/chat/completions > sla.tmp 2>&1 & w1=$!
  /tmp/perf-bin/streamload -c $S -events 64 -ramp 1s -url http://127.0.0.1:$pb/v1/chat/completions > slb.tmp 2>&1 & w2=$!
  wait $w1 $w2
  a1=$(cat /proc/$ia/task/*/schedstat | awk '{s+=$1} END{printf "%d", s}'); b1=$(cat /proc/$ib/task/*/schedstat | awk '{s+=$1} END{printf "%d", s}')
  ea=$(grep -o '"events": [0-9]*' sla.tmp | head -1 | grep -o '[0-9]*$'); eb=$(grep -o '"events": [0-9]*' slb.tmp | head -1 | grep -o '[0-9]*$')
  kill $ia $ib; sleep 0.3
  awk -v a=$((a1-a0)) -v b=$((b1-b0)) -v ea=$ea -v eb=$eb 'BEGIN{printf "A %.2fus/ev B %.2fus/ev B/A %.4f\n", a/1000/ea, b/1000/eb, (b/eb)/(a/ea)}' | tee -a evpair.out
done
python3 -c "
import statistics as s
r=[float(l.split()[-1]) for l in open('/tmp/p23/evpair.out')]
print('B/A median %.4f  mean %.4f  B<A in %d of %d'%(s.median(r), s.mean(r), sum(x<1 for x in r), len(r)))"
