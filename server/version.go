package server

import "strconv"

// Version is llmedge's version, set at build time with
// -ldflags "-X github.com/llmedge/llmedge/server.Version=...".
var Version = "0.1.0-dev"

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

func itoa(v int) string {
	if v >= 0 && v < 10 {
		return digits[v : v+1]
	}
	return strconv.Itoa(v)
}

const digits = "0123456789"
