#!/bin/bash
# evcount.sh BIN PID PORT SYM...: calls of each SYM per streamed event (1,000 streams x 64 events, uprobes)
bin=$1 pid=$2 port=$3; shift 3
p=$(basename $bin)
perf probe -d "probe_$p:*" >/dev/null 2>&1
for s in "$@"; do a=$(go tool nm $bin | awk -v s="$s" '$3==s{print $1}' | head -1); n=$(echo $s | tr -c 'a-zA-Z0-9\n' '_' | tail -c 40)
  perf probe -x $bin -a "${p}_${n}=0x$(printf %x $((0x$a - 0x400000)))" >/dev/null 2>&1 || echo "probe fail $s"; done
perf stat -x, -e "probe_$p:*" -p $pid -o /tmp/p23/ec.txt & sp=$!; sleep 0.3
/tmp/perf-bin/streamload -c 1000 -events 64 -ramp 1s -url http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/sl.ec 2>&1
kill -INT $sp; wait $sp
ev=$(grep -o '"events": [0-9]*' /tmp/p23/sl.ec | head -1 | grep -o '[0-9]*$')
awk -F, -v r=$ev '/probe/{printf "%-50s %.3f/event\n", $3, $1/r}' /tmp/p23/ec.txt
perf probe -d "probe_$p:*" >/dev/null 2>&1
