package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func dump(path string, gid int64, max int) {
	f, _ := os.Open(path)
	r, _ := trace.NewReader(f)
	var last trace.Time
	n := 0
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF || n > max {
			break
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		if gid == 0 {
			for x := range st.Stack.Frames() {
				if strings.Contains(x.Func, "firstread") {
					gid = int64(st.Resource.Goroutine())
				}
			}
		}
		if int64(st.Resource.Goroutine()) != gid {
			continue
		}
		from, to := st.Goroutine()
		var fr []string
		for x := range st.Stack.Frames() {
			fn := x.Func
			fn = strings.ReplaceAll(fn, "github.com/llmedge/llmedge/", "")
			fn = strings.ReplaceAll(fn, "github.com/valyala/", "")
			fr = append(fr, fn)
			if len(fr) > 3 {
				break
			}
		}
		fmt.Printf("%9v %-8v->%-8v %-10s %s\n", time.Duration(ev.Time()-last), from, to, st.Reason, strings.Join(fr, " < "))
		last = ev.Time()
		n++
	}
}
