#!/bin/bash
# probestack.sh BIN PID PORT SYM [depth]: callers of SYM per request under wrk -c64 2s
bin=$1 pid=$2 port=$3 sym=$4 depth=${5:-3}
p=$(basename $bin)
perf probe -d "probe_$p:*" >/dev/null 2>&1
a=$(go tool nm $bin | awk -v s="$sym" '$3==s{print $1}' | head -1)
perf probe -x $bin -a "${p}_x=0x$(printf %x $((0x$a - 0x400000)))" >/dev/null 2>&1 || echo probe fail
perf record -e probe_$p:${p}_x -g -p $pid -o /tmp/p23/ps.data >/dev/null 2>&1 & sp=$!; sleep 0.3
wrk -t1 -c64 -d2s -s /work/shared/perf/wrk-post.lua http://127.0.0.1:$port/v1/chat/completions > /tmp/p23/wrk.ps
kill -INT $sp; wait $sp
req=$(grep -o '"requests":[0-9]*' /tmp/p23/wrk.ps | cut -d: -f2)
perf script -i /tmp/p23/ps.data 2>/dev/null | awk -v d=$depth 'BEGIN{RS=""} {n=split($0,L,"\n"); s=""; c=0; for(i=3;i<=n && c<d;i++){ x=L[i]; sub(/^[ \t]*[0-9a-f]+ /,"",x); sub(/\+0x.*/,"",x); sub(/ \(.*/,"",x); gsub(/github.com\/llmedge\/llmedge\//,"",x); gsub(/github.com\/valyala\//,"",x); s=s" < "x; c++}; print s}' | sort | uniq -c | sort -rn | awk -v r=$req '{c=$1; $1=""; printf "%6.2f/req %s\n", c/r, $0}' | head -25
perf probe -d "probe_$p:*" >/dev/null 2>&1
