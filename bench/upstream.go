package bench

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"net"
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

// Upstream is a fake LLM server speaking OpenAI's chat completions API,
// OpenAI's Responses API and Anthropic's Messages API (JSON and SSE). All response
// bytes are precomputed per model name, so serving costs no JSON encoding.
type Upstream struct {
	opts UpstreamOptions
	srv  *fasthttp.Server

	mu     sync.RWMutex
	bodies map[bodyKey]*precomputed

	requests, streams, closedEarly, injected, notFound atomic.Int64
}

type bodyKey struct {
	model string
	api   string
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
	api := apiOpenAI
	switch string(ctx.Path()) {
	case "/v1/chat/completions", "/chat/completions":
	case "/v1/messages", "/messages":
		api = apiAnthropic
	case "/v1/responses", "/responses":
		api = apiResponses
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
	p := u.responses(req.Model, api)
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
	usage := api == apiOpenAI && req.StreamOptions != nil && req.StreamOptions.IncludeUsage
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
func (u *Upstream) responses(model string, api string) *precomputed {
	if model == "" || len(model) > 200 {
		model = "bench-model"
	}
	k := bodyKey{model, api}
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
	switch api {
	case apiAnthropic:
		p = buildAnthropic(model, u.opts)
	case apiResponses:
		p = buildResponses(model, u.opts)
	default:
		p = buildOpenAI(model, u.opts)
	}
	u.bodies[k] = p
	return p
}
