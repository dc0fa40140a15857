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

// For each goroutine running the handler (stack contains serveConn), print per-request phases:
// state transitions with reasons, durations.
func main() {
	if len(os.Args) > 2 && os.Args[2] == "who2" {
		who2(os.Args[1])
		return
	}
	if len(os.Args) > 2 && os.Args[2] == "who" {
		who(os.Args[1])
		return
	}
	if len(os.Args) > 2 && os.Args[2] == "phases" {
		phases(os.Args[1])
		return
	}
	if len(os.Args) > 2 {
		var g, m int64
		fmt.Sscan(os.Args[2], &g)
		m = 60
		dump(os.Args[1], g, int(m))
		return
	}
	f, _ := os.Open(os.Args[1])
	r, err := trace.NewReader(f)
	if err != nil {
		panic(err)
	}
	type gst struct {
		last  trace.Time
		state trace.GoState
	}
	gs := map[trace.GoID]*gst{}
	agg := map[string][]time.Duration{}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
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
		g := gs[id]
		if g == nil {
			g = &gst{}
			gs[id] = g
		}
		if g.last != 0 {
			d := time.Duration(ev.Time() - g.last)
			// label with stack top of the transition
			var top string
			for fr := range st.Stack.Frames() {
				if strings.Contains(fr.Func, "llmedge") || strings.Contains(fr.Func, "fasthttp") || strings.Contains(fr.Func, "internal/poll") {
					top = fr.Func
					break
				}
			}
			if top == "" {
				for fr := range ev.Stack().Frames() {
					if strings.Contains(fr.Func, "llmedge") || strings.Contains(fr.Func, "fasthttp") {
						top = fr.Func
						break
					}
				}
			}
			k := fmt.Sprintf("%v->%v %s [%s]", from, to, st.Reason, top)
			agg[k] = append(agg[k], d)
		}
		g.last = ev.Time()
		g.state = to
	}
	var ks []string
	for k := range agg {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(a, b int) bool { return len(agg[ks[a]]) > len(agg[ks[b]]) })
	for _, k := range ks {
		v := agg[k]
		if len(v) < 50 {
			continue
		}
		sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
		var s time.Duration
		for _, d := range v {
			s += d
		}
		fmt.Printf("n=%5d p50=%8v mean=%8v  (time in previous state) %s\n", len(v), v[len(v)/2], s/time.Duration(len(v)), k)
	}
}
