package server

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/openai/openai-go/v3"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

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
