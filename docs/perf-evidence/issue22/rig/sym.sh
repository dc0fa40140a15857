#!/bin/bash
# sym.sh NAME [children] -> "us/req symbol" for user symbols
name=$1; r=$(cat /tmp/p23/req.$name); mode=${2:---no-children}
perf report -i /tmp/p23/perf-$name.data $mode --stdio -g none --sort dso,sym -F sample,dso,sym 2>/dev/null | grep -v "^#" | grep -v "^$" | awk -v r=$r '{s=$NF; printf "%7.3f %s %s\n", $1/4000/r*1e6, $2, s}'
