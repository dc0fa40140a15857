package upstream

import (
	"github.com/llmedge/llmedge/internal/errbody"
	"github.com/llmedge/llmedge/sse"
)

// maxStreamEvent caps one upstream stream event. A Responses API
// response.completed event repeats the whole response (instructions,
// tools, every output item), which for coding agents can pass the SSE
// codec's 1 MiB default.
const maxStreamEvent = 16 << 20

// appendError appends the event that ends a stream failing mid-way:
// for chat and completions an OpenAI error object in a data event and
// [DONE]; for the Responses API its "error" event, which has no [DONE].
func (s *passStream) appendError(dst []byte, message, typ, code string) []byte {
	if !s.named {
		dst = errbody.AppendOpenAIEvent(dst, message, typ, code)
		return append(dst, sse.Done...)
	}
	return errbody.AppendResponsesEvent(dst, message, code)
}
