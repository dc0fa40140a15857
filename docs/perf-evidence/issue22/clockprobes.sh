#!/bin/bash
# clockprobes.sh /abs/path/server.test: uprobes on the clock functions
# (group probe_<basename>) for clockcount.sh; prints how many are set.
bin=$1; p=$(basename $bin .test)
perf probe -d "probe_$p:*" >/dev/null 2>&1
for s in time.Now time.Since time.Until time.now runtime.nanotime1.abi0; do
  a=$(go tool nm $bin | awk -v s="$s" '$3==s{print $1}')
  n=$(echo $s | tr -c 'a-zA-Z0-9\n' '_')
  perf probe -x $bin -a "${p}_$n=0x$(printf %x $((0x$a - 0x400000)))" >/dev/null 2>&1
done
perf probe -l 2>/dev/null | grep -c "probe_$p:"
