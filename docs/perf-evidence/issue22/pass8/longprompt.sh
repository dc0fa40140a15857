#!/bin/bash
# longprompt.sh BIN TAG [N] [BYTES] [PROXY]: N streams with a BYTES-long prompt through a proxy,
# arriving at RATE a second (default 200), each 64 events GAP apart (default 100 ms: 6.4 s, so about
# N are open at once); prints the proxy's peak RSS (VmHWM) over its RSS at start, per stream.
# The proxy is `BIN serve` (llmedge) unless PROXY is the bare fasthttp proxy's binary.
# EXTRA adds flags to bench run (--anthropic: Claude clients, /v1/messages translated to chat);
# PROVIDER=anthropic makes the deployment an Anthropic one (with --anthropic: passed through).
# BIN (an llmedge) also runs the fake upstream and the load (llmedge bench upstream / bench run).
BIN=$1; TAG=$2; N=${3:-1000}; SZ=${4:-100000}; PROXY=$5
W=$(mktemp -d); trap 'rm -rf $W' EXIT
cat > $W/c.yaml <<Y
model_list:
  - model_name: m
    litellm_params: {model: ${PROVIDER:-openai}/m, api_base: http://127.0.0.1:31911$([ "${PROVIDER:-openai}" = openai ] && echo /v1), api_key: sk-up}
general_settings: {master_key: sk-master}
Y
$BIN bench upstream --addr 127.0.0.1:31911 --chunks 64 --gap ${GAP:-100ms} > $W/up.log 2>&1 & up=$!
if [ -n "$PROXY" ]; then
  $PROXY -addr 127.0.0.1:31912 -upstream 127.0.0.1:31911 > $W/p.log 2>&1 & pid=$!
else
  $BIN serve --config $W/c.yaml --host 127.0.0.1 --port 31912 > $W/p.log 2>&1 & pid=$!
fi
sleep 1.2
base=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
P=$(head -c $SZ /dev/zero | tr '\0' 'a')
$BIN bench run --target http://127.0.0.1:31912 --model m --api-key sk-master --stream --rate ${RATE:-200} \
  --max-outstanding $((2*N)) --requests $N --prompt "$P" --expect-events 64 --timeout 60s $EXTRA > $W/run.txt 2>&1
hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
kill $pid $up; wait $pid $up 2>/dev/null
echo "$TAG base=$((base/1024))MB peak=$((hwm/1024))MB per-stream=$(( (hwm-base)/N ))KB $(grep -E '^requests|^events' $W/run.txt | tr '\n' ' ')"
