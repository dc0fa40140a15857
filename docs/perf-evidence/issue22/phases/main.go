// Command phases reads a runtime execution trace (LLMEDGE_EXECTRACE, or
// runtime/trace in a copy of the bare proxy) and prints where goroutines
// spend their time between state changes. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: phases TRACE phases|who")
		os.Exit(2)
	}
	switch os.Args[2] {
	case "phases":
		phases(os.Args[1])
	case "who":
		who(os.Args[1])
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[2])
		os.Exit(2)
	}
}

// eachGoroutineTransition calls f for every goroutine state change of
// the trace at path, in time order.
func eachGoroutineTransition(path string, f func(ev trace.Event, st trace.StateTransition)) {
	file, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer file.Close()
	r, err := trace.NewReader(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		if st := ev.StateTransition(); st.Resource.Kind == trace.ResourceGoroutine {
			f(ev, st)
		}
	}
}

// where names a transition by its innermost frames outside the runtime,
// syscall and poll packages (the first of those kept as the operation).
func where(st trace.StateTransition, frames int) string {
	var fr []string
	for x := range st.Stack.Frames() {
		fn := x.Func
		if strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "net.") {
			if len(fr) == 0 && frames > 1 {
				fr = append(fr, fn[strings.LastIndex(fn, ".")+1:])
			}
			continue
		}
		fr = append(fr, strings.NewReplacer("github.com/llmedge/llmedge/", "", "github.com/valyala/", "", "github.com/", "").Replace(fn))
		if len(fr) >= frames {
			break
		}
	}
	return strings.Join(fr, " < ")
}

// phases prints, for every kind of stretch a goroutine spends in one
// state (running between two syscalls, in a syscall, waiting,
// runnable), how long it lasts (p50, p90) and how often.
func phases(path string) {
	type goroutine struct {
		since trace.Time
		prev  string
	}
	gs := map[trace.GoID]*goroutine{}
	spans := map[string][]time.Duration{}
	eachGoroutineTransition(path, func(ev trace.Event, st trace.StateTransition) {
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		g := gs[id]
		if g == nil {
			g = &goroutine{}
			gs[id] = g
		}
		here := where(st, 2)
		if g.since != 0 {
			var k string
			switch from {
			case trace.GoRunning:
				k = fmt.Sprintf("RUN  %s  ==>  %s %s", g.prev, to, here)
			case trace.GoSyscall:
				k = "SYS  " + g.prev
			case trace.GoWaiting:
				k = "WAIT " + g.prev
			case trace.GoRunnable:
				k = "RUNNABLE (scheduling delay)"
			}
			if k != "" {
				spans[k] = append(spans[k], time.Duration(ev.Time()-g.since))
			}
		}
		g.since = ev.Time()
		if to == trace.GoSyscall || to == trace.GoWaiting {
			g.prev = to.String() + " " + here
		}
	})
	var keys []string
	for k, v := range spans {
		if len(v) >= 200 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := spans[k]
		sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
		fmt.Printf("n=%5d p50=%9v p90=%9v  %s\n", len(v), v[len(v)/2], v[len(v)*9/10], k)
	}
}

// who counts how often goroutines ran, grouped by where they last
// waited: the connection goroutines against background wake-ups.
func who(path string) {
	runs := map[trace.GoID]int{}
	last := map[trace.GoID]string{}
	eachGoroutineTransition(path, func(_ trace.Event, st trace.StateTransition) {
		id := st.Resource.Goroutine()
		_, to := st.Goroutine()
		switch to {
		case trace.GoRunning:
			runs[id]++
		case trace.GoWaiting, trace.GoSyscall:
			last[id] = where(st, 2)
		}
	})
	type group struct{ runs, goroutines int }
	groups := map[string]*group{}
	for id, n := range runs {
		g := groups[last[id]]
		if g == nil {
			g = &group{}
			groups[last[id]] = g
		}
		g.runs += n
		g.goroutines++
	}
	var keys []string
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return groups[keys[a]].runs > groups[keys[b]].runs })
	for _, k := range keys[:min(15, len(keys))] {
		fmt.Printf("%6d runs %4d goroutines  %s\n", groups[k].runs, groups[k].goroutines, k)
	}
}
