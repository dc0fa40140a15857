package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// cacheConfig is a one-model config with litellm_settings.cache on.
func cacheConfig(up *fakeOpenAI, params *config.CacheParams) *config.Config {
	cfg := testConfig(dep(0, "m", "openai/m", up.base(), "k"))
	cfg.LiteLLM.Cache, cfg.LiteLLM.CacheParams = true, params
	return cfg
}

// chatVia asks gw for a chat completion through openai-go and returns
// the answer and the response headers.
func chatVia(t *testing.T, gw *gateway, text string, opts ...option.RequestOption) (*openai.ChatCompletion, http.Header) {
	t.Helper()
	var hr *http.Response
	client := sdk(gw, testMasterKey)
	p := userMsg(text)
	p.Model = "m"
	c, err := client.Chat.Completions.New(context.Background(), p, append(opts, option.WithResponseInto(&hr))...)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	return c, hr.Header
}

func TestCacheHitMissAndHeaders(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, cacheConfig(up, &config.CacheParams{Type: "local"}))
	a, h1 := chatVia(t, gw, "capital of France?")
	if h1.Get("X-Llmedge-Cache") != "miss" || len(h1.Get("X-Litellm-Cache-Key")) != 64 {
		t.Fatalf("first call: cache %q key %q", h1.Get("X-Llmedge-Cache"), h1.Get("X-Litellm-Cache-Key"))
	}
	b, h2 := chatVia(t, gw, "capital of France?")
	if h2.Get("X-Llmedge-Cache") != "hit" || h2.Get("X-Litellm-Cache-Key") != h1.Get("X-Litellm-Cache-Key") {
		t.Fatalf("second call: cache %q key %q", h2.Get("X-Llmedge-Cache"), h2.Get("X-Litellm-Cache-Key"))
	}
	if n := len(up.requests()); n != 1 {
		t.Fatalf("upstream called %d times for two identical requests", n)
	}
	if b.Choices[0].Message.Content != a.Choices[0].Message.Content || b.Usage.TotalTokens != a.Usage.TotalTokens {
		t.Fatalf("hit differs: %+v vs %+v", b, a)
	}
	if b.ID == a.ID || len(b.ID) != len(a.ID) || !strings.HasPrefix(b.ID, "chatcmpl-") {
		t.Fatalf("hit id %q, first %q: want a fresh id of the same shape", b.ID, a.ID)
	}
	// Key order, whitespace and delivery fields do not matter; the
	// prompt does.
	r := rawPost(t, gw, "/v1/chat/completions", ` { "messages" : [ { "content":"capital of France?", "role":"user" } ], "user":"someone", "model":"m" } `, testMasterKey)
	if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Cache") != "hit" {
		t.Fatalf("reordered request: %d %q", r.StatusCode, r.Header.Get("X-Llmedge-Cache"))
	}
	if _, h := chatVia(t, gw, "capital of Spain?"); h.Get("X-Llmedge-Cache") != "miss" {
		t.Fatal("another prompt hit")
	}
	m := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+testMasterKey).Body
	for _, want := range []string{`llmedge_cache_requests_total{result="hit"} 2`, `llmedge_cache_requests_total{result="miss"} 2`, `llmedge_cache_saved_tokens_total 22`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestCacheNoCacheNoStoreAndDefaultOff(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, cacheConfig(up, nil))
	// no-store: answered, not stored.
	if _, h := chatVia(t, gw, "q", option.WithJSONSet("cache", map[string]any{"no-store": true})); h.Get("X-Llmedge-Cache") != "miss" {
		t.Fatal(h.Get("X-Llmedge-Cache"))
	}
	if _, h := chatVia(t, gw, "q"); h.Get("X-Llmedge-Cache") != "miss" {
		t.Fatal("a no-store answer was stored")
	}
	// no-cache (body or header): not read, but stored.
	if _, h := chatVia(t, gw, "q", option.WithHeader("Cache-Control", "no-cache")); h.Get("X-Llmedge-Cache") != "bypass" {
		t.Fatalf("Cache-Control: no-cache answered %q", h.Get("X-Llmedge-Cache"))
	}
	if _, h := chatVia(t, gw, "q", option.WithJSONSet("cache", map[string]any{"no-cache": true})); h.Get("X-Llmedge-Cache") != "bypass" {
		t.Fatal("no-cache read the cache")
	}
	if n := len(up.requests()); n != 4 {
		t.Fatalf("upstream calls: %d, want 4", n)
	}
	if _, h := chatVia(t, gw, "q", option.WithHeader("Cache-Control", "no-store")); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatal("stored answer not served")
	}
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"q"}],"cache":{"ttl":"long"}}`, testMasterKey); r.StatusCode != 400 || !strings.Contains(r.Body, `"param":"cache.ttl"`) {
		t.Fatalf("bad cache control: %d %s", r.StatusCode, r.Body)
	}

	off := startGateway(t, cacheConfig(up, &config.CacheParams{Mode: "default_off"}))
	for range 2 {
		if _, h := chatVia(t, off, "z"); h.Get("X-Llmedge-Cache") != "bypass" {
			t.Fatal("default_off cached a request that did not ask")
		}
	}
	chatVia(t, off, "z", option.WithJSONSet("cache", map[string]any{"use-cache": true}))
	if _, h := chatVia(t, off, "z", option.WithJSONSet("cache", map[string]any{"use-cache": true})); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatal("use-cache: true not served from the cache")
	}
}

// optionCache sets LiteLLM's per-request "cache" object.
func optionCache(v map[string]any) option.RequestOption { return option.WithJSONSet("cache", v) }

// sseChunks sends a raw streaming request and returns the body as the
// HTTP chunks it arrived in (chunked framing parsed by hand).
func sseChunks(t *testing.T, gw *gateway, body string) (http.Header, []string) {
	t.Helper()
	conn, err := net.Dial("tcp", gw.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	writeRequest(t, conn, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey, "Connection: close")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(resp.TransferEncoding) == 0 {
		t.Fatalf("status %d, transfer encoding %v", resp.StatusCode, resp.TransferEncoding)
	}
	// http.ReadResponse undoes chunking: read the raw framing instead.
	var chunks []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		if err != nil {
			t.Fatalf("chunk size %q", line)
		}
		if n == 0 {
			return resp.Header, chunks
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, string(b[:n]))
	}
}

var idAndTime = regexp.MustCompile(`"id":"chatcmpl-[A-Za-z0-9]+"|"created":[0-9]+`)

func TestCacheStreamReplayedEventByEvent(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords(strings.Fields("one two three four five"), 0, nil))
	gw := startGateway(t, cacheConfig(up, nil))
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"count"}]}`
	h1, first := sseChunks(t, gw, body)
	h2, again := sseChunks(t, gw, body)
	if h1.Get("X-Llmedge-Cache") != "miss" || h2.Get("X-Llmedge-Cache") != "hit" || len(up.requests()) != 1 {
		t.Fatalf("cache %q then %q, %d upstream calls", h1.Get("X-Llmedge-Cache"), h2.Get("X-Llmedge-Cache"), len(up.requests()))
	}
	if len(again) != 8 || len(again) != len(first) {
		t.Fatalf("replay came in %d chunks, the original in %d (want 8: one per event)", len(again), len(first))
	}
	for i := range again {
		if strings.Count(again[i], "\n\n") != 1 {
			t.Fatalf("replayed chunk %d holds more than one event: %q", i, again[i])
		}
		if idAndTime.ReplaceAllString(again[i], "") != idAndTime.ReplaceAllString(first[i], "") {
			t.Fatalf("event %d differs beyond id and created:\n%q\n%q", i, again[i], first[i])
		}
	}
	if strings.Contains(strings.Join(again, ""), `"chatcmpl-up"`) {
		t.Fatal("replay kept the stored id")
	}
	// The stored stream answers a non-stream request, and openai-go's
	// stream reader takes the replay.
	c, h := chatVia(t, gw, "count")
	if h.Get("X-Llmedge-Cache") != "hit" || c.Choices[0].Message.Content != "one two three four five" || c.Object != "chat.completion" {
		t.Fatalf("non-stream from a stored stream: %q %+v", h.Get("X-Llmedge-Cache"), c)
	}
	client := sdk(gw, testMasterKey)
	p := userMsg("count")
	p.Model = "m"
	st := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if st.Err() != nil || text.String() != "one two three four five" {
		t.Fatalf("openai-go stream of a replay: %q %v", text.String(), st.Err())
	}
	if len(up.requests()) != 1 {
		t.Fatalf("%d upstream calls", len(up.requests()))
	}
}

func TestCacheJSONAnswersStream(t *testing.T) {
	up := newFakeOpenAI(t)
	gw := startGateway(t, cacheConfig(up, nil))
	chatVia(t, gw, "hello there")
	h, chunks := sseChunks(t, gw, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello there"}]}`)
	all := strings.Join(chunks, "")
	if h.Get("X-Llmedge-Cache") != "hit" || !strings.Contains(all, `"content":"Hello from the fake upstream."`) ||
		!strings.Contains(all, `"total_tokens":11`) || !strings.HasSuffix(all, "data: [DONE]\n\n") || len(up.requests()) != 1 {
		t.Fatalf("stream from a stored answer (%s): %q", h.Get("X-Llmedge-Cache"), all)
	}
}

func TestCacheNeverStoresFailures(t *testing.T) {
	up := newFakeOpenAI(t)
	var calls atomic.Int32
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`)
		case 2: // a stream cut after two events
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"id\":\"chatcmpl-up\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n")
			w.(http.Flusher).Flush()
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		default:
			answerJSON("fine")(w, r, body)
		}
	})
	gw := startGateway(t, cacheConfig(up, nil))
	if r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey); r.StatusCode != 400 {
		t.Fatalf("upstream 400 answered %d", r.StatusCode)
	}
	r := rawPost(t, gw, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, testMasterKey)
	if !strings.Contains(r.Body, `"error"`) {
		t.Fatalf("cut stream ended without an error event: %q", r.Body)
	}
	if _, h := chatVia(t, gw, "x"); h.Get("X-Llmedge-Cache") != "miss" {
		t.Fatalf("after an error and a cut stream: %q", h.Get("X-Llmedge-Cache"))
	}
	if _, h := chatVia(t, gw, "x"); h.Get("X-Llmedge-Cache") != "hit" || calls.Load() != 3 {
		t.Fatalf("%q after %d calls", h.Get("X-Llmedge-Cache"), calls.Load())
	}
}

func TestCacheCoalescesIdenticalCalls(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	up.setHandler(streamWords(strings.Fields("a b c d"), 0, gate))
	gw := startGateway(t, cacheConfig(up, nil))
	const n = 8
	var wg sync.WaitGroup
	texts := make([]string, n)
	caches := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hr *http.Response
			client := sdk(gw, testMasterKey)
			p := userMsg("burst")
			p.Model = "m"
			st := client.Chat.Completions.NewStreaming(context.Background(), p, option.WithResponseInto(&hr))
			var sb strings.Builder
			for st.Next() {
				if ch := st.Current(); len(ch.Choices) > 0 {
					sb.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			if st.Err() != nil {
				t.Error(st.Err())
			}
			texts[i], caches[i] = sb.String(), hr.Header.Get("X-Llmedge-Cache")
		}()
	}
	// Every request is in (one upstream call, the others waiting on it)
	// before the upstream is let go on.
	sc := gw.srv.current().cache
	waitFor(t, 10*time.Second, "the burst to join one call", func() bool { return sc.Coalesced.Load() == n-1 })
	close(gate)
	wg.Wait()
	if got := len(up.requests()); got != 1 {
		t.Fatalf("%d identical concurrent requests made %d upstream calls", n, got)
	}
	misses := 0
	for i := range n {
		if texts[i] != "a b c d" {
			t.Errorf("client %d got %q", i, texts[i])
		}
		if caches[i] == "miss" {
			misses++
		}
	}
	if misses != 1 {
		t.Fatalf("x-llmedge-cache values %v: want one miss", caches)
	}
}

// A waiter leaving (the one that started the call included) does not
// cut the call for the others; the last one leaving does.
func TestCacheCoalescedLeaving(t *testing.T) {
	up := newFakeOpenAI(t)
	gate := make(chan struct{})
	up.setHandler(streamWords(strings.Fields("x y z"), 0, gate))
	gw := startGateway(t, cacheConfig(up, nil))
	sc := gw.srv.current().cache
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"leave"}]}`
	// The leader: reads the first event, then goes away.
	conn, err := net.Dial("tcp", gw.addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	writeRequest(t, conn, "POST", "/v1/chat/completions", body, "Authorization: Bearer "+testMasterKey)
	br := bufio.NewReader(conn)
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the call in flight", func() bool { return sc.Flights.InFlight() == 1 })
	done := make(chan string, 1)
	go func() {
		r := rawPost(t, gw, "/v1/chat/completions", body, testMasterKey)
		done <- r.Body
	}()
	waitFor(t, 5*time.Second, "the second client to join", func() bool { return sc.Coalesced.Load() == 1 })
	conn.Close()
	close(gate)
	select {
	case got := <-done:
		if !strings.Contains(got, `"content":"z"`) || !strings.HasSuffix(got, "data: [DONE]\n\n") {
			t.Fatalf("the waiter's stream was cut when the leader left: %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter never finished")
	}
	select {
	case <-up.closed:
		t.Fatal("the upstream call was canceled although a client still waited")
	default:
	}

	// Alone, the one client leaving cancels the call.
	gate2 := make(chan struct{})
	defer close(gate2)
	up.setHandler(streamWords(strings.Fields("p q"), 0, gate2))
	conn2, err := net.Dial("tcp", gw.addr)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn2, "POST", "/v1/chat/completions", strings.Replace(body, "leave", "alone", 1), "Authorization: Bearer "+testMasterKey)
	if _, err := http.ReadResponse(bufio.NewReader(conn2), nil); err != nil {
		t.Fatal(err)
	}
	conn2.Close()
	select {
	case <-up.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the last client leaving did not cancel the upstream call")
	}
}

func TestCacheHitCountsAsRequestNotTokens(t *testing.T) {
	up := newFakeOpenAI(t)
	key := randomKey(t)
	cfg := limitsConfig(map[string]any{"api_keys": []any{map[string]any{"key": key, "rpm_limit": 3}}}, dep(0, "m", "openai/m", up.base(), "k"))
	cfg.LiteLLM.Cache = true
	gw := startGateway(t, cfg)
	body := `{"model":"m","messages":[{"role":"user","content":"r"}]}`
	var got []string
	for range 4 {
		r := rawPost(t, gw, "/v1/chat/completions", body, key)
		got = append(got, strconv.Itoa(r.StatusCode)+r.Header.Get("X-Llmedge-Cache"))
	}
	if strings.Join(got, ",") != "200miss,200hit,200hit,429" {
		t.Fatalf("rpm 3: %v", got)
	}
	m := rawRequest(t, gw, "GET", "/metrics", "", "Authorization: Bearer "+testMasterKey).Body
	re := regexp.MustCompile(`llmedge_prompt_tokens_total\{[^}]*\} (\d+)`)
	if mm := re.FindStringSubmatch(m); mm == nil || mm[1] != "5" {
		t.Fatalf("prompt tokens after one miss and two hits: %v", mm)
	}
}

func TestCacheRoutesEmbeddingsAndResponses(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/embeddings"):
			fmt.Fprint(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}`)
		case strings.HasSuffix(r.URL.Path, "/responses"):
			fmt.Fprint(w, `{"id":"resp_0123456789abcdef","object":"response","created_at":1700000000,"status":"completed","model":"m","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"hi","annotations":[]}]}],"usage":{"input_tokens":3,"output_tokens":1,"total_tokens":4}}`)
		default:
			answerJSON("chat")(w, r, body)
		}
	})
	gw := startGateway(t, cacheConfig(up, &config.CacheParams{SupportedCallTypes: []string{"aembedding", "aresponses"}}))
	client := sdk(gw, testMasterKey)
	for i, want := range []string{"miss", "hit"} {
		var hr *http.Response
		e, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "m",
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("text")}}, option.WithResponseInto(&hr))
		if err != nil || len(e.Data) != 1 || hr.Header.Get("X-Llmedge-Cache") != want {
			t.Fatalf("embeddings %d: %v %q", i, err, hr.Header.Get("X-Llmedge-Cache"))
		}
	}
	for i, want := range []string{"miss", "hit"} {
		r := rawPost(t, gw, "/v1/responses", `{"model":"m","input":"hi"}`, testMasterKey)
		if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Cache") != want {
			t.Fatalf("responses %d: %d %q", i, r.StatusCode, r.Header.Get("X-Llmedge-Cache"))
		}
		var v struct{ ID string }
		_ = json.Unmarshal([]byte(r.Body), &v)
		if want == "hit" && (v.ID == "resp_0123456789abcdef" || !strings.HasPrefix(v.ID, "resp_")) {
			t.Fatalf("responses hit id %q", v.ID)
		}
	}
	// chat is not among supported_call_types here.
	if _, h := chatVia(t, gw, "x"); h.Get("X-Llmedge-Cache") != "bypass" {
		t.Fatalf("chat with supported_call_types [aembedding, aresponses]: %q", h.Get("X-Llmedge-Cache"))
	}
}

// The disk store keeps answers across a restart, and a disk that fails
// under it turns into bypasses, never failed requests.
func TestCacheDiskSurvivesRestartAndFailure(t *testing.T) {
	up := newFakeOpenAI(t)
	dir := t.TempDir() + "/cache"
	params := &config.CacheParams{Type: "disk", DiskCacheDir: dir}
	a := startGateway(t, cacheConfig(up, params))
	chatVia(t, a, "kept on disk")
	b := startGateway(t, cacheConfig(up, params)) // a second process on the same directory
	if _, h := chatVia(t, b, "kept on disk"); h.Get("X-Llmedge-Cache") != "hit" {
		t.Fatalf("after a restart: %q", h.Get("X-Llmedge-Cache"))
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"bypass", "bypass"} { // the read fails, then the store is left alone
		c, h := chatVia(t, b, "disk gone")
		if h.Get("X-Llmedge-Cache") != want || c.Choices[0].Message.Content == "" {
			t.Fatalf("request %d with the disk gone: %q, want %q", i, h.Get("X-Llmedge-Cache"), want)
		}
	}
	if ready := rawRequest(t, b, "GET", "/health/readiness", "").Body; !strings.Contains(ready, `"cache":{"type":"disk","healthy":false`) {
		t.Fatalf("readiness: %s", ready)
	}
}

// A long prompt's stream is cached and replayed like a short one's,
// though the call lets its body go once the stream starts (letBodyGo):
// the key was taken from the whole body before, so a prompt differing
// in its last byte is another entry.
func TestCacheStreamOfALongPrompt(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(streamWords(strings.Fields("one two three"), 0, nil))
	gw := startGateway(t, cacheConfig(up, nil))
	long := strings.Repeat("x", 64<<10)
	body := func(last string) string {
		return `{"model":"m","stream":true,"messages":[{"role":"user","content":"` + long + last + `"}]}`
	}
	h1, first := sseChunks(t, gw, body("a"))
	h2, again := sseChunks(t, gw, body("a"))
	h3, other := sseChunks(t, gw, body("b"))
	if h1.Get("X-Llmedge-Cache") != "miss" || h2.Get("X-Llmedge-Cache") != "hit" || h3.Get("X-Llmedge-Cache") != "miss" || len(up.requests()) != 2 {
		t.Fatalf("cache %q, %q, %q; %d upstream calls", h1.Get("X-Llmedge-Cache"), h2.Get("X-Llmedge-Cache"), h3.Get("X-Llmedge-Cache"), len(up.requests()))
	}
	for i, c := range [][]string{first, again, other} {
		if all := strings.Join(c, ""); !strings.Contains(all, `"content":"three"`) || !strings.HasSuffix(all, "data: [DONE]\n\n") {
			t.Fatalf("stream %d not whole: %q", i, all)
		}
	}
	for i, r := range up.requests() {
		if !strings.Contains(string(r.Body), long) {
			t.Fatalf("upstream request %d lost its prompt: %d bytes", i, len(r.Body))
		}
	}
	waitFor(t, 5*time.Second, "body bytes back to 0", func() bool { return gw.srv.BodyBytesInFlight() == 0 })
}
