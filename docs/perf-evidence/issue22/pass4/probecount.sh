#!/bin/bash
# probecount.sh BIN PID PORT SYM...: count calls of SYMs per request under wrk -c64 2s;
# with UNIT=event, per streamed event under 1,000 streams x 64 events (pass5/evcount.sh)
bin=$1 pid=$2 port=$3; shift 3
p=$(basename $bin)
perf probe -d "probe_$p:*" >/dev/null 2>&1
for s in "$@"; do a=$(go tool nm $bin | awk -v s="$s" '$3==s{print $1}' | head -1); n=$(echo $s | tr -c 'a-zA-Z0-9\n' '_' | tail -c 40)
  perf probe -x $bin -a "${p}_${n}=0x$(printf %x $((0x$a - 0x400000)))" >/dev/null 2>&1 || echo "probe fail $s"; done
perf stat -x, -e "probe_$p:*" -p $pid -o /tmp/p23/pc.txt & sp=$!; sleep 0.3
if [ "${UNIT:-req}" = event ]; then
  /tmp/perf-bin/streamload -c 1000 -events 64 -ramp 1s -url http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/sl.pc 2>&1
  n=$(grep -o '"events": [0-9]*' /tmp/p23/sl.pc | head -1 | grep -o '[0-9]*$')
else
  wrk -t1 -c64 -d2s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/wrk.pc
  n=$(grep -o '"requests":[0-9]*' /tmp/p23/wrk.pc | cut -d: -f2)
fi
kill -INT $sp; wait $sp
awk -F, -v r=$n -v u=${UNIT:-req} '/probe/{printf "%-50s %.3f/%s\n", $3, $1/r, u}' /tmp/p23/pc.txt
perf probe -d "probe_$p:*" >/dev/null 2>&1
