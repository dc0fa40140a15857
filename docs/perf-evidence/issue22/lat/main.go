package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 2000, "requests per target")
	gap := flag.Duration("gap", 5*time.Millisecond, "gap between requests")
	flag.Parse()
	ports := flag.Args()
	body, _ := os.ReadFile("/work/shared/perf/body.json")
	body = bytes.TrimSpace(body)
	type tgt struct {
		c   net.Conn
		br  *bufio.Reader
		req []byte
		lat []time.Duration
	}
	var ts []*tgt
	for _, p := range ports {
		c, err := net.Dial("tcp", "127.0.0.1:"+p)
		if err != nil {
			panic(err)
		}
		req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-master\r\nContent-Length: %d\r\n\r\n%s", p, len(body), body)
		ts = append(ts, &tgt{c: c, br: bufio.NewReader(c), req: []byte(req)})
	}
	for i := 0; i < *n; i++ {
		for _, t := range ts {
			time.Sleep(*gap)
			st := time.Now()
			t.c.Write(t.req)
			cl := 0
			for {
				l, err := t.br.ReadString('\n')
				if err != nil {
					panic(err)
				}
				if l == "\r\n" {
					break
				}
				if strings.HasPrefix(strings.ToLower(l), "content-length:") {
					cl, _ = strconv.Atoi(strings.TrimSpace(l[15:]))
				}
			}
			io.CopyN(io.Discard, t.br, int64(cl))
			t.lat = append(t.lat, time.Since(st))
		}
	}
	for i, t := range ts {
		sort.Slice(t.lat, func(a, b int) bool { return t.lat[a] < t.lat[b] })
		fmt.Printf("%s p50=%v p90=%v p99=%v\n", ports[i], t.lat[len(t.lat)/2], t.lat[len(t.lat)*9/10], t.lat[len(t.lat)*99/100])
	}
}
