package transport

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// fakeClock drives a jar's expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testJar(t *testing.T, path string) (*CookieJar, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Now().Truncate(time.Second)}
	j, err := NewCookieJar(path)
	if err != nil {
		t.Fatal(err)
	}
	j.now = clk.now
	return j, clk
}

// answer stores the Set-Cookie lines of an answer to url.
func answer(j *CookieJar, url string, setCookies ...string) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	for _, c := range setCookies {
		resp.Header.Add("Set-Cookie", c)
	}
	j.Store(req, resp)
}

// sent returns the Cookie header a request to url gets.
func sent(j *CookieJar, url string) string {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(url)
	j.Apply(req, false)
	var parts []string
	for k, v := range req.Header.Cookies() {
		parts = append(parts, string(k)+"="+string(v))
	}
	return strings.Join(parts, "; ")
}

func TestCookieJarRules(t *testing.T) {
	j, clk := testJar(t, "")
	answer(j, "https://api.example.com/v1/chat/completions",
		"cf_clearance=cc; Path=/; Domain=.example.com; Max-Age=60; Secure; HttpOnly",
		"__cf_bm=bm; Path=/; Expires="+clk.now().Add(30*time.Minute).Format(time.RFC1123),
		"v1only=p; Path=/v1",
		"dflt=d",                           // default-path /v1/chat
		"evil=e; Domain=other.com; Path=/", // not this host's domain
		"tld=t; Domain=com; Path=/",        // a bare TLD
		"gone=g; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", // already expired
	)
	cases := []struct{ url, want string }{
		{"https://api.example.com/v1/chat/completions", "cf_clearance=cc; __cf_bm=bm; v1only=p; dflt=d"},
		{"https://api.example.com/v2/x", "cf_clearance=cc; __cf_bm=bm"},
		{"https://eu.example.com/v1/x", "cf_clearance=cc"}, // Domain cookie only
		{"http://api.example.com/v1x", "__cf_bm=bm"},       // Secure not over http; /v1 does not match /v1x
		{"https://other.com/", ""},
	}
	for _, tc := range cases {
		if got := sortedCookies(sent(j, tc.url)); got != sortedCookies(tc.want) {
			t.Errorf("%s: got %q want %q", tc.url, got, tc.want)
		}
	}
	// Replaced by name/path; deleted by Max-Age=0.
	answer(j, "https://api.example.com/v1/chat/completions", "__cf_bm=bm2; Path=/; Max-Age=1800", "v1only=; Path=/v1; Max-Age=0")
	if got := sortedCookies(sent(j, "https://api.example.com/v1/chat/completions")); got != sortedCookies("cf_clearance=cc; __cf_bm=bm2; dflt=d") {
		t.Fatalf("after update: %q", got)
	}
	// Expiry.
	clk.add(61 * time.Second)
	if got := sortedCookies(sent(j, "https://api.example.com/v2")); got != "__cf_bm=bm2" {
		t.Fatalf("after 61s: %q", got)
	}
	clk.add(30 * time.Minute)
	if got := sent(j, "https://api.example.com/v2"); got != "" {
		t.Fatalf("after 31m: %q", got)
	}
}

func sortedCookies(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, "; ")
	for i := range parts {
		for k := i + 1; k < len(parts); k++ {
			if parts[k] < parts[i] {
				parts[i], parts[k] = parts[k], parts[i]
			}
		}
	}
	return strings.Join(parts, "; ")
}

func TestCookieJarIPHostAndBounds(t *testing.T) {
	j, _ := testJar(t, "")
	answer(j, "http://127.0.0.1:8080/v1/x", "a=1; Path=/", "b=2; Domain=0.0.1; Path=/")
	if got := sent(j, "http://127.0.0.1:9999/v1"); got != "a=1" {
		t.Fatalf("ip host: %q", got)
	}
	for i := 0; i < maxCookiesPerDomain+20; i++ {
		answer(j, "https://h.example/", "c"+itoa(i)+"=v; Path=/; Max-Age=100")
	}
	if n := len(j.domains["h.example"]); n != maxCookiesPerDomain {
		t.Fatalf("domain holds %d cookies", n)
	}
	answer(j, "https://h.example/", "big="+strings.Repeat("x", maxCookieBytes)+"; Path=/")
	if strings.Contains(sent(j, "https://h.example/"), "big=") {
		t.Fatal("oversized cookie kept")
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestCookieJarPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cookies.json")
	j, clk := testJar(t, path)
	answer(j, "https://api.example.com/v1/chat/completions",
		"cf_clearance=keep; Path=/; Max-Age=3600; Secure",
		"session=drop; Path=/") // no expiry: not persisted
	if err := j.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file %v mode %v", err, fi)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	j2, err := NewCookieJar(path)
	if err != nil {
		t.Fatal(err)
	}
	j2.now = clk.now
	if got := sent(j2, "https://api.example.com/v1/chat/completions"); got != "cf_clearance=keep" {
		t.Fatalf("after restart: %q", got)
	}
	// A corrupt file is a warning, not a failure.
	os.WriteFile(path, []byte("{nope"), 0o600)
	if j3, err := NewCookieJar(path); err == nil || j3 == nil {
		t.Fatal("corrupt file not reported")
	}
}

func TestCookieJarConcurrent(t *testing.T) {
	j, _ := testJar(t, "")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				answer(j, "https://api.example.com/v1/x", "k"+itoa(g)+"=v; Path=/; Max-Age=60")
				sent(j, "https://api.example.com/v1/x")
			}
		}(g)
	}
	wg.Wait()
	if n := len(j.domains["api.example.com"]); n != 8 || j.count.Load() != 8 {
		t.Fatalf("%d cookies, count %d", n, j.count.Load())
	}
}

func FuzzCookieStore(f *testing.F) {
	for _, s := range []string{"cf_clearance=x; Path=/; Domain=.example.com; Max-Age=10; Secure",
		"a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "=; Domain=.", "x=y; Path=relative; Max-Age=-1", "__cf_bm=1; Domain=api.example.com"} {
		f.Add(s, "https://api.example.com/v1/chat/completions")
	}
	f.Fuzz(func(t *testing.T, setCookie, url string) {
		j, _ := testJar(t, "")
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		req.SetRequestURI(url)
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		resp.Header.Add("Set-Cookie", setCookie)
		j.Store(req, resp)
		j.Apply(req, false)
		if int(j.count.Load()) > 1 {
			t.Fatalf("one Set-Cookie stored %d cookies", j.count.Load())
		}
	})
}

func BenchmarkCookieApplyNoCookies(b *testing.B) {
	j, _ := NewCookieJar("")
	req := fasthttp.AcquireRequest()
	req.SetRequestURI("https://api.openai.com/v1/chat/completions")
	b.ReportAllocs()
	for b.Loop() {
		j.Apply(req, false)
	}
}

func BenchmarkCookieApply(b *testing.B) {
	j, _ := NewCookieJar("")
	answer(j, "https://api.example.com/v1/chat/completions", "cf_clearance=cc; Path=/; Domain=.example.com; Max-Age=600", "__cf_bm=bm; Path=/; Max-Age=600")
	req := fasthttp.AcquireRequest()
	req.SetRequestURI("https://api.example.com/v1/chat/completions")
	b.ReportAllocs()
	for b.Loop() {
		req.Header.DelAllCookies()
		j.Apply(req, false)
	}
}
