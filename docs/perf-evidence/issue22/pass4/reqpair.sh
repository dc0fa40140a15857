#!/bin/bash
# reqpair.sh "A..." "B..." ROUNDS: A and B side by side (ports swapped each round), each under its own
# wrk -t1 -c32 -d3s at the same time; CPU per request (schedstat ns) of B / A per round.
cd /tmp/p23; A=$1; B=$2; R=${3:-10}
cfg=${CFG:-llmedge.yaml}
: > reqpair.out
cpu() { cat /proc/$1/task/*/schedstat | awk '{s+=$1} END{printf "%d", s}'; }
for r in $(seq $R); do
  if [ $((r%2)) = 1 ]; then pa=31903; pb=31904; else pa=31904; pb=31903; fi
  $A serve --config $cfg --host 127.0.0.1 --port $pa > a.log 2>&1 & ia=$!
  $B serve --config $cfg --host 127.0.0.1 --port $pb > b.log 2>&1 & ib=$!
  sleep 1
  wrk -t1 -c32 -d1s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$pa/v1/chat/completions >/dev/null & w1=$!
  wrk -t1 -c32 -d1s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$pb/v1/chat/completions >/dev/null & w2=$!
  wait $w1 $w2
  a0=$(cpu $ia); b0=$(cpu $ib)
  wrk -t1 -c32 -d3s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$pa/v1/chat/completions > wa.tmp & w1=$!
  wrk -t1 -c32 -d3s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$pb/v1/chat/completions > wb.tmp & w2=$!
  wait $w1 $w2
  a1=$(cpu $ia); b1=$(cpu $ib)
  ra=$(grep -o '"requests":[0-9]*' wa.tmp | cut -d: -f2); rb=$(grep -o '"requests":[0-9]*' wb.tmp | cut -d: -f2)
  kill $ia $ib; sleep 0.3
  awk -v a=$((a1-a0)) -v b=$((b1-b0)) -v ea=$ra -v eb=$rb 'BEGIN{printf "A %.2fus/req (%d) B %.2fus/req (%d) B/A %.4f\n", a/1000/ea, ea, b/1000/eb, eb, (b/eb)/(a/ea)}' | tee -a reqpair.out
done
python3 -c "
import statistics as s
r=[float(l.split()[-1]) for l in open('/tmp/p23/reqpair.out')]
print('B/A median %.4f  mean %.4f  B<A in %d of %d'%(s.median(r), s.mean(r), sum(x<1 for x in r), len(r)))"
