package config

import (
	"math"
	"strconv"
	"strings"
)

// Number reads a YAML scalar decoded into v as a number: any integer
// or float type, or a string holding one ("6379" from a quoted value or
// an environment variable). ok is false for anything else, NaN and the
// infinities included; the caller names the key in its error.
func Number(v any) (float64, bool) {
	f, ok := number(v)
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func number(v any) (f float64, ok bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}
