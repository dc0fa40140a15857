#!/bin/bash
# ab.sh NAME PID PORT [DUR] : per-request syscalls (/proc io), cpu, perf stat under wrk -t1 -c64
name=$1 pid=$2 port=$3 dur=${4:-3s}
io0=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io); up=$(cat /tmp/p22/perfup.pid)
st0=$(awk '{print $14+$15}' /proc/$pid/stat); us0=$(awk '{print $14+$15}' /proc/$up/stat)
perf stat -x, -e instructions:u,instructions:k,context-switches,cpu-clock -p $pid -o /tmp/p22/ps.$name 2>/dev/null & ps=$!
wrk -t1 -c64 -d$dur -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p22/wrk.$name
kill -INT $ps; wait $ps 2>/dev/null
io1=$(awk '/syscr|syscw/{printf "%s ",$2}' /proc/$pid/io)
st1=$(awk '{print $14+$15}' /proc/$pid/stat); us1=$(awk '{print $14+$15}' /proc/$up/stat)
req=$(grep -o '"requests":[0-9]*' /tmp/p22/wrk.$name | cut -d: -f2)
set -- $io0 $io1
awk -v n=$name -v r=$req -v r0=$1 -v w0=$2 -v r1=$3 -v w1=$4 -v c=$((st1-st0)) -v u=$((us1-us0)) -v f=/tmp/p22/ps.$name 'BEGIN{
 while ((getline l < f) > 0) { split(l,a,","); if (a[3]~/instructions:u/) iu=a[1]; if (a[3]~/instructions:k/) ik=a[1]; if (a[3]~/context/) cs=a[1]; }
 printf "%-10s req=%7d rps=%6.0f reads/req=%.2f writes/req=%.2f cpu/req=%.1fus cpu/up=%.2f insn_u/req=%.0f insn_k/req=%.0f cs/req=%.3f\n", n, r, r/3, (r1-r0)/r, (w1-w0)/r, c*10000/r, (u>0?c/u:0), iu/r, ik/r, cs/r }'
