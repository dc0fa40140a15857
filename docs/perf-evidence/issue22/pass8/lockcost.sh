#!/bin/bash
# lockcost.sh NAME REQS: per symbol, the share of its self samples on a lock-prefixed instruction and the one after it (skid), in us/req
f=perf-$1.data; r=$2
bash ksym.sh $1 $r | grep '^u' | sort -k3 -nr | head -80 | while read k sym us; do
  perf annotate -i $f --stdio -s "$sym" 2>/dev/null | grep -E '^\s+[0-9]+\.[0-9]+ :' > /tmp/p23/ann.txt
  awk -v us=$us -v sym="$sym" '{p=$1; if (prev) {s+=p; prev=0} if ($0 ~ /lock /) {s+=p; prev=1}} END{ if (s>0) printf "%6.3f us/req %5.1f%% of %-70s\n", s/100*us, s, sym}' /tmp/p23/ann.txt
done | sort -nr | head -30
