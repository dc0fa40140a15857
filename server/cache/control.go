package cache

import (
	"bytes"
	"strconv"
	"time"

	"github.com/llmedge/llmedge/internal/jsonx"
)

// Control is what one request asks of the cache: LiteLLM's "cache"
// object in the body and the Cache-Control request header.
type Control struct {
	// NoCache: do not answer from the cache (the answer may be stored).
	NoCache bool
	// NoStore: do not store the answer.
	NoStore bool
	// UseCache is "use-cache": true, the opt-in under mode: default_off.
	UseCache bool
	// TTL overrides the stored answer's lifetime (0 = the settings').
	TTL time.Duration
	// MaxAge accepts only answers stored at most this long ago
	// ("s-maxage"; 0 = any).
	MaxAge time.Duration
	// Namespace replaces the settings' namespace for this request.
	Namespace []byte
}

// Bad is a malformed cache control, naming the member.
type Bad struct{ Param, Msg string }

// ParseControl reads the "cache" member of body and the Cache-Control
// header value. It does not allocate.
func ParseControl(body, cacheControl []byte) (c Control, bad *Bad) {
	for len(cacheControl) > 0 {
		var d []byte
		d, cacheControl, _ = bytes.Cut(cacheControl, []byte(","))
		d = bytes.TrimSpace(d)
		switch {
		case asciiEqualFold(d, "no-cache"):
			c.NoCache = true
		case asciiEqualFold(d, "no-store"):
			c.NoStore = true
		}
	}
	obj := jsonx.Get(body, "cache")
	if len(obj) == 0 || string(obj) == "null" {
		return c, nil
	}
	if obj[0] != '{' {
		return c, &Bad{"cache", `must be an object like {"no-cache": true, "ttl": 60}`}
	}
	for _, f := range [...]struct {
		name string
		dst  *bool
	}{{"no-cache", &c.NoCache}, {"no-store", &c.NoStore}, {"use-cache", &c.UseCache}} {
		switch v := jsonx.Get(obj, f.name); string(v) {
		case "":
		case "true":
			*f.dst = true
		case "false", "null":
		default:
			return c, &Bad{"cache." + f.name, "must be true or false"}
		}
	}
	for _, f := range [...]struct {
		name string
		dst  *time.Duration
	}{{"ttl", &c.TTL}, {"s-maxage", &c.MaxAge}} {
		v := jsonx.Get(obj, f.name)
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		n, err := strconv.ParseFloat(unsafeString(v), 64)
		if err != nil || n <= 0 || n > 10*365*86400 {
			return c, &Bad{"cache." + f.name, "must be a positive number of seconds"}
		}
		*f.dst = time.Duration(n * float64(time.Second))
	}
	if v := jsonx.Get(obj, "namespace"); len(v) > 0 && string(v) != "null" {
		s := jsonx.StrVal(v)
		if s == nil {
			return c, &Bad{"cache.namespace", "must be a string"}
		}
		c.Namespace = s
	}
	return c, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
