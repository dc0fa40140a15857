#!/bin/bash
# under.sh NAME REGEX [N]: leaf symbols (us/req) of samples whose stack has a frame matching REGEX
f=/tmp/p23/perf-$1.data; r=$(cat /tmp/p23/req.$1)
perf script -i $f -F ip,sym 2>/dev/null | awk -v re="$2" -v r=$r 'BEGIN{RS=""} {n=split($0,L,"\n"); leaf=L[1]; sub(/^[ \t]*[0-9a-f]+ /,"",leaf); hit=0; for(i=1;i<=n;i++) if (L[i] ~ re) {hit=1; break}; if(hit){c[leaf]++; t++}} END{for(k in c) printf "%7.3f %s\n", c[k]/4000/r*1e6, k; printf "%7.3f TOTAL\n", t/4000/r*1e6}' | sort -gr | head -${3:-25}
