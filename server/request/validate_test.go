package request

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const okBody = `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi \"there\" \u00e9"}]}],"temperature":0.7,"top_p":1,"n":1,"max_tokens":100,"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{}}}}],"user":"u-1"}`

func TestScanChatAccepts(t *testing.T) {
	for _, body := range []string{
		okBody,
		`{"model":"m","messages":[{"role":"user","content":"x"}]}`,
		` { "messages" : [ { "role" : "developer" , "content" : "x" } , {"role":"assistant","content":null,"tool_calls":[]},{"role":"tool","tool_call_id":"a","content":"r"},{"role":"function","name":"f","content":"r"} ] , "model" : "m" } `,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0,"top_p":0,"max_completion_tokens":1,"n":2}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2,"top_p":1e0,"max_tokens":4096.0}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":null,"top_p":null,"n":null,"max_tokens":null,"stream":null,"stream_options":null}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"a":[1,-2.5e-3,true,false,null,"s",{}]}}`,
	} {
		var f Fields
		if err := ScanChat([]byte(body), &f); err != nil {
			t.Errorf("rejected valid body %s: %v (param %q)", body, err, err.Param)
		}
	}
}

func TestScanChatRejects(t *testing.T) {
	deep := `{"model":"m","messages":[{"role":"user","content":"x"}],"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`
	many := `{"model":"m","messages":[` + strings.Repeat(`{"role":"user","content":"x"},`, MaxMessages) + `{"role":"user","content":"x"}]}`
	var manyKeys strings.Builder
	manyKeys.WriteString(`{"model":"m","messages":[{"role":"user","content":"x"}]`)
	for i := 0; i < MaxTopKeys; i++ {
		manyKeys.WriteString(`,"k` + strings.Repeat("x", i) + `":1`)
	}
	manyKeys.WriteString("}")
	for _, tc := range []struct{ body, param, msg string }{
		{`[]`, "", "must be a JSON object"},
		{``, "", "must be a JSON object"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]} x`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"},]}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x",}]}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"a":tru}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"a":01}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"a":1.}`, "", "not valid JSON"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"a":"\x"}`, "", "not valid JSON"},
		{"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\x01b\"}]}", "", "not valid JSON"},
		{"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", "", "UTF-8"},
		{deep, "", "deeper than"},
		{`{"messages":[{"role":"user","content":"x"}]}`, "model", "missing required field: model"},
		{`{"model":"","messages":[{"role":"user","content":"x"}]}`, "model", "non-empty string"},
		{`{"model":7,"messages":[{"role":"user","content":"x"}]}`, "model", "non-empty string"},
		{`{"model":"m","model":"n","messages":[{"role":"user","content":"x"}]}`, "model", "duplicate"},
		{`{"model":"m","mod\u0065l":"n","messages":[{"role":"user","content":"x"}]}`, "", "escapes"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"user":"a","user":"b"}`, "user", "duplicate"},
		{`{"model":"m"}`, "messages", "missing required field: messages"},
		{`{"model":"m","messages":[]}`, "messages", "non-empty array"},
		{`{"model":"m","messages":{}}`, "messages", "non-empty array"},
		{`{"model":"m","messages":"hi"}`, "messages", "non-empty array"},
		{`{"model":"m","messages":["hi"]}`, "messages[0]", "must be an object"},
		{`{"model":"m","messages":[{"role":"user","content":"x"},{"content":"y"}]}`, "messages[1].role", "is required"},
		{`{"model":"m","messages":[{"role":"admin","content":"x"}]}`, "messages[0].role", "must be one of"},
		{`{"model":"m","messages":[{"role":1,"content":"x"}]}`, "messages[0].role", "must be one of"},
		{`{"model":"m","messages":[{"role":"user","role":"system","content":"x"}]}`, "messages[0].role", "duplicate"},
		{many, "messages", "more than"},
		{manyKeys.String(), "", "top-level fields"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5}`, "temperature", "between 0 and 2"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":-0.1}`, "temperature", "between 0 and 2"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"1"}`, "temperature", "between 0 and 2"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":1.01}`, "top_p", "between 0 and 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"n":0}`, "n", ">= 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"n":1.5}`, "n", ">= 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}`, "max_tokens", ">= 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-5}`, "max_tokens", ">= 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":"9"}`, "max_completion_tokens", ">= 1"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"}`, "stream", "boolean"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":1}`, "stream", "boolean"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":[]}`, "stream_options", "must be an object"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":"y"}}`, "stream_options.include_usage", "boolean"},
	} {
		var f Fields
		err := ScanChat([]byte(tc.body), &f)
		short := tc.body
		if len(short) > 80 {
			short = short[:80] + "..."
		}
		if err == nil {
			t.Errorf("accepted %s", short)
			continue
		}
		if err.Param != tc.param || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%s: got (%q, %q), want param %q and message containing %q", short, err.Param, err.Msg, tc.param, tc.msg)
		}
	}
}

// TestScanChatStreamOptionsSpans checks the spans askUsage splices.
func TestScanChatStreamOptionsSpans(t *testing.T) {
	b := []byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false}}`)
	var f Fields
	if err := ScanChat(b, &f); err != nil {
		t.Fatal(err)
	}
	if got := string(b[f.UsageStart:f.UsageEnd]); got != "false" {
		t.Fatalf("include_usage span = %q", got)
	}
	if got := string(b[f.OptionsStart:f.OptionsEnd]); got != `{"include_usage":false}` {
		t.Fatalf("stream_options span = %q", got)
	}
}

// FuzzValidateChat: ScanChat never panics, accepts only valid JSON objects,
// and agrees with encoding/json on the model and stream fields.
func FuzzValidateChat(f *testing.F) {
	f.Add([]byte(okBody))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fields Fields
		err := ScanChat(b, &fields)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		var v struct {
			Model    string            `json:"model"`
			Stream   *bool             `json:"stream"`
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("accepted %q that encoding/json rejects: %v", b, err)
		}
		if v.Model != string(fields.Model) {
			t.Fatalf("model %q, encoding/json says %q", fields.Model, v.Model)
		}
		if (v.Stream != nil && *v.Stream) != fields.Stream {
			t.Fatalf("stream %v disagrees with encoding/json for %q", fields.Stream, b)
		}
		if len(v.Messages) != fields.Messages || len(v.Messages) == 0 {
			t.Fatalf("messages %d, encoding/json says %d", fields.Messages, len(v.Messages))
		}
		if got := b[fields.ModelStart:fields.ModelEnd]; len(got) < 2 || got[0] != '"' {
			t.Fatalf("model span %q", got)
		}
	})
}

// TestFuzzSeedsPresent keeps the seed corpus in testdata alive.
func TestFuzzSeedsPresent(t *testing.T) {
	m, _ := filepath.Glob("testdata/fuzz/FuzzValidateChat/*")
	if len(m) < 5 {
		t.Fatalf("want seed corpus in testdata/fuzz/FuzzValidateChat, found %d files", len(m))
	}
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("go test fuzz v1\n")) {
			t.Fatalf("%s is not a go fuzz seed", p)
		}
	}
}

func BenchmarkValidateChat(b *testing.B) {
	body := []byte(okBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var f Fields
	for b.Loop() {
		if err := ScanChat(body, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanChatLarge: a 1 MiB base64 image in one message.
func BenchmarkScanChatLarge(b *testing.B) {
	img := strings.Repeat("QUJDRA", 1<<20/6)
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` + img + `"}}]}]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var f Fields
	for b.Loop() {
		if err := ScanChat(body, &f); err != nil {
			b.Fatal(err)
		}
	}
}
