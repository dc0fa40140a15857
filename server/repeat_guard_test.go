package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
)

// litellm_settings.REPEATED_STREAMING_CHUNK_LIMIT: a model stuck in a
// loop streams the same text chunk until the limit; llmedge ends the
// client's stream with the route's error event and closes the upstream
// call (the fake sees its client leave while it would go on for ever).

// looping is an upstream that, after a few words, repeats one chunk
// until its client leaves (or 10 s pass); left is closed when it saw
// the client go.
type looping struct {
	left  chan struct{}
	sent  atomic.Int64
	event func(i int) string // the i-th SSE event
}

func (l *looping) handler(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		if _, err := fmt.Fprint(w, l.event(i)); err != nil {
			close(l.left)
			return
		}
		fl.Flush()
		l.sent.Add(1)
		select {
		case <-r.Context().Done():
			close(l.left)
			return
		case <-deadline:
			return
		default:
		}
	}
}

func (l *looping) waitLeft(t *testing.T) {
	t.Helper()
	select {
	case <-l.left:
	case <-time.After(10 * time.Second):
		t.Fatalf("the upstream call was not closed (%d events sent)", l.sent.Load())
	}
}

// chatLoop repeats the content chunk text after "Hello".
func chatLoop(text string) *looping {
	return &looping{left: make(chan struct{}), event: func(i int) string {
		c := text
		if i == 0 {
			c = "Hello"
		}
		return fmt.Sprintf("data: {\"id\":\"chatcmpl-loop\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"obfuscation\":\"%d\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", i, c)
	}}
}

// anthropicLoop repeats a text_delta, as Claude's stream would.
func anthropicLoop(text string) *looping {
	return &looping{left: make(chan struct{}), event: func(i int) string {
		switch i {
		case 0:
			e := providertest.AnStart("claude-sonnet-4-5", 3, 0, 0)
			return "event: " + e.Name + "\ndata: " + e.Data + "\n\n"
		case 1:
			e := providertest.AnBlockStart(0, `{"type":"text","text":""}`)
			return "event: " + e.Name + "\ndata: " + e.Data + "\n\n"
		}
		e := providertest.AnTextDelta(0, text)
		return "event: " + e.Name + "\ndata: " + e.Data + "\n\n"
	}}
}

func repeatConfig(limit int, deps ...*config.Deployment) *config.Config {
	cfg := testConfig(deps...)
	if limit >= 0 {
		setSettings(cfg, "litellm_settings", map[string]any{"REPEATED_STREAMING_CHUNK_LIMIT": limit})
	}
	return cfg
}

func TestRepeatedChunksEndChatStream(t *testing.T) {
	loop := chatLoop("all work and no play ")
	up := newFakeOpenAI(t)
	up.setHandler(loop.handler)
	gw := startGateway(t, repeatConfig(5, dep(0, "m", "openai/gpt-4o", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	p := userMsg("x")
	p.Model = "m"
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	var apiErr *openai.Error
	err := stream.Err()
	if err == nil || !strings.Contains(err.Error(), "repeated the same chunk 5 times") {
		t.Fatalf("stream error %v (%T) after %q", err, errors.As(err, &apiErr), text.String())
	}
	// "Hello", then the five repeats, then the error.
	if want := "Hello" + strings.Repeat("all work and no play ", 5); text.String() != want {
		t.Fatalf("client got %q, want %q", text.String(), want)
	}
	loop.waitLeft(t)
}

func TestRepeatedChunksEndMessagesStreams(t *testing.T) {
	for _, c := range []struct {
		name string
		loop *looping
		dep  func(up *fakeOpenAI) *config.Deployment
	}{
		{"translated", chatLoop("again and again"), func(up *fakeOpenAI) *config.Deployment {
			return dep(0, "claude", "openai/gpt-4o", up.base(), "k")
		}},
		{"passed through", anthropicLoop("again and again"), func(up *fakeOpenAI) *config.Deployment {
			return anthropicDep(0, "claude", up)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(c.loop.handler)
			gw := startGateway(t, repeatConfig(7, c.dep(up)))
			client := claudeSDK(gw)
			stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "claude", MaxTokens: 100,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
			deltas := 0
			for stream.Next() {
				if ev := stream.Current(); ev.Type == "content_block_delta" && ev.Delta.Text == "again and again" {
					deltas++
				}
			}
			err := stream.Err()
			if err == nil || !strings.Contains(err.Error(), "repeated the same chunk 7 times") {
				t.Fatalf("stream error %v after %d deltas", err, deltas)
			}
			if deltas != 7 {
				t.Fatalf("%d repeated deltas reached the client, want 7", deltas)
			}
			c.loop.waitLeft(t)
		})
	}
}

func TestRepeatedChunksEndResponsesStream(t *testing.T) {
	loop := anthropicLoop("and so on and so on")
	up := newFakeOpenAI(t)
	up.setHandler(loop.handler)
	gw := startGateway(t, repeatConfig(-1, anthropicDep(0, "claude", up))) // LiteLLM's default: 100
	client := sdk(gw, testMasterKey)
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{Model: "claude",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	deltas, failed, msg := 0, false, ""
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "response.output_text.delta":
			deltas++
		case "error":
			msg = ev.Message
		case "response.failed":
			failed = true
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "repeated the same chunk 100 times") || !failed || deltas != 100 {
		t.Fatalf("error event %q, response.failed %v, after %d deltas", msg, failed, deltas)
	}
	loop.waitLeft(t)
}

// What is not a loop: chunks of two characters or fewer (LiteLLM's
// rule: "\n\n", "||"), a limit of 0, and repeats below the limit.
func TestRepeatedChunksNotALoop(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit int
		text  string
	}{
		{"short chunks", 3, "\n\n"},
		{"off", 0, "the same words"},
		{"below the limit", 200, "the same words"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newFakeOpenAI(t)
			up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
				w.Header().Set("Content-Type", "text/event-stream")
				for range 150 {
					fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", c.text)
				}
				fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
			})
			gw := startGateway(t, repeatConfig(c.limit, dep(0, "m", "openai/gpt-4o", up.base(), "k")))
			client := sdk(gw, testMasterKey)
			p := userMsg("x")
			p.Model = "m"
			stream := client.Chat.Completions.NewStreaming(context.Background(), p)
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if got := acc.Choices[0].Message.Content; got != strings.Repeat(c.text, 150) {
				t.Fatalf("content cut: %d bytes", len(got))
			}
		})
	}
}
