#!/bin/bash
# low.sh NAME PID PORT RATE: syscalls, cpu, context switches per request at an open-loop rate (vegeta, 4s)
name=$1 pid=$2 port=$3 rate=${4:-200}
io0=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io); st0=$(awk '{print $14+$15}' /proc/$pid/stat)
cs0=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
printf 'POST http://127.0.0.1:%s/v1/chat/completions\nContent-Type: application/json\nAuthorization: Bearer sk-master\n@/work/shared/perf/body.json\n' $port | /tmp/perf-bin/vegeta attack -rate $rate -duration 4s -keepalive=true > /tmp/p22/veg.$name.bin
io1=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io); st1=$(awk '{print $14+$15}' /proc/$pid/stat)
cs1=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
lat=$(/tmp/perf-bin/vegeta report -type=json < /tmp/p22/veg.$name.bin | python3 -c 'import json,sys; d=json.load(sys.stdin); print("p50=%dus p99=%dus ok=%.2f" % (d["latencies"]["50th"]/1000, d["latencies"]["99th"]/1000, d["success"]))')
r=$((rate*4)); set -- $io0 $io1
awk -v n=$name -v r=$r -v r0=$1 -v w0=$2 -v r1=$3 -v w1=$4 -v c=$((st1-st0)) -v cs=$((cs1-cs0)) -v l="$lat" 'BEGIN{printf "%-8s rate reads/req=%.2f writes/req=%.2f cpu/req=%.0fus cs/req=%.2f %s\n", n, (r1-r0)/r, (w1-w0)/r, c*10000/r, cs/r, l}'
