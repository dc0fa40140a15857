#!/bin/bash
# strace.sh NAME PID PORT : strace -c -f the process under wrk -t1 -c64 -d4s
name=$1 pid=$2 port=$3
out=/work/wt/p22-evidence/strace-req-$name.txt
strace -c -f -p $pid -o $out.raw 2>/dev/null & sp=$!
sleep 0.5
wrk -t1 -c64 -d4s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > $out.wrk
kill -INT $sp; wait $sp
req=$(grep -o '"requests":[0-9]*' $out.wrk | cut -d: -f2)
{ echo "# strace -c -f -p <$name> during wrk -t1 -c64 -d4s (non-stream); requests=$req"; cat $out.raw; } > $out
rm $out.raw
awk -v r=$req '/^ *[0-9]/ && $NF!="total" { n=$4; name=$NF; if ($5 ~ /^[0-9]+$/) {} ; printf "%-20s %8.3f /req\n", name, n/r }' $out | sort -k2 -nr
