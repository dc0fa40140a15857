#!/bin/bash
# wk.sh NAME PORT: wake-ups by waker -> wakee per request under wrk -c64 2s
perf record -e sched:sched_waking -a -o /tmp/p23/wk.data >/dev/null 2>&1 & sp=$!; sleep 0.3
wrk -t1 -c64 -d2s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$2/v1/chat/completions > /tmp/p23/w.tmp; kill -INT $sp; wait $sp
n=$(grep -o '"requests":[0-9]*' /tmp/p23/w.tmp | cut -d: -f2); echo "== $1 req=$n"
perf script -i /tmp/p23/wk.data -F comm,event,trace 2>/dev/null | awk -v n=$n '{split($0,a,"comm="); split(a[2],b," "); w=$1" -> "b[1]; c[w]++} END{for(k in c) if (c[k]/n>0.005) printf "%.3f/req %s\n", c[k]/n, k}' | sort -rn | head -10
