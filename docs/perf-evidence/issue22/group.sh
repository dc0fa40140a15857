#!/bin/bash
# group.sh NAME REQS: user+kernel self time per request by group
f=/tmp/p22/perf-$1.data; r=$2
perf report -i $f --no-children --stdio -g none --sort dso,sym -F sample,dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' | awk -v r=$r '{p=$1; d=$2; s=$NF; 
 if (d ~ /kallsyms/) { if (s ~ /schedule|switch|futex|wake|idle|enqueue|dequeue|update_curr|pick_next|select_task|ttwu|hrtimer|nanosleep|sched/) g="k:sched/futex/sleep"; else if (s ~ /tcp|ip_|skb|sock|net_|napi|dev_|inet|__x64_sys_(read|write|recv|send)|_copy|lock_sock|release_sock|loopback|bbr|rcv|xmit/) g="k:net"; else if (s ~ /epoll|ep_/) g="k:epoll"; else g="k:other" }
 else if (s ~ /^runtime\.(findRunnable|schedule|park_m|usleep|mcall|gopark|goready|ready|runqsteal|runqgrab|stealWork|netpoll|wakep|startm|stopm|notesleep|notewakeup|futex|lock2|unlock2|casgstatus|execute|checkTimers|resetspinning|mPark|gosched|entersyscall|exitsyscall|reentersyscall)/) g="u:runtime-sched/syscall";
 else if (s ~ /^runtime\.(mallocgc|newobject|gcBgMarkWorker|scanobject|greyobject|markroot|gcDrain|sweepone|gcWriteBarrier|wbBuf|findObject|heapBits|memclr|mallocgcSmall|nextFreeFast)/ || s ~ /gcWriteBarrier/) g="u:runtime-alloc/gc";
 else if (s ~ /timer|^time\.|clock_gettime|nanotime|walltime/) g="u:time/timers";
 else if (s ~ /^runtime\.|^internal\/runtime|^aeshash|^memeqbody|^indexbyte|^cmpbody|^sync\.|^internal\/sync|^internal\/bytealg/) g="u:runtime-other/sync/memmove";
 else if (s ~ /valyala\/fasthttp|bytebufferpool/) g="u:fasthttp";
 else if (s ~ /llmedge\/llmedge/) g="u:llmedge";
 else if (s ~ /^internal\/poll|^syscall\.|^net\.|^os\./) g="u:poll/net/syscall";
 else if (s ~ /^bytes\.|^strconv|^unicode|^bufio|^internal\/strconv/) g="u:bytes/strconv/bufio";
 else g="u:other";
 t[g]+=p; tot+=p} END{for (g in t) printf "  %-32s %6.2f us/req\n", g, t[g]/4000/r*1e6; printf "  %-32s %6.2f us/req\n", "TOTAL", tot/4000/r*1e6}' | sort
