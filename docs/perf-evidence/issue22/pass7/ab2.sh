#!/bin/bash
# ab2.sh "A..." "B..." [rounds]: like ab.sh, the order of A and B alternating round by round
cd /tmp/p23; A=$1; B=$2; R=${3:-8}
start() { [ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.3; $@ serve --config ${CFG:-llmedge.yaml} --host 127.0.0.1 --port 31903 $EXTRA > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 0.8; wrk -t1 -c64 -d1s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:31903/v1/chat/completions >/dev/null; }
cu() { bash cpu.sh $1 $2 $3 3s | grep -o 'cpu/up=[0-9.]*' | cut -d= -f2; }
: > ab.out
for r in $(seq $R); do
  b=$(cu bare 31902 $(cat bare.pid))
  if [ $((r%2)) = 1 ]; then start $A; a=$(cu a 31903 $(cat llmedge.pid)); start $B; bb=$(cu b 31903 $(cat llmedge.pid));
  else start $B; bb=$(cu b 31903 $(cat llmedge.pid)); start $A; a=$(cu a 31903 $(cat llmedge.pid)); fi
  echo "$b $a $bb" | tee -a ab.out
done
python3 -c "
import statistics as s
rows=[list(map(float,l.split())) for l in open('/tmp/p23/ab.out')]
b,a,c=[s.median(x) for x in zip(*rows)]
print('median bare=%.3f A=%.3f (%.3f) B=%.3f (%.3f)  B/A=%.3f; B<A in %d of %d rounds'%(b,a,a/b,c,c/b,c/a,sum(r[2]<r[1] for r in rows),len(rows)))
"
