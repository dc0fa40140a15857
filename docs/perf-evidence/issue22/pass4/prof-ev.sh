#!/bin/bash
# prof-ev.sh NAME PORT PID -> perf-NAME.data, events in req.NAME (1000 streams x 64 events)
name=$1 port=$2 pid=$3
perf record -F 4000 -g -p $pid -o /tmp/p23/perf-$name.data >/dev/null 2>&1 & pp=$!
sleep 0.3
/tmp/perf-bin/streamload -c 1000 -events 64 -ramp 1s -url http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/sl.$name 2>&1
kill -INT $pp; wait $pp
grep -o '"events": [0-9]*' /tmp/p23/sl.$name | head -1 | grep -o '[0-9]*$' > /tmp/p23/req.$name
