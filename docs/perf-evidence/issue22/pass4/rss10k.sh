#!/bin/bash
# rss10k.sh BIN TAG [env...]: fresh llmedge, 9950 streams x 64 events, peak RSS sampled every 50ms
BIN=$1; TAG=$2; shift 2
[ -f llmedge.pid ] && kill $(cat llmedge.pid) 2>/dev/null; sleep 0.5
env "$@" $BIN serve --config llmedge.yaml --host 127.0.0.1 --port 31903 > llmedge.log 2>&1 & echo $! > llmedge.pid; sleep 1.5
pid=$(cat llmedge.pid); base=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
( peak=0; while kill -0 $pid 2>/dev/null; do r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null); [ -n "$r" ] && [ $r -gt $peak ] && peak=$r && echo $peak > rss.peak.$TAG; [ -f stop.$TAG ] && break; sleep 0.05; done ) &
w=$!
/tmp/perf-bin/streamload -c 9950 -events 64 -ramp 0s -url http://127.0.0.1:31903/v1/chat/completions > sl10k.$TAG.json 2>&1
touch stop.$TAG; wait $w; rm -f stop.$TAG
python3 -c "
import json;d=json.load(open('sl10k.$TAG.json'));p=int(open('rss.peak.$TAG').read())
print('$TAG', 'base=%dMB'%($base//1024), 'peak=%dMB'%(p//1024), 'open=%d'%d['peak_open'], 'err=%d lost=%d'%(d['errors'],d['lost_events']), 'KB/stream=%.1f'%((p-$base)/d['peak_open']))"
