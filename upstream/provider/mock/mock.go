// Package mock answers chat and embeddings in-process, from
// litellm_params.mock_response, with no upstream: for tests, benchmarks
// and dry runs. It implements the upstream/provider contract and must
// not know the router or the HTTP server.
package mock

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
)

// Provider answers chat and embeddings in-process from
// litellm_params.mock_response: no endpoint, no key.
var Provider = provider.Descriptor{
	Routes: provider.RoutesOf(provider.RouteChat, provider.RouteEmbeddings),
	Attempt: func(d *provider.Endpoint, req *provider.Request, _ []byte, out *provider.Answer) *provider.Error {
		return mockChat(d, req, out)
	},
}

// defaultMockResponse answers a mock/ deployment without mock_response.
const defaultMockResponse = "This is a mock response from llmedge."

var mockSeq atomic.Uint64

// mockChat answers from the deployment's mock_response, in-process.
func mockChat(d *provider.Endpoint, req *provider.Request, out *provider.Answer) *provider.Error {
	if req.Route == provider.RouteEmbeddings {
		return mockEmbeddings(req, out)
	}
	text := defaultMockResponse
	if d.Config.HasMockResponse {
		text = d.Config.MockResponse
	}
	id := "chatcmpl-mock-" + strconv.FormatUint(mockSeq.Add(1), 10)
	created := time.Now().Unix()
	prompt := len(req.Body)/4 + 1
	completion := len(splitWords(text))
	out.Usage = provider.Usage{PromptTokens: prompt, CompletionTokens: completion, Reported: true}
	if req.Stream {
		// The mock knows its usage; a real stream's is read from its
		// usage chunk.
		out.Usage = provider.Usage{PromptTokens: prompt, CompletionTokens: completion, Reported: true}
		s := mockStreams.Get().(*mockStream)
		*s = mockStream{model: append(s.model[:0], req.Model...), id: id, created: created, pieces: splitWords(text),
			includeUsage: req.IncludeUsage, prompt: prompt, completion: completion, buf: s.buf[:0]}
		out.StartRelay(s, nil)
		return nil
	}
	b := out.Body[:0]
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = jsonx.AppendString(b, req.Model)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	b = jsonx.AppendString(b, text)
	b = append(b, `,"refusal":null},"logprobs":null,"finish_reason":"stop"}],`...)
	b = provider.AppendUsage(b, prompt, completion)
	b = append(b, '}')
	out.Body = b
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

// splitWords cuts text into stream pieces: each word with the space
// that follows it, so the pieces concatenate back to text.
func splitWords(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			out = append(out, text[start:i+1])
			start = i + 1
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// mockStream streams mock_response as chat.completion.chunk events, a
// word per event, each flushed on its own.
type mockStream struct {
	// model is the client's model name, copied: the client's body,
	// where it was, goes when the stream starts.
	model        []byte
	id           string
	created      int64
	pieces       []string
	includeUsage bool
	prompt       int
	completion   int
	// sent counts the events handed out: the role chunk, one per piece,
	// then the last one.
	sent int
	buf  []byte
}

var mockStreams = sync.Pool{New: func() any { return &mockStream{buf: make([]byte, 0, 512)} }}

func (s *mockStream) Release() {
	*s = mockStream{buf: s.buf[:0], model: s.model[:0]}
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	mockStreams.Put(s)
}

func (s *mockStream) chunkPrefix(b []byte) []byte {
	b = append(b, `data: {"id":"`...)
	b = append(b, s.id...)
	b = append(b, `","object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, s.created, 10)
	b = append(b, `,"model":`...)
	b = jsonx.AppendString(b, s.model)
	return b
}

func (s *mockStream) Next() ([]byte, bool, error) {
	b := s.chunkPrefix(s.buf[:0])
	n := s.sent
	s.sent++
	switch {
	case n == 0:
		b = append(b, `,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
	case n <= len(s.pieces):
		b = append(b, `,"choices":[{"index":0,"delta":{"content":`...)
		b = jsonx.AppendString(b, s.pieces[n-1])
		b = append(b, `},"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
	default:
		b = append(b, `,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`+"\n\n"...)
		if s.includeUsage {
			b = s.chunkPrefix(b)
			b = append(b, `,"choices":[],`...)
			b = provider.AppendUsage(b, s.prompt, s.completion)
			b = append(b, "}\n\n"...)
		}
		b = append(b, sse.Done...)
		s.buf = b
		return b, true, nil
	}
	s.buf = b
	return b, false, nil
}

// buffered is false: every word is its own flushed event.
func (s *mockStream) Buffered() bool { return false }

func (s *mockStream) Drain() {}

// failure is never called: the mock does not fail mid-stream.
func (s *mockStream) Failure(dst []byte, err error) ([]byte, error) { return dst, err }
