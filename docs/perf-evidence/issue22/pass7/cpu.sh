#!/bin/bash
# cpu.sh NAME PORT PID [dur] -> cpu/req and cpu/upstream
name=$1 port=$2 pid=$3 dur=${4:-4s}
up=$(cat /tmp/p23/perfup.pid)
st0=$(awk '{print $14+$15}' /proc/$pid/stat); us0=$(awk '{print $14+$15}' /proc/$up/stat)
wrk -t1 -c64 -d$dur -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/wrk.$name
st1=$(awk '{print $14+$15}' /proc/$pid/stat); us1=$(awk '{print $14+$15}' /proc/$up/stat)
req=$(grep -o '"requests":[0-9]*' /tmp/p23/wrk.$name | cut -d: -f2)
[ -z "$req" ] && req=$(grep -o '[0-9]* requests in' /tmp/p23/wrk.$name | cut -d' ' -f1)
awk -v n=$name -v r=$req -v c=$((st1-st0)) -v u=$((us1-us0)) 'BEGIN{printf "%-10s req=%7d cpu/req=%.1fus cpu/up=%.3f\n", n, r, c*10000/r, (u>0?c/u:0)}'
