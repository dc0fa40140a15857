#!/bin/bash
# strace-stream.sh NAME PID PORT : strace -c -f during streamload -c 300 (64 events @20ms)
name=$1 pid=$2 port=$3
out=/work/wt/p22-evidence/strace-event-$name.txt
strace -c -f -p $pid -o $out.raw 2>/dev/null & sp=$!
sleep 0.5
/tmp/perf-bin/streamload -url http://127.0.0.1:$port/v1/chat/completions -c 300 -events 64 -ramp 500ms > $out.load 2>&1
kill -INT $sp; wait $sp
{ echo "# strace -c -f -p <$name> during streamload -c 300 -events 64 (gap 20ms); events = 300*65"; cat $out.load | tail -3; cat $out.raw; } > $out
rm $out.raw $out.load
awk '/^ *[0-9]/ && $NF!="total" { printf "%-16s %7.3f /event  errors %s\n", $NF, $4/(300*65), ($6==""?0:$5) }' $out | sort -k2 -nr | head -8
