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

func label(st trace.StateTransition) string {
	var fr []string
	for x := range st.Stack.Frames() {
		fn := x.Func
		if strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "internal/poll") || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "net.") {
			if len(fr) == 0 {
				fr = append(fr, fn[strings.LastIndex(fn, ".")+1:])
			}
			continue
		}
		fn = strings.ReplaceAll(fn, "github.com/llmedge/llmedge/", "")
		fn = strings.ReplaceAll(fn, "github.com/valyala/", "")
		fr = append(fr, fn)
		if len(fr) > 1 {
			break
		}
	}
	return strings.Join(fr, "<")
}

func phases(path string) {
	f, _ := os.Open(path)
	r, _ := trace.NewReader(f)
	type g struct {
		since trace.Time
		prev  string
	}
	gs := map[trace.GoID]*g{}
	agg := map[string][]time.Duration{}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		x := gs[id]
		if x == nil {
			x = &g{}
			gs[id] = x
		}
		lab := label(st)
		if from == trace.GoRunning && x.since != 0 {
			k := fmt.Sprintf("RUN  %s  ==>  %s %s", x.prev, to, lab)
			agg[k] = append(agg[k], time.Duration(ev.Time()-x.since))
		}
		if from == trace.GoSyscall && x.since != 0 {
			k := fmt.Sprintf("SYS  %s", x.prev)
			agg[k] = append(agg[k], time.Duration(ev.Time()-x.since))
		}
		if from == trace.GoWaiting && x.since != 0 {
			k := fmt.Sprintf("WAIT %s", x.prev)
			agg[k] = append(agg[k], time.Duration(ev.Time()-x.since))
		}
		if from == trace.GoRunnable && x.since != 0 {
			k := "RUNNABLE (sched delay)"
			agg[k] = append(agg[k], time.Duration(ev.Time()-x.since))
		}
		x.since = ev.Time()
		if to == trace.GoSyscall || to == trace.GoWaiting {
			x.prev = to.String() + " " + lab
		}
	}
	var ks []string
	for k := range agg {
		if len(agg[k]) >= 200 {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	for _, k := range ks {
		v := agg[k]
		sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
		fmt.Printf("n=%5d p50=%9v p90=%9v  %s\n", len(v), v[len(v)/2], v[len(v)*9/10], k)
	}
}
