package server

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/openai/openai-go/v3"
	"net/http"
	"strings"
	"testing"
)

// completionAnswer is the documented legacy completions response, or
// its stream of text_completion chunks ending in [DONE].
func completionAnswer(words []string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.Unmarshal(body, &req)
		model := upstreamModel(body)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7","object":"text_completion","created":1589478378,"model":%q,"system_fingerprint":"fp_44709d6fcb","choices":[{"text":%q,"index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`, model, strings.Join(words, " "))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i, word := range words {
			if i > 0 {
				word = " " + word
			}
			fmt.Fprintf(w, "data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":%q,\"index\":0,\"logprobs\":null,\"finish_reason\":null}],\"model\":%q,\"system_fingerprint\":\"fp_44709d6fcb\"}\n\n", word, model)
			fl.Flush()
		}
		fmt.Fprintf(w, "data: {\"id\":\"cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe\",\"object\":\"text_completion\",\"created\":1690759702,\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"length\"}],\"model\":%q}\n\ndata: [DONE]\n\n", model)
		fl.Flush()
	}
}

func TestSDKCompletions(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "instruct", "text-completion-openai/gpt-3.5-turbo-instruct", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	p := openai.CompletionNewParams{Model: "instruct", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say this is a test")}, MaxTokens: openai.Int(7)}
	c, err := client.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Text != "This is indeed a test" || c.Usage.TotalTokens != 12 {
		t.Fatalf("completion = %+v", c)
	}
	if r := up.requests()[0]; r.Path != "/v1/completions" || upstreamModel(r.Body) != "gpt-3.5-turbo-instruct" {
		t.Fatalf("upstream saw %s %s", r.Path, r.Body)
	}

	stream := client.Completions.NewStreaming(context.Background(), p)
	var text strings.Builder
	n := 0
	for stream.Next() {
		ch := stream.Current()
		if len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Text)
		}
		n++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "This is indeed a test" || n != 6 {
		t.Fatalf("streamed %q in %d chunks", text.String(), n)
	}
}
