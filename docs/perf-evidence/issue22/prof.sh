#!/bin/bash
# prof.sh NAME PID PORT: perf record during wrk; prints samples per 1000 requests by top symbols
name=$1 pid=$2 port=$3
perf record -F 4000 -g -p $pid -o /tmp/p22/perf-$name.data 2>/dev/null >/dev/null & pp=$!
sleep 0.3
wrk -t1 -c64 -d4s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p22/wrk.prof.$name
kill -INT $pp; wait $pp
req=$(grep -o '"requests":[0-9]*' /tmp/p22/wrk.prof.$name | cut -d: -f2)
tot=$(perf report -i /tmp/p22/perf-$name.data --stdio -g none --sort dso 2>/dev/null | grep -m1 'of event' | grep -o "[0-9]*[0-9]" | head -1)
echo "$name requests=$req"
perf report -i /tmp/p22/perf-$name.data --no-children --stdio -g none --sort dso -F overhead,sample,dso 2>/dev/null | grep '%' | head -4 | awk -v r=$req '{printf "   %-25s %6.2f us/req\n", $3, $2/4000/r*1e6}'
