package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// profilingHooks are the environment variables that record the whole
// run to a file for performance work, written at shutdown:
// LLMEDGE_CPUPROFILE a CPU profile (go tool pprof), LLMEDGE_EXECTRACE
// a runtime execution trace (go tool trace: goroutine wake-ups,
// syscalls and network waits, for latency work where a CPU profile
// shows nothing).
var profilingHooks = []struct {
	env   string
	start func(io.Writer) error
	stop  func()
}{
	{"LLMEDGE_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
	{"LLMEDGE_EXECTRACE", trace.Start, trace.Stop},
}

// startProfiling starts every hook whose variable is set; the returned
// stop ends them and closes their files.
func startProfiling() (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, h := range profilingHooks {
		path := os.Getenv(h.env)
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err == nil {
			err = h.start(f)
			if err != nil {
				f.Close()
			}
		}
		if err != nil {
			stop()
			return nil, fmt.Errorf("%s: %w", h.env, err)
		}
		end := h.stop
		stops = append(stops, func() { end(); f.Close() })
	}
	return stop, nil
}
