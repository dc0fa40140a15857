package upstream

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/sse"
)

// defaultMockResponse answers a mock/ deployment without mock_response.
const defaultMockResponse = "This is a mock response from llmedge."

var mockSeq atomic.Uint64

// mockChat answers from the deployment's mock_response, in-process.
func mockChat(d *Deployment, req *ChatRequest, out *Response) *Error {
	if req.Route == RouteEmbeddings {
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
	out.Usage = Usage{PromptTokens: prompt, CompletionTokens: completion, Reported: true}
	if req.Stream {
		// The mock knows its usage; a real stream's is read from its
		// usage chunk.
		out.Usage = Usage{PromptTokens: prompt, CompletionTokens: completion, Reported: true}
		out.mock = mockStream{d: d, model: req.Model, id: id, created: created, text: text,
			includeUsage: req.IncludeUsage, prompt: prompt, completion: completion}
		out.Stream = &out.mock
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
	b = appendUsage(b, prompt, completion)
	b = append(b, '}')
	out.Body = b
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	return nil
}

func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	return append(b, '}')
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
// word per event.
type mockStream struct {
	d            *Deployment
	model        []byte
	id           string
	created      int64
	text         string
	includeUsage bool
	prompt       int
	completion   int
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

func (s *mockStream) Relay(w Writer) error {
	b := make([]byte, 0, 512)
	emit := func() error {
		if _, err := w.Write(b); err != nil {
			return ErrClientGone
		}
		if w.Flush() != nil {
			return ErrClientGone
		}
		b = b[:0]
		return nil
	}
	b = s.chunkPrefix(b)
	b = append(b, `,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
	if err := emit(); err != nil {
		return err
	}
	for _, piece := range splitWords(s.text) {
		b = s.chunkPrefix(b)
		b = append(b, `,"choices":[{"index":0,"delta":{"content":`...)
		b = jsonx.AppendString(b, piece)
		b = append(b, `},"logprobs":null,"finish_reason":null}]}`+"\n\n"...)
		if err := emit(); err != nil {
			return err
		}
	}
	b = s.chunkPrefix(b)
	b = append(b, `,"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`+"\n\n"...)
	if s.includeUsage {
		b = s.chunkPrefix(b)
		b = append(b, `,"choices":[],`...)
		b = appendUsage(b, s.prompt, s.completion)
		b = append(b, "}\n\n"...)
	}
	b = append(b, sse.Done...)
	return emit()
}
