package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/exp/trace"
)

func who2(path string) {
	f, _ := os.Open(path)
	r, _ := trace.NewReader(f)
	runs := map[trace.GoID]int{}
	label := map[trace.GoID]string{}
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
		_, to := st.Goroutine()
		if to == trace.GoRunning {
			runs[id]++
		}
		if to == trace.GoWaiting || to == trace.GoSyscall {
			var fr []string
			for x := range st.Stack.Frames() {
				fn := x.Func
				if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "net.") {
					continue
				}
				fr = append(fr, strings.ReplaceAll(fn, "github.com/", ""))
				if len(fr) > 1 {
					break
				}
			}
			label[id] = strings.Join(fr, " < ")
		}
	}
	agg := map[string][2]int{}
	for id, n := range runs {
		a := agg[label[id]]
		a[0] += n
		a[1]++
		agg[label[id]] = a
	}
	var ks []string
	for k := range agg {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(a, b int) bool { return agg[ks[a]][0] > agg[ks[b]][0] })
	for _, k := range ks[:min(15, len(ks))] {
		fmt.Printf("%6d runs %4d goroutines  %s\n", agg[k][0], agg[k][1], k)
	}
}
