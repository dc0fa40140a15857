#!/bin/bash
# livestreams.sh BIN TAG: the live heap with 9,950 streams open. BIN is llmedge built with
# memdump.go.txt (see its header); perfup and streamload are ../../shared/perf's (built in /tmp/perf-bin).
# The fake upstream sends 64 events 150 ms apart, so every stream is open 7 s in, when SIGUSR1 makes
# BIN collect garbage and write its heap profile and MemStats (KiB) to /tmp/p23.
BIN=$1; TAG=$2
mkdir -p /tmp/p23; cd /tmp/p23; rm -f heap1.prof mem1.txt gor1.txt
cat > slow.yaml <<Y
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_base: http://127.0.0.1:31921/v1, api_key: sk-up}
general_settings: {master_key: sk-master}
Y
/tmp/perf-bin/perfup -addr 127.0.0.1:31921 -chunks 64 -gap 150ms > perfup-slow.log 2>&1 & up=$!
$BIN serve --config slow.yaml --host 127.0.0.1 --port 31903 > lm.log 2>&1 & pid=$!; sleep 1
/tmp/perf-bin/streamload -c 9950 -events 64 -ramp 0s -url http://127.0.0.1:31903/v1/chat/completions > sl-$TAG.json 2>&1 &
sl=$!; sleep 7; kill -USR1 $pid; sleep 2; wait $sl; kill $pid $up; wait $pid $up 2>/dev/null
mv heap1.prof heap-$TAG.prof; mv mem1.txt mem-$TAG.txt
echo "$TAG $(cut -d' ' -f4-7,10 mem-$TAG.txt)"; grep -E '"(ok|lost_events|peak_open)"' sl-$TAG.json | tr -d '\n '; echo
