package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/exp/trace"
)

// who counts, per goroutine start function, how often goroutines became Running, and
// counts proc (P) and thread wake-ups.
func who(path string) {
	f, _ := os.Open(path)
	r, _ := trace.NewReader(f)
	start := map[trace.GoID]string{}
	runs := map[string]int{}
	procs := map[string]int{}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind == trace.ResourceProc {
			from, to := st.Proc()
			procs[fmt.Sprintf("%v->%v", from, to)]++
			continue
		}
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		if from == trace.GoNotExist || from == trace.GoUndetermined {
			name := ""
			for x := range ev.Stack().Frames() {
				name = x.Func
			}
			if name == "" {
				for x := range st.Stack.Frames() {
					name = x.Func
				}
			}
			if _, ok := start[id]; !ok || name != "" {
				start[id] = name
			}
		}
		if to == trace.GoRunning {
			runs[start[id]]++
		}
	}
	var ks []string
	for k := range runs {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(a, b int) bool { return runs[ks[a]] > runs[ks[b]] })
	for _, k := range ks {
		fmt.Printf("%6d %s\n", runs[k], k)
	}
	for k, v := range procs {
		fmt.Printf("proc %s %d\n", k, v)
	}
}
