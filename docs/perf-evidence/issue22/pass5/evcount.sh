#!/bin/bash
# evcount.sh BIN PID PORT SYM...: calls of each SYM per streamed event (1,000 streams x 64 events, uprobes)
UNIT=event exec bash "$(dirname "$0")/../pass4/probecount.sh" "$@"
