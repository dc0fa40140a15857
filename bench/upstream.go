package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/valyala/fasthttp"
)

// UpstreamOptions shape the fake upstream's responses.
type UpstreamOptions struct {
	// TTFT is the delay before the first token (first content event, or the
	// whole answer for non-streaming requests, together with the gaps).
	TTFT time.Duration
	// Chunks is the number of content events per stream (default 16).
	Chunks int
	// ChunkBytes is the number of content bytes per chunk (default 8).
	ChunkBytes int
	// Gap is the delay between two content events.
	Gap time.Duration
	// ErrorRate is the fraction (0..1) of requests answered with an error.
	ErrorRate float64
	// ErrorStatus is the HTTP status of injected errors (default 500).
	ErrorStatus int
}

// UpstreamStats are the fake upstream's counters.
type UpstreamStats struct {
	Requests    int64 `json:"requests"`     // requests served (any path, any outcome)
	Streams     int64 `json:"streams"`      // streaming responses started
	ClosedEarly int64 `json:"closed_early"` // streams the client closed before the end
	Injected    int64 `json:"injected"`     // injected errors
	NotFound    int64 `json:"not_found"`    // requests to unknown paths or bad bodies
}

// Upstream is a fake LLM server speaking OpenAI's chat completions API
// (JSON and SSE) and Anthropic's Messages API (JSON and SSE). All response
// bytes are precomputed per model name, so serving costs no JSON encoding.
type Upstream struct {
	opts UpstreamOptions
	srv  *fasthttp.Server

	mu     sync.RWMutex
	bodies map[bodyKey]*precomputed

	requests, streams, closedEarly, injected, notFound atomic.Int64
}

type bodyKey struct {
	model     string
	anthropic bool
}

// precomputed holds every byte a response for one model needs.
type precomputed struct {
	jsonBody []byte   // non-streaming response
	head     [][]byte // events written right after TTFT, before the first content event
	chunks   [][]byte // content events (first one included)
	tail     []byte   // events after the last content event, without usage
	usage    []byte   // OpenAI usage chunk (include_usage)
	done     []byte   // terminating event
	errBody  []byte
}

const maxCachedModels = 64

// NewUpstream returns an Upstream with opts' defaults filled in.
func NewUpstream(opts UpstreamOptions) *Upstream {
	if opts.Chunks <= 0 {
		opts.Chunks = 16
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = 8
	}
	if opts.ErrorStatus == 0 {
		opts.ErrorStatus = fasthttp.StatusInternalServerError
	}
	u := &Upstream{opts: opts, bodies: map[bodyKey]*precomputed{}}
	u.srv = &fasthttp.Server{
		Handler:                       u.handle,
		Name:                          "llmedge-bench-upstream",
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		IdleTimeout:                   30 * time.Second,
		ReadTimeout:                   60 * time.Second,
		DisableHeaderNamesNormalizing: true,
		CloseOnShutdown:               true,
	}
	return u
}

// Serve accepts connections on ln until Close; it returns nil after Close.
func (u *Upstream) Serve(ln net.Listener) error { return u.srv.Serve(ln) }

// Close stops the server, waiting at most 2 s for open streams to end.
func (u *Upstream) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return u.srv.ShutdownWithContext(ctx)
}

// Stats returns a snapshot of the counters.
func (u *Upstream) Stats() UpstreamStats {
	return UpstreamStats{
		Requests:    u.requests.Load(),
		Streams:     u.streams.Load(),
		ClosedEarly: u.closedEarly.Load(),
		Injected:    u.injected.Load(),
		NotFound:    u.notFound.Load(),
	}
}

// upstreamRequest is the part of a request body the fake reads.
type upstreamRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (u *Upstream) handle(ctx *fasthttp.RequestCtx) {
	u.requests.Add(1)
	var anthropic bool
	switch string(ctx.Path()) {
	case "/v1/chat/completions", "/chat/completions":
	case "/v1/messages", "/messages":
		anthropic = true
	default:
		u.notFound.Add(1)
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	if !ctx.IsPost() {
		u.notFound.Add(1)
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	var req upstreamRequest
	if err := decodeRequest(ctx.PostBody(), &req); err != nil {
		u.notFound.Add(1)
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":{"message":"invalid JSON body","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	p := u.responses(req.Model, anthropic)
	if u.opts.ErrorRate > 0 && rand.Float64() < u.opts.ErrorRate {
		u.injected.Add(1)
		ctx.SetStatusCode(u.opts.ErrorStatus)
		ctx.SetContentType("application/json")
		ctx.SetBody(p.errBody)
		return
	}
	o := u.opts
	if !req.Stream {
		time.Sleep(o.TTFT + time.Duration(max(o.Chunks-1, 0))*o.Gap)
		ctx.SetContentType("application/json")
		ctx.SetBody(p.jsonBody)
		return
	}
	usage := !anthropic && req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	u.streams.Add(1)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		write := func(b []byte) bool {
			if _, err := w.Write(b); err != nil {
				return false
			}
			return w.Flush() == nil
		}
		ok := true
		defer func() {
			if !ok {
				u.closedEarly.Add(1)
			}
		}()
		if o.TTFT > 0 {
			time.Sleep(o.TTFT)
		}
		for _, b := range p.head {
			if ok = write(b); !ok {
				return
			}
		}
		for i, b := range p.chunks {
			if i > 0 && o.Gap > 0 {
				time.Sleep(o.Gap)
			}
			if ok = write(b); !ok {
				return
			}
		}
		if ok = write(p.tail); !ok {
			return
		}
		if usage {
			if ok = write(p.usage); !ok {
				return
			}
		}
		ok = write(p.done)
	})
}

// decodeRequest reads the few fields the fake needs. sonic reads the body in
// place (no copy; ~3 µs for a 100 KB prompt where encoding/json takes ~2 ms,
// which would make the fake the bottleneck of large-prompt runs); strings
// in req may alias body and must be cloned before being kept.
func decodeRequest(body []byte, req *upstreamRequest) error {
	if len(body) == 0 {
		return errors.New("empty body")
	}
	return sonic.UnmarshalString(unsafe.String(&body[0], len(body)), req)
}

// responses returns the precomputed bytes for model, building them once.
func (u *Upstream) responses(model string, anthropic bool) *precomputed {
	if model == "" || len(model) > 200 {
		model = "bench-model"
	}
	k := bodyKey{model, anthropic}
	u.mu.RLock()
	p := u.bodies[k]
	u.mu.RUnlock()
	if p != nil {
		return p
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.bodies[k]; p != nil {
		return p
	}
	if len(u.bodies) >= maxCachedModels {
		clear(u.bodies)
	}
	model = strings.Clone(model) // may alias the request buffer
	k.model = model
	if anthropic {
		p = buildAnthropic(model, u.opts)
	} else {
		p = buildOpenAI(model, u.opts)
	}
	u.bodies[k] = p
	return p
}

// chunkText returns n bytes of harmless ASCII text (no JSON escaping needed).
func chunkText(n, i int) string {
	const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
	b := make([]byte, n)
	for j := range b {
		b[j] = words[(i*n+j)%len(words)]
	}
	return string(b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sseData(v any) []byte {
	return append(append([]byte("data: "), mustJSON(v)...), "\n\n"...)
}

func sseEvent(name string, v any) []byte {
	b := []byte("event: " + name + "\ndata: ")
	return append(append(b, mustJSON(v)...), "\n\n"...)
}

type obj = map[string]any

const (
	benchCreated      = 1700000000
	benchPromptTokens = 8
)

func buildOpenAI(model string, o UpstreamOptions) *precomputed {
	const id = "chatcmpl-bench"
	p := &precomputed{}
	full := make([]byte, 0, o.Chunks*o.ChunkBytes)
	for i := range o.Chunks {
		text := chunkText(o.ChunkBytes, i)
		full = append(full, text...)
		delta := obj{"content": text}
		if i == 0 {
			delta["role"] = "assistant"
		}
		p.chunks = append(p.chunks, sseData(obj{
			"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
			"choices": []any{obj{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": nil}},
		}))
	}
	usage := obj{"prompt_tokens": benchPromptTokens, "completion_tokens": o.Chunks,
		"total_tokens": benchPromptTokens + o.Chunks}
	p.tail = sseData(obj{
		"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
		"choices": []any{obj{"index": 0, "delta": obj{}, "logprobs": nil, "finish_reason": "stop"}},
	})
	p.usage = sseData(obj{
		"id": id, "object": "chat.completion.chunk", "created": benchCreated, "model": model,
		"choices": []any{}, "usage": usage,
	})
	p.done = []byte("data: [DONE]\n\n")
	p.jsonBody = mustJSON(obj{
		"id": id, "object": "chat.completion", "created": benchCreated, "model": model,
		"choices": []any{obj{"index": 0, "logprobs": nil, "finish_reason": "stop",
			"message": obj{"role": "assistant", "content": string(full), "refusal": nil}}},
		"usage": usage,
	})
	p.errBody = mustJSON(obj{"error": obj{"message": "bench: injected error (status " +
		strconv.Itoa(o.ErrorStatus) + ")", "type": openAIErrorType(o.ErrorStatus), "param": nil, "code": "bench_injected"}})
	return p
}

func buildAnthropic(model string, o UpstreamOptions) *precomputed {
	const id = "msg_bench"
	p := &precomputed{}
	p.head = [][]byte{
		sseEvent("message_start", obj{"type": "message_start", "message": obj{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil,
			"usage": obj{"input_tokens": benchPromptTokens, "output_tokens": 1}}}),
		sseEvent("content_block_start", obj{"type": "content_block_start", "index": 0,
			"content_block": obj{"type": "text", "text": ""}}),
		sseEvent("ping", obj{"type": "ping"}),
	}
	full := make([]byte, 0, o.Chunks*o.ChunkBytes)
	for i := range o.Chunks {
		text := chunkText(o.ChunkBytes, i)
		full = append(full, text...)
		p.chunks = append(p.chunks, sseEvent("content_block_delta", obj{"type": "content_block_delta",
			"index": 0, "delta": obj{"type": "text_delta", "text": text}}))
	}
	tail := sseEvent("content_block_stop", obj{"type": "content_block_stop", "index": 0})
	tail = append(tail, sseEvent("message_delta", obj{"type": "message_delta",
		"delta": obj{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": obj{"output_tokens": o.Chunks}})...)
	p.tail = tail
	p.done = sseEvent("message_stop", obj{"type": "message_stop"})
	p.jsonBody = mustJSON(obj{
		"id": id, "type": "message", "role": "assistant", "model": model,
		"content":     []any{obj{"type": "text", "text": string(full)}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": obj{"input_tokens": benchPromptTokens, "output_tokens": o.Chunks},
	})
	p.errBody = mustJSON(obj{"type": "error", "error": obj{"type": anthropicErrorType(o.ErrorStatus),
		"message": "bench: injected error (status " + strconv.Itoa(o.ErrorStatus) + ")"}})
	return p
}

// openAIErrorType is the "type" OpenAI uses for an error status.
func openAIErrorType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 429:
		return "rate_limit_exceeded"
	case status >= 400 && status < 500:
		return "invalid_request_error"
	default:
		return "server_error"
	}
}

// anthropicErrorType is the error.type Anthropic uses for an error status.
func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}
