package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// The fakes below answer the way OpenAI's API reference documents
// POST /v1/embeddings, POST /v1/completions and the Responses API
// (create, streaming events, retrieve, delete).

// embeddingAnswer is the documented embeddings response: float arrays,
// or base64 of little-endian float32 when encoding_format is "base64".
func embeddingAnswer(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
	}
	_ = json.Unmarshal(body, &req)
	n := 1
	var list []json.RawMessage
	if json.Unmarshal(req.Input, &list) == nil {
		n = len(list)
		var ids []int64
		if json.Unmarshal(req.Input, &ids) == nil {
			n = 1 // one token array
		}
	}
	var data []string
	for i := 0; i < n; i++ {
		vec := []float32{0.0023064255, -0.009327292, float32(i) + 0.5}
		var emb string
		if req.EncodingFormat == "base64" {
			raw := make([]byte, 0, 4*len(vec))
			for _, f := range vec {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
			emb = `"` + base64.StdEncoding.EncodeToString(raw) + `"`
		} else {
			b, _ := json.Marshal(vec)
			emb = string(b)
		}
		data = append(data, fmt.Sprintf(`{"object":"embedding","embedding":%s,"index":%d}`, emb, i))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"object":"list","data":[%s],"model":%q,"usage":{"prompt_tokens":8,"total_tokens":8}}`, strings.Join(data, ","), upstreamModel(body))
}

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

// responseObject is a Response as the API reference shows it.
func responseObject(id, model, status, text string, usage bool) map[string]any {
	output := []any{}
	if status == "completed" {
		output = append(output, map[string]any{
			"type": "message", "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e6", "status": "completed", "role": "assistant",
			"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}},
		})
	}
	var u any
	if usage {
		u = map[string]any{"input_tokens": 36, "input_tokens_details": map[string]any{"cached_tokens": 0},
			"output_tokens": 87, "output_tokens_details": map[string]any{"reasoning_tokens": 0}, "total_tokens": 123}
	}
	return map[string]any{
		"id": id, "object": "response", "created_at": 1741476542, "status": status, "error": nil,
		"incomplete_details": nil, "instructions": nil, "max_output_tokens": nil, "model": model,
		"output": output, "parallel_tool_calls": true, "previous_response_id": nil,
		"reasoning": map[string]any{"effort": nil, "summary": nil}, "store": true, "temperature": 1.0,
		"text": map[string]any{"format": map[string]any{"type": "text"}}, "tool_choice": "auto", "tools": []any{},
		"top_p": 1.0, "truncation": "disabled", "usage": u, "user": nil, "metadata": map[string]any{},
	}
}

const testResponseID = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"

// responsesEvents is a streamed Responses call as documented: named
// events, each data carrying its type and sequence_number, no [DONE].
func responsesEvents(model string, words []string) []string {
	const item = "msg_67ccd2bf17f0819081ff3bb2cf6508e6"
	text := strings.Join(words, " ")
	seq := 0
	var evs []string
	add := func(typ string, fields map[string]any) {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		b, _ := json.Marshal(fields)
		evs = append(evs, "event: "+typ+"\ndata: "+string(b)+"\n\n")
	}
	add("response.created", map[string]any{"response": responseObject(testResponseID, model, "in_progress", "", false)})
	add("response.in_progress", map[string]any{"response": responseObject(testResponseID, model, "in_progress", "", false)})
	add("response.output_item.added", map[string]any{"output_index": 0, "item": map[string]any{"id": item, "type": "message", "status": "in_progress", "role": "assistant", "content": []any{}}})
	add("response.content_part.added", map[string]any{"item_id": item, "output_index": 0, "content_index": 0, "part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		add("response.output_text.delta", map[string]any{"item_id": item, "output_index": 0, "content_index": 0, "delta": w, "logprobs": []any{}})
	}
	add("response.output_text.done", map[string]any{"item_id": item, "output_index": 0, "content_index": 0, "text": text, "logprobs": []any{}})
	add("response.content_part.done", map[string]any{"item_id": item, "output_index": 0, "content_index": 0, "part": map[string]any{"type": "output_text", "text": text, "annotations": []any{}}})
	done := responseObject(testResponseID, model, "completed", text, true)
	add("response.output_item.done", map[string]any{"output_index": 0, "item": done["output"].([]any)[0]})
	add("response.completed", map[string]any{"response": done})
	return evs
}

// responsesAPI answers every Responses route; gate (optional) holds the
// stream after its first delta until closed.
func responsesAPI(words []string, gate chan struct{}) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodDelete:
			fmt.Fprintf(w, `{"id":%q,"object":"response","deleted":true}`, strings.TrimPrefix(r.URL.Path, "/v1/responses/"))
			return
		case http.MethodGet:
			b, _ := json.Marshal(responseObject(strings.TrimPrefix(r.URL.Path, "/v1/responses/"), "gpt-5-codex", "completed", strings.Join(words, " "), true))
			_, _ = w.Write(b)
			return
		}
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.Unmarshal(body, &req)
		model := upstreamModel(body)
		if !req.Stream {
			b, _ := json.Marshal(responseObject(testResponseID, model, "completed", strings.Join(words, " "), true))
			_, _ = w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, ev := range responsesEvents(model, words) {
			_, _ = io.WriteString(w, ev)
			fl.Flush()
			if gate != nil && strings.HasPrefix(ev, "event: response.output_text.delta") {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Second):
					return
				}
				gate = nil
			}
		}
	}
}

// rawOpen sends a request and reads the response head, leaving the
// chunked body to be read event by event.
func rawOpen(t *testing.T, gw *gateway, method, path, body string, headers ...string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", gw.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	writeRequest(t, conn, method, path, body, append(headers, "Authorization: Bearer "+testMasterKey)...)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type %q", ct)
	}
	return conn, bufio.NewReader(&chunkedReader{br: br})
}

// routedFake answers each OpenAI route the way its reference documents.
func routedFake(t *testing.T, gate chan struct{}) *fakeOpenAI {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path == "/v1/embeddings":
			embeddingAnswer(w, r, body)
		case r.URL.Path == "/v1/completions":
			completionAnswer([]string{"This", "is", "indeed", "a", "test"})(w, r, body)
		case strings.HasPrefix(r.URL.Path, "/v1/responses"):
			responsesAPI([]string{"In", "a", "peaceful", "grove"}, gate)(w, r, body)
		default:
			answerJSON("chat")(w, r, body)
		}
	})
	return up
}

func TestSDKEmbeddingsInputShapes(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "embed", "openai/text-embedding-3-small", up.base(), "sk-up")))
	client := sdk(gw, testMasterKey)
	cases := []struct {
		name  string
		input openai.EmbeddingNewParamsInputUnion
		want  string // input as the upstream must see it
		n     int
	}{
		{"string", openai.EmbeddingNewParamsInputUnion{OfString: openai.String("The food was delicious")}, `"The food was delicious"`, 1},
		{"strings", openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}, `["a","b"]`, 2},
		{"tokens", openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1212, 318}}, `[1212,318]`, 1},
		{"token arrays", openai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{1}, {2, 3}, {4}}}, `[[1],[2,3],[4]]`, 3},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "embed", Input: tc.input})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Data) != tc.n || len(res.Data[0].Embedding) != 3 || res.Usage.PromptTokens != 8 {
				t.Fatalf("answer = %+v", res)
			}
			seen := up.requests()[i]
			if seen.Path != "/v1/embeddings" || seen.Header.Get("Authorization") != "Bearer sk-up" {
				t.Fatalf("upstream saw %s auth %q", seen.Path, seen.Header.Get("Authorization"))
			}
			var got struct {
				Model string          `json:"model"`
				Input json.RawMessage `json:"input"`
			}
			if err := json.Unmarshal(seen.Body, &got); err != nil || got.Model != "text-embedding-3-small" || string(got.Input) != tc.want {
				t.Fatalf("upstream body %s", seen.Body)
			}
		})
	}
}

// The request reaches the upstream, and the answer the client, byte for
// byte (model aside): base64 vectors are not re-encoded.
func TestEmbeddingsBase64ByteForByte(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "embed", "openai/text-embedding-3-large", up.base(), "k")))
	body := `{"input": ["x", "y"],  "model":"embed", "encoding_format":"base64", "dimensions": 3, "user":"u-1"}`
	resp := rawPost(t, gw, "/v1/embeddings", body, testMasterKey)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if got, want := string(up.requests()[0].Body), strings.Replace(body, `"embed"`, `"text-embedding-3-large"`, 1); got != want {
		t.Fatalf("upstream body\n got %s\nwant %s", got, want)
	}
	// What the fake wrote is what the client read.
	rec := httptestRecorder(t, up.base()+"/embeddings", strings.Replace(body, `"embed"`, `"text-embedding-3-large"`, 1))
	if string(resp.Body) != rec {
		t.Fatalf("answer changed on the way:\n got %s\nwant %s", resp.Body, rec)
	}
	// And the SDK decodes the base64 vectors.
	client := sdk(gw, testMasterKey)
	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}, EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Data[0].Embedding; len(got) != 3 || float32(got[1]) != -0.009327292 {
		t.Fatalf("decoded %v", got)
	}
}

// httptestRecorder posts body straight to the fake upstream and returns
// its answer.
func httptestRecorder(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
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

func TestSDKResponsesCreate(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "gpt-5-codex", "openai/gpt-5-codex", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	res, err := client.Responses.New(context.Background(), responses.ResponseNewParams{Model: "gpt-5-codex",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Tell me a three sentence bedtime story")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OutputText() != "In a peaceful grove" || res.Usage.OutputTokens != 87 || res.ID != testResponseID {
		t.Fatalf("response = %+v", res)
	}
	if r := up.requests()[0]; r.Path != "/v1/responses" || upstreamModel(r.Body) != "gpt-5-codex" {
		t.Fatalf("upstream saw %s %s", r.Path, r.Body)
	}
}

// A streamed Responses call read by the SDK: every named event arrives,
// the deltas add up to the text of response.completed, whose usage is
// the upstream's.
func TestSDKResponsesStream(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "gpt-5-codex", "openai/gpt-5-codex", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{Model: "gpt-5-codex",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}})
	var deltas strings.Builder
	var types []string
	var completed *responses.Response
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.AsResponseOutputTextDelta().Delta)
		case "response.completed":
			r := ev.AsResponseCompleted().Response
			completed = &r
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if completed == nil {
		t.Fatalf("no response.completed among %v", types)
	}
	if got := completed.OutputText(); got != deltas.String() || got != "In a peaceful grove" {
		t.Fatalf("completed text %q, deltas %q", got, deltas.String())
	}
	if completed.Usage.InputTokens != 36 || completed.Usage.OutputTokens != 87 {
		t.Fatalf("usage = %+v", completed.Usage)
	}
	if len(types) != 12 || types[0] != "response.created" {
		t.Fatalf("events = %v", types)
	}
}

// The Responses stream is relayed unchanged (named events, no [DONE]
// added) and unbuffered: a delta reaches the client while the upstream
// is still holding the rest.
func TestResponsesStreamRawUnbufferedUnchanged(t *testing.T) {
	gate := make(chan struct{})
	up := routedFake(t, gate)
	gw := startGateway(t, testConfig(dep(0, "gpt-5-codex", "openai/gpt-5-codex", up.base(), "k")))
	conn, br := rawOpen(t, gw, "POST", "/v1/responses", `{"model":"gpt-5-codex","input":"hi","stream":true}`)
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got strings.Builder
	for !strings.Contains(got.String(), "event: response.output_text.delta\n") || !strings.HasSuffix(got.String(), "\n\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("first delta never arrived while upstream held the stream: %v (got %q)", err, got.String())
		}
		got.WriteString(line)
	}
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	got.Write(rest)
	want := strings.Join(responsesEvents("gpt-5-codex", []string{"In", "a", "peaceful", "grove"}), "")
	if got.String() != want {
		t.Fatalf("stream changed on the way:\n got %q\nwant %q", got.String(), want)
	}
}

func TestSDKResponsesGetDelete(t *testing.T) {
	up := routedFake(t, nil)
	other := routedFake(t, nil)
	gw := startGatewayWithModes(t, up, other)
	client := sdk(gw, testMasterKey)

	// No model named: the first model serving the Responses API.
	res, err := client.Responses.Get(context.Background(), testResponseID, responses.ResponseGetParams{Include: []responses.ResponseIncludable{"message.output_text.logprobs"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != testResponseID || res.OutputText() != "In a peaceful grove" {
		t.Fatalf("get = %+v", res)
	}
	r := up.requests()[0]
	if r.Path != "/v1/responses/"+testResponseID || len(r.Body) != 0 {
		t.Fatalf("upstream saw %s body %q", r.Path, r.Body)
	}
	if err := client.Responses.Delete(context.Background(), testResponseID); err != nil {
		t.Fatal(err)
	}
	if n := len(up.requests()); n != 2 {
		t.Fatalf("upstream saw %d requests", n)
	}

	// Named by header: goes to that model's deployment.
	if err := client.Responses.Delete(context.Background(), testResponseID, option.WithHeader(ModelHeader, "gpt-4o")); err != nil {
		t.Fatal(err)
	}
	if n := len(other.requests()); n != 1 {
		t.Fatalf("x-llmedge-model ignored: other upstream saw %d requests", n)
	}
}

// startGatewayWithModes: an embedding model first, then two Responses
// capable models on two upstreams.
func startGatewayWithModes(t *testing.T, up, other *fakeOpenAI) *gateway {
	e := dep(0, "embed", "openai/text-embedding-3-small", other.base(), "k")
	e.ModelInfo = map[string]any{"mode": "embedding"}
	return startGateway(t, testConfig(e,
		dep(1, "gpt-5-codex", "openai/gpt-5-codex", up.base(), "k"),
		dep(2, "gpt-4o", "openai/gpt-4o", other.base(), "k")))
}

func TestResponsesByIDModelChoiceAndQuery(t *testing.T) {
	up := routedFake(t, nil)
	other := routedFake(t, nil)
	gw := startGatewayWithModes(t, up, other)
	auth := "Authorization: Bearer " + testMasterKey

	// ?model= routes like the header and is not passed upstream; the
	// rest of the query is.
	r := rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID+"?include[]=reasoning.encrypted_content&model=gpt-4o&starting_after=3", "", auth)
	if r.StatusCode != 200 || len(other.requests()) != 1 {
		t.Fatalf("status %d, other upstream saw %d: %s", r.StatusCode, len(other.requests()), r.Body)
	}
	seen := other.requests()[0]
	if seen.Path != "/v1/responses/"+testResponseID {
		t.Fatalf("path %q", seen.Path)
	}

	// Without /v1 too, and DELETE answers the documented deletion object.
	r = rawRequest(t, gw, "DELETE", "/responses/"+testResponseID, "", auth)
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"deleted":true`) {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}

	// A model that does not serve the Responses API is refused by name.
	r = rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID, "", auth, ModelHeader+": embed")
	if r.StatusCode != 400 || !strings.Contains(r.Body, `embed`) || !strings.Contains(r.Body, "GET /v1/responses/{id}") {
		t.Fatalf("embedding model: %d %s", r.StatusCode, r.Body)
	}
	// Ids that could change the upstream path are refused.
	for _, id := range []string{"resp%20x", "..", "a;b"} {
		r = rawRequest(t, gw, "GET", "/v1/responses/"+id, "", auth)
		if r.StatusCode != 400 || !strings.Contains(r.Body, `"param":"response_id"`) {
			t.Fatalf("id %q: %d %s", id, r.StatusCode, r.Body)
		}
	}
	// Unknown model named.
	r = rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID+"?model=nope", "", auth)
	if r.StatusCode != 404 {
		t.Fatalf("unknown model: %d %s", r.StatusCode, r.Body)
	}
	// Auth as everywhere.
	if r = rawRequest(t, gw, "DELETE", "/v1/responses/"+testResponseID, ""); r.StatusCode != 401 {
		t.Fatalf("no key: %d", r.StatusCode)
	}
}

// The query string reaches the upstream minus "model".
func TestResponsesByIDQueryForwarded(t *testing.T) {
	up := newFakeOpenAI(t)
	var mu sync.Mutex
	var uri string
	gotURI := func() string { mu.Lock(); defer mu.Unlock(); return uri }
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		uri = r.Method + " " + r.URL.RequestURI()
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(responseObject(testResponseID, "gpt-5-codex", "completed", "x", true))
		_, _ = w.Write(b)
	})
	gw := startGateway(t, testConfig(dep(0, "codex", "openai/gpt-5-codex", up.base(), "k")))
	r := rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID+"?model=codex&include%5B%5D=file_search_call.results&starting_after=3", "", "Authorization: Bearer "+testMasterKey)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if want := "GET /v1/responses/" + testResponseID + "?include%5B%5D=file_search_call.results&starting_after=3"; gotURI() != want {
		t.Fatalf("upstream got %q, want %q", gotURI(), want)
	}
	client := sdk(gw, testMasterKey)
	if _, err := client.Responses.Get(context.Background(), testResponseID, responses.ResponseGetParams{StartingAfter: openai.Int(2)}); err != nil {
		t.Fatal(err)
	}
	if want := "GET /v1/responses/" + testResponseID + "?starting_after=2"; gotURI() != want {
		t.Fatalf("upstream got %q, want %q", gotURI(), want)
	}
}

// GET /v1/responses/{id}?stream=true replays a background response as
// SSE; the SDK reads it like a created stream.
func TestSDKResponsesGetStreaming(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Query().Get("stream") != "true" {
			http.Error(w, `{"error":{"message":"want stream","type":"invalid_request_error","param":null,"code":null}}`, 400)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range responsesEvents("gpt-5-codex", []string{"again"}) {
			_, _ = io.WriteString(w, ev)
		}
	})
	gw := startGateway(t, testConfig(dep(0, "codex", "openai/gpt-5-codex", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	stream := client.Responses.GetStreaming(context.Background(), testResponseID, responses.ResponseGetParams{})
	var text string
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "response.completed" {
			text = ev.AsResponseCompleted().Response.OutputText()
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "again" {
		t.Fatalf("text %q", text)
	}
}

// A route the model cannot serve is a 400 naming model and route, before
// any upstream call.
func TestRouteNotServedIs400(t *testing.T) {
	up := routedFake(t, nil)
	e := dep(0, "embed", "openai/text-embedding-3-small", up.base(), "k")
	e.ModelInfo = map[string]any{"mode": "embedding"}
	codex := dep(1, "codex", "openai/gpt-5-codex", up.base(), "k")
	codex.ModelInfo = map[string]any{"mode": "responses"}
	gw := startGateway(t, testConfig(e, codex,
		dep(2, "claude", "anthropic/claude-sonnet-4-5", "", "k"),
		dep(3, "ds", "deepseek/deepseek-chat", up.base(), "k"),
		dep(4, "mock", "mock/m", "", ""),
	))
	cases := []struct{ path, model, want string }{
		{"/v1/chat/completions", "embed", `model \"embed\" has model_info.mode \"embedding\": it does not serve POST /v1/chat/completions; call POST /v1/embeddings`},
		{"/v1/responses", "embed", `does not serve POST /v1/responses`},
		{"/v1/embeddings", "codex", `model \"codex\" has model_info.mode \"responses\": it does not serve POST /v1/embeddings; call POST /v1/responses`},
		{"/v1/chat/completions", "codex", `does not serve POST /v1/chat/completions`},
		{"/v1/embeddings", "claude", `model \"claude\" (provider \"anthropic\") does not serve POST /v1/embeddings`},
		{"/v1/completions", "mock", `model \"mock\" (provider \"mock\") does not serve POST /v1/completions`},
	}
	for _, tc := range cases {
		r := rawPost(t, gw, tc.path, `{"model":"`+tc.model+`","input":"x","prompt":"x","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 400 || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `"param":"model"`) || !strings.Contains(r.Body, `"code":"route_not_supported"`) {
			t.Errorf("%s %s: %d %s", tc.path, tc.model, r.StatusCode, r.Body)
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("upstream called %d times", n)
	}
	// And the SDK sees a 400 BadRequest with the message.
	client := sdk(gw, testMasterKey)
	_, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "claude", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "model" {
		t.Fatalf("sdk error %v", err)
	}
}

// In a group mixing an embedding model and a chat model, each request
// goes to the deployment that serves its route.
func TestMixedGroupPicksServingDeployment(t *testing.T) {
	up := routedFake(t, nil)
	e := dep(0, "m", "openai/text-embedding-3-small", up.base(), "k")
	e.ModelInfo = map[string]any{"mode": "embedding"}
	c := dep(1, "m", "openai/gpt-4o", up.base(), "k")
	c.ModelInfo = map[string]any{"mode": "chat"}
	gw := startGateway(t, testConfig(e, c))
	for i := 0; i < 6; i++ {
		r := rawPost(t, gw, "/v1/embeddings", `{"model":"m","input":"x"}`, testMasterKey)
		if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-0" {
			t.Fatalf("embeddings: %d via %s: %s", r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
		}
		r = rawPost(t, gw, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, testMasterKey)
		if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-1" {
			t.Fatalf("chat: %d via %s: %s", r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
		}
	}
	for _, s := range up.requests() {
		if m := upstreamModel(s.Body); (s.Path == "/v1/embeddings") != (m == "text-embedding-3-small") {
			t.Fatalf("%s went to %s", s.Path, m)
		}
	}
}

// mock/ serves embeddings without keys: deterministic unit vectors,
// "dimensions" honoured, base64 the same floats.
func TestSDKMockEmbeddings(t *testing.T) {
	gw := startGateway(t, testConfig(dep(0, "local-embed", "mock/embed", "", "")))
	client := sdk(gw, testMasterKey)
	ask := func(p openai.EmbeddingNewParams) *openai.CreateEmbeddingResponse {
		t.Helper()
		p.Model = "local-embed"
		res, err := client.Embeddings.New(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := ask(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"alpha", "beta", "alpha"}}})
	if len(a.Data) != 3 || len(a.Data[0].Embedding) != 1536 || a.Model != "local-embed" || a.Usage.PromptTokens == 0 {
		t.Fatalf("answer: %d items, %d dims, model %q, usage %+v", len(a.Data), len(a.Data[0].Embedding), a.Model, a.Usage)
	}
	var norm float64
	for _, f := range a.Data[0].Embedding {
		norm += f * f
	}
	if math.Abs(norm-1) > 1e-3 {
		t.Fatalf("norm² = %v", norm)
	}
	if fmt.Sprint(a.Data[0].Embedding) != fmt.Sprint(a.Data[2].Embedding) || fmt.Sprint(a.Data[0].Embedding) == fmt.Sprint(a.Data[1].Embedding) {
		t.Fatal("vectors are not a function of the input")
	}
	b := ask(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("alpha")}, Dimensions: openai.Int(8),
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64})
	c := ask(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("alpha")}, Dimensions: openai.Int(8)})
	if len(b.Data[0].Embedding) != 8 || len(c.Data[0].Embedding) != 8 {
		t.Fatalf("dimensions ignored: %d, %d", len(b.Data[0].Embedding), len(c.Data[0].Embedding))
	}
	for i, f := range b.Data[0].Embedding {
		if float32(f) != float32(c.Data[0].Embedding[i]) {
			t.Fatalf("base64 %v != float %v", b.Data[0].Embedding, c.Data[0].Embedding)
		}
	}
	ask(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{1, 2}, {3}}}})

	for body, param := range map[string]string{
		`{"model":"local-embed"}`:                                   "input",
		`{"model":"local-embed","input":[]}`:                        "input",
		`{"model":"local-embed","input":[1,"a"]}`:                   "input",
		`{"model":"local-embed","input":"x","encoding_format":"x"}`: "encoding_format",
		`{"model":"local-embed","input":"x","dimensions":0}`:        "dimensions",
	} {
		r := rawPost(t, gw, "/v1/embeddings", body, testMasterKey)
		if r.StatusCode != 400 || !strings.Contains(r.Body, `"param":"`+param+`"`) {
			t.Errorf("%s: %d %s", body, r.StatusCode, r.Body)
		}
	}
}

// An upstream failing mid-way through a Responses stream ends it with
// the Responses API's own "error" event, and no [DONE].
func TestResponsesStreamFailureIsErrorEvent(t *testing.T) {
	up := newFakeOpenAI(t)
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		evs := responsesEvents("gpt-5-codex", []string{"cut"})
		_, _ = io.WriteString(w, evs[0]+"event: response.in_progress\ndata: {\"type\":")
		w.(http.Flusher).Flush()
		// Abort the connection mid-event.
		panic(http.ErrAbortHandler)
	})
	gw := startGateway(t, testConfig(dep(0, "codex", "openai/gpt-5-codex", up.base(), "k")))
	conn, br := rawOpen(t, gw, "POST", "/v1/responses", `{"model":"codex","input":"x","stream":true}`)
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(br)
	got := string(all)
	if !strings.HasPrefix(got, "event: response.created\n") || !strings.Contains(got, "event: error\ndata: {\"type\":\"error\",\"code\":\"upstream_stream_error\"") || strings.Contains(got, "[DONE]") {
		t.Fatalf("stream: %q", got)
	}
	client := sdk(gw, testMasterKey)
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{Model: "codex", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	var types []string
	for stream.Next() {
		types = append(types, stream.Current().Type)
	}
	if len(types) != 2 || types[1] != "error" {
		t.Fatalf("sdk saw %v (err %v)", types, stream.Err())
	}
}

// The config snippet docs/routes.md offers for config.yaml.example:
// embeddings without any key, and model_info.mode read from YAML.
func TestExampleConfigMockEmbeddings(t *testing.T) {
	cfg, err := config.Parse([]byte(`
model_list:
  - model_name: demo
    litellm_params:
      model: mock/demo
  - model_name: demo-embed
    litellm_params:
      model: mock/demo-embed
    model_info:
      mode: embedding
general_settings:
  master_key: `+testMasterKey+`
`), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, cfg)
	client := sdk(gw, testMasterKey)
	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "demo-embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}})
	if err != nil || len(res.Data) != 1 || len(res.Data[0].Embedding) != 1536 {
		t.Fatalf("embeddings: %v %+v", err, res)
	}
	p := userMsg("hi")
	p.Model = "demo-embed"
	_, err = client.Chat.Completions.New(context.Background(), p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "POST /v1/embeddings") {
		t.Fatalf("chat to an embedding model: %v", err)
	}
	// The chat mock serves embeddings too (mock/ has no mode by default).
	if _, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "demo", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}); err != nil {
		t.Fatal(err)
	}
}

// The new routes share chat's retry loop: a failing deployment is left
// for another member of the group.
func TestNewRoutesRetryElsewhere(t *testing.T) {
	bad := newFakeOpenAI(t)
	bad.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) { w.WriteHeader(503) })
	good := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/m", bad.base(), "k"), dep(1, "m", "openai/m", good.base(), "k")))
	for _, c := range []struct{ path, body string }{
		{"/v1/embeddings", `{"model":"m","input":"x"}`},
		{"/v1/completions", `{"model":"m","prompt":"x"}`},
		{"/v1/responses", `{"model":"m","input":"x"}`},
	} {
		for i := 0; i < 4; i++ {
			r := rawPost(t, gw, c.path, c.body, testMasterKey)
			if r.StatusCode != 200 || r.Header.Get("X-Llmedge-Model-Id") != "m-1" {
				t.Fatalf("%s: %d via %s: %s", c.path, r.StatusCode, r.Header.Get("X-Llmedge-Model-Id"), r.Body)
			}
		}
	}
}

// POST /v1/responses/{id}/cancel and GET /v1/responses/{id}/input_items
// reach the same deployment family as GET.
func TestSDKResponsesCancelAndInputItems(t *testing.T) {
	up := newFakeOpenAI(t)
	var mu sync.Mutex
	var uris []string
	up.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		uris = append(uris, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/input_items") {
			fmt.Fprint(w, `{"object":"list","data":[{"id":"msg_abc123","type":"message","role":"user","content":[{"type":"input_text","text":"Tell me a three sentence bedtime story about a unicorn."}]}],"first_id":"msg_abc123","last_id":"msg_abc123","has_more":false}`)
			return
		}
		b, _ := json.Marshal(responseObject(testResponseID, "gpt-5-codex", "cancelled", "", false))
		_, _ = w.Write(b)
	})
	gw := startGateway(t, testConfig(dep(0, "codex", "openai/gpt-5-codex", up.base(), "k")))
	client := sdk(gw, testMasterKey)
	res, err := client.Responses.Cancel(context.Background(), testResponseID)
	if err != nil || res.Status != "cancelled" {
		t.Fatalf("cancel: %v %+v", err, res)
	}
	page, err := client.Responses.InputItems.List(context.Background(), testResponseID, responses.InputItemListParams{Limit: openai.Int(5), Order: responses.InputItemListParamsOrderAsc})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "msg_abc123" {
		t.Fatalf("input items: %v %+v", err, page)
	}
	want := []string{"POST /v1/responses/" + testResponseID + "/cancel", "GET /v1/responses/" + testResponseID + "/input_items?limit=5&order=asc"}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(uris) != fmt.Sprint(want) {
		t.Fatalf("upstream saw %v, want %v", uris, want)
	}
}

// Memory routing applies to every route: the upstream gets x-sm-user-id.
func TestNewRoutesCarryMemoryUserID(t *testing.T) {
	up := routedFake(t, nil)
	gw := startGateway(t, testConfig(dep(0, "m", "openai/gpt-4o", up.base(), "k")))
	auth := "Authorization: Bearer " + testMasterKey
	rawRequest(t, gw, "POST", "/v1/embeddings", `{"model":"m","input":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "POST", "/v1/completions", `{"model":"m","prompt":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "POST", "/v1/responses", `{"model":"m","input":"x"}`, auth, "x-memory-user-id: alice")
	rawRequest(t, gw, "GET", "/v1/responses/"+testResponseID, "", auth, "x-memory-user-id: alice")
	reqs := up.requests()
	if len(reqs) != 4 {
		t.Fatalf("upstream saw %d requests", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Header.Get("X-Sm-User-Id"); got != "alice" {
			t.Errorf("%s: x-sm-user-id = %q", r.Path, got)
		}
	}
}

// A client leaving a Responses stream cancels the upstream call, as for
// chat.
func TestResponsesStreamClientGoneClosesUpstream(t *testing.T) {
	gate := make(chan struct{}) // never opened
	up := routedFake(t, gate)
	gw := startGateway(t, testConfig(dep(0, "codex", "openai/gpt-5-codex", up.base(), "k")))
	conn, br := rawOpen(t, gw, "POST", "/v1/responses", `{"model":"codex","input":"x","stream":true}`)
	for {
		if ev := readEvent(t, conn, br); strings.HasPrefix(ev, "event: response.output_text.delta") {
			break
		}
	}
	_ = conn.Close()
	select {
	case <-up.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request still open 5s after the client left")
	}
}
