#!/bin/bash
# prof.sh NAME PORT PID -> perf-NAME.data, req count in req.NAME
name=$1 port=$2 pid=$3
perf record -F 4000 -g -p $pid -o /tmp/p23/perf-$name.data >/dev/null 2>&1 & pp=$!
sleep 0.3
wrk -t1 -c64 -d4s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/wrk.$name
kill -INT $pp; wait $pp
grep -o '"requests":[0-9]*' /tmp/p23/wrk.$name | cut -d: -f2 > /tmp/p23/req.$name
