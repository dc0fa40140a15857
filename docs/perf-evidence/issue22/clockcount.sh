#!/bin/bash
# clockcount.sh /abs/path/server.test BENCHREGEX: clock reads per
# benchmark op, counted (not sampled) by the uprobes clockprobes.sh put
# on time.Now, time.Since, time.Until, time.now (two vDSO reads: wall
# and monotonic) and runtime.nanotime1 (one). The count is the
# difference of a 25,000-op and a 5,000-op run over 20,000, so setup
# cancels out. Needs root (perf probe, perf stat).
#   go test -c -o /tmp/srv.test ./server && ./clockprobes.sh /tmp/srv.test
#   ./clockcount.sh /tmp/srv.test 'BenchmarkProxyNonStream$'
bin=$1; re=$2; pfx=$(basename $bin .test)
run() { perf stat -x, -e "probe_$pfx:*" $bin -test.run '^$' -test.bench "$re" -test.benchtime=${1}x 2>&1 >/dev/null | awk -F, '{print $3, $1}'; }
cd "$(dirname "$0")/../../../server" || exit 1
a=$(run 5000); b=$(run 25000)
paste <(echo "$a") <(echo "$b") | awk '{printf "%-40s %.2f/op\n", $1, ($4-$2)/20000}'
