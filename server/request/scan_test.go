package request

import (
	"strings"
	"testing"

	"github.com/llmedge/llmedge/internal/allocs"
)

func TestScanChat(t *testing.T) {
	cases := []struct {
		name, body    string
		model         string
		stream, usage bool
		param         string // "" = no error expected; "-" = error without param
	}{
		{"minimal", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "m", false, false, ""},
		{"empty messages", `{"model":"m","messages":[]}`, "", false, false, "messages"},
		{"stream true with usage", `{"stream":true,"model":"gpt-4o","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`, "gpt-4o", true, true, ""},
		{"whitespace everywhere", " \n{ \"model\" :\t\"a b\" , \"stream\" : false ,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\r\n", "a b", false, false, ""},
		{"nested values skipped", `{"messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"tools":[[{"}":"]"}]],"model":"m"}`, "m", false, false, ""},
		{"escaped model", `{"model":"gpt\u002d4o","messages":[{"role":"user","content":"x"}]}`, "gpt-4o", false, false, ""},
		{"null stream", `{"model":"m","stream":null,"messages":[{"role":"user","content":"x"}]}`, "m", false, false, ""},
		{"stream_options null", `{"model":"m","stream_options":null,"messages":[{"role":"user","content":"x"}]}`, "m", false, false, ""},
		{"stream_options other keys", `{"model":"m","stream_options":{"x":[1],"include_usage":false},"messages":[{"role":"user","content":"x"}]}`, "m", false, false, ""},
		{"missing model", `{"messages":[{"role":"user","content":"x"}]}`, "", false, false, "model"},
		{"model number", `{"model":4}`, "", false, false, "model"},
		{"empty model", `{"model":""}`, "", false, false, "model"},
		{"duplicate model smuggling", `{"model":"cheap","model":"expensive"}`, "", false, false, "model"},
		{"stream string", `{"model":"m","stream":"yes"}`, "", false, false, "stream"},
		{"duplicate stream", `{"model":"m","stream":false,"stream":true}`, "", false, false, "stream"},
		{"include_usage string", `{"model":"m","stream_options":{"include_usage":"1"}}`, "", false, false, "stream_options.include_usage"},
		{"stream_options array", `{"model":"m","stream_options":[]}`, "", false, false, "stream_options"},
		{"array body", `[{"model":"m"}]`, "", false, false, "-"},
		{"empty body", ``, "", false, false, "-"},
		{"truncated", `{"model":"m","messages":[`, "", false, false, "-"},
		{"trailing garbage", `{"model":"m"} x`, "", false, false, "-"},
		{"unterminated string", `{"model":"m`, "", false, false, "-"},
		{"missing colon", `{"model" "m"}`, "", false, false, "-"},
		{"missing comma", `{"model":"m" "stream":true}`, "", false, false, "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f Fields
			err := ScanChat([]byte(tc.body), &f)
			if tc.param != "" {
				if err == nil {
					t.Fatalf("no error for %s", tc.body)
				}
				if tc.param != "-" && err.Param != tc.param {
					t.Fatalf("param = %q, want %q (%s)", err.Param, tc.param, err.Msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if string(f.Model) != tc.model || f.Stream != tc.stream || f.IncludeUsage != tc.usage {
				t.Fatalf("got model=%q stream=%v usage=%v", f.Model, f.Stream, f.IncludeUsage)
			}
			if !strings.Contains(tc.body, "\\u") && tc.body[f.ModelStart:f.ModelEnd] != `"`+tc.model+`"` {
				t.Fatalf("model span %q", tc.body[f.ModelStart:f.ModelEnd])
			}
		})
	}
}

// realisticBody is a typical chat request with a system prompt, history
// and a tool.
var realisticBody = []byte(`{"messages":[{"role":"system","content":"You are a helpful assistant that answers briefly."},` +
	`{"role":"user","content":"What is the weather in Paris today? Please answer with \"sunny\" or \"rainy\"."},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_1","content":"{\"forecast\":\"sunny\",\"temp_c\":21}"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","description":"Get weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],` +
	`"model":"gpt-4o","temperature":0.2,"stream":true,"stream_options":{"include_usage":true}}`)

func BenchmarkScanChat(b *testing.B) {
	var f Fields
	b.ReportAllocs()
	b.SetBytes(int64(len(realisticBody)))
	for b.Loop() {
		if err := ScanChat(realisticBody, &f); err != nil {
			b.Fatal(err)
		}
	}
}

func TestScanChatAllocs(t *testing.T) {
	var f Fields
	ok := []byte(okBody)
	allocs.None(t, "scanning a chat body", 100, func() { _ = ScanChat(realisticBody, &f) })
	allocs.None(t, "validating every checked field", 100, func() { _ = ScanChat(ok, &f) })
}

func FuzzScanChat(f *testing.F) {
	f.Add(realisticBody)
	f.Add([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fields Fields
		if err := ScanChat(body, &fields); err != nil {
			return
		}
		// On success the model span must be a string literal in body.
		if fields.ModelStart < 0 || fields.ModelEnd > len(body) || fields.ModelStart >= fields.ModelEnd ||
			body[fields.ModelStart] != '"' || body[fields.ModelEnd-1] != '"' {
			t.Fatalf("bad model span %d:%d in %q", fields.ModelStart, fields.ModelEnd, body)
		}
		if len(fields.Model) == 0 {
			t.Fatal("empty model accepted")
		}
	})
}
