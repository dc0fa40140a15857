#!/bin/bash
# io.sh NAME PORT PID [dur]: syscalls (reads, writes) and CPU per request from /proc, no tracer, under wrk -t1 -c64
name=$1 port=$2 pid=$3 dur=${4:-4s}
up=$(cat /tmp/p23/perfup.pid)
io0=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io); st0=$(awk '{print $14+$15}' /proc/$pid/stat); us0=$(awk '{print $14+$15}' /proc/$up/stat)
cs0=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
wrk -t1 -c64 -d$dur -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/wrk.io.$name
io1=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io); st1=$(awk '{print $14+$15}' /proc/$pid/stat); us1=$(awk '{print $14+$15}' /proc/$up/stat)
cs1=$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/$pid/task/*/status)
req=$(grep -o '"requests":[0-9]*' /tmp/p23/wrk.io.$name | cut -d: -f2)
set -- $io0 $io1
awk -v n=$name -v r=$req -v r0=$1 -v w0=$2 -v r1=$3 -v w1=$4 -v c=$((st1-st0)) -v u=$((us1-us0)) -v cs=$((cs1-cs0)) 'BEGIN{printf "%-8s req=%7d reads/req=%.2f writes/req=%.2f cpu/req=%.1fus cpu/up=%.2f cs/req=%.3f\n", n, r, (r1-r0)/r, (w1-w0)/r, c*10000/r, (u>0?c/u:0), cs/r}'
