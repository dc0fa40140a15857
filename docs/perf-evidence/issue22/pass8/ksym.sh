#!/bin/bash
# ksym.sh NAME REQS -> "sym us/req" for every symbol
perf report -i /tmp/p23/perf-$1.data --no-children --stdio -g none --sort dso,sym -F sample,dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | awk -v r=$2 '{printf "%s %s %.4f\n", ($2 ~ /kallsyms/ ? "k" : "u"), $NF, $1/4000/r*1e6}'
