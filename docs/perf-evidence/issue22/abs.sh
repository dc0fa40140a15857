#!/bin/bash
# abs.sh NAME PID PORT [C]: per-event syscalls (/proc io), cpu, ctx switches under streamload -c C x 32 events @20ms
name=$1 pid=$2 port=$3 c=${4:-1000}
up=$(cat /tmp/p22/perfup.pid)
io0=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io)
st0=$(awk '{print $14+$15}' /proc/$pid/stat); us0=$(awk '{print $14+$15}' /proc/$up/stat)
cs0=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
/tmp/perf-bin/streamload -url http://127.0.0.1:$port/v1/chat/completions -c $c -events 64 -ramp 1s > /tmp/p22/sl.$name 2>&1
io1=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io)
st1=$(awk '{print $14+$15}' /proc/$pid/stat); us1=$(awk '{print $14+$15}' /proc/$up/stat)
cs1=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
ev=$((c*65))
set -- $io0 $io1
err=$(grep -o '"errors": *[0-9]*' /tmp/p22/sl.$name | head -1); lost=$(grep -o '"lost[a-z_]*": *[0-9]*' /tmp/p22/sl.$name | head -1)
awk -v n=$name -v e=$ev -v r0=$1 -v w0=$2 -v r1=$3 -v w1=$4 -v c=$((st1-st0)) -v u=$((us1-us0)) -v cs=$((cs1-cs0)) -v x="$err $lost" 'BEGIN{
 printf "%-10s events=%d reads/ev=%.3f writes/ev=%.3f cpu/ev=%.2fus cpu/up=%.2f cs/ev=%.3f %s\n", n, e, (r1-r0)/e, (w1-w0)/e, c*10000/e, (u>0?c/u:0), cs/e, x }'
