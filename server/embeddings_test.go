package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/openai/openai-go/v3"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
)

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
