#!/bin/bash
# rig.sh up|llmedge SRC|down
B=/tmp/perf-bin; D=/tmp/p23
case $1 in
up)
  $B/perfup -addr 127.0.0.1:31901 -chunks 64 -gap 20ms > $D/perfup.log 2>&1 & echo $! > $D/perfup.pid
  $B/bareproxy -addr 127.0.0.1:31902 -upstream 127.0.0.1:31901 > $D/bare.log 2>&1 & echo $! > $D/bare.pid
  sleep 0.5;;
llmedge)
  [ -f $D/llmedge.pid ] && kill $(cat $D/llmedge.pid) 2>/dev/null; sleep 0.3
  (cd $2 && go build -o $D/llmedge . ) || exit 1
  cat > $D/llmedge.yaml <<Y
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_base: http://127.0.0.1:31901/v1, api_key: sk-up}
general_settings: {master_key: sk-master}
Y
  $D/llmedge serve --config $D/llmedge.yaml --host 127.0.0.1 --port 31903 > $D/llmedge.log 2>&1 & echo $! > $D/llmedge.pid
  sleep 1;;
down) for p in perfup bare llmedge; do kill $(cat $D/$p.pid) 2>/dev/null; done;;
esac
