#!/bin/bash
# profs.sh NAME PID PORT: perf record during streamload -c 1000 x 64 events; us per event by dso
name=$1 pid=$2 port=$3
perf record -F 4000 -g -p $pid -o /tmp/p22/perfs-$name.data 2>/dev/null >/dev/null & pp=$!
sleep 0.3
/tmp/perf-bin/streamload -url http://127.0.0.1:$port/v1/chat/completions -c 1000 -events 64 -ramp 1s > /dev/null 2>&1
kill -INT $pp; wait $pp
ev=65000
echo "$name"
perf report -i /tmp/p22/perfs-$name.data --no-children --stdio -g none --sort dso -F sample,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | awk -v e=$ev '{t+=$1; printf "   %-22s %6.2f us/event\n", $2, $1/4000/e*1e6} END {printf "   %-22s %6.2f us/event\n", "total", t/4000/e*1e6}'
