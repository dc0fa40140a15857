package errbody

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/llmedge/llmedge/sse"
)

func TestErrorBodies(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{string(AppendOpenAIEvent(nil, "bad", "invalid_request_error", "")), `data: {"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}` + "\n\n"},
		{string(AppendOpenAIEvent(nil, "x", "t", "c")), `data: {"error":{"message":"x","type":"t","param":null,"code":"c"}}` + "\n\n"},
		{string(AppendOpenAI(nil, "m", "t", "p", "")), `{"error":{"message":"m","type":"t","param":"p","code":null}}`},
		{string(AppendAnthropic(nil, "overloaded_error", "busy")), `{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`},
		{string(AppendAnthropicEvent(nil, "api_error", "x")), "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}\n\n"},
		{string(AppendResponsesEvent(nil, "m", "c")), "event: error\ndata: {\"type\":\"error\",\"code\":\"c\",\"message\":\"m\",\"param\":null,\"sequence_number\":0}\n\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestAppendOpenAIEventIsOneValidDataLine(t *testing.T) {
	msgs := []string{
		"plain", `quote " and backslash \ and \"`, "ctl \x00\x01\x1f\t\n\r\b\f\x7f",
		"unicode é ✓ 日本 🎉", "line sep \u2028 para \u2029", "bad utf8 \xff\xfe end", "\xe2\x82", "</script>&",
	}
	for _, m := range msgs {
		out := AppendOpenAIEvent(nil, m, "type \"x\"", "code\n")
		if !bytes.HasPrefix(out, []byte("data: ")) || !bytes.HasSuffix(out, []byte("\n\n")) {
			t.Fatalf("framing: %q", out)
		}
		payload := out[len("data: ") : len(out)-2]
		if bytes.ContainsAny(payload, "\r\n") {
			t.Fatalf("raw line break in payload %q", payload)
		}
		var v struct {
			Error struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
				Code    *string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(payload, &v); err != nil {
			t.Fatalf("%q: %v (%s)", m, err, payload)
		}
		// encoding/json replaces each invalid UTF-8 byte with U+FFFD, as
		// the escaper does.
		wantJSON, _ := json.Marshal(m)
		var w string
		if err := json.Unmarshal(wantJSON, &w); err != nil {
			t.Fatal(err)
		}
		if v.Error.Message != w {
			t.Errorf("message %q, want %q", v.Error.Message, w)
		}
		if v.Error.Type != `type "x"` || v.Error.Param != nil || v.Error.Code == nil || *v.Error.Code != "code\n" {
			t.Errorf("fields: %+v", v.Error)
		}
		// It must also survive the Scanner unchanged.
		e, err := sse.NewScanner(bytes.NewReader(out), 0).Next()
		if err != nil || !bytes.Equal(e.Data, payload) {
			t.Errorf("scan: %q %v", e.Data, err)
		}
	}
}

func TestErrorBodiesAllocateNothing(t *testing.T) {
	dst := make([]byte, 0, 4096)
	if a := testing.AllocsPerRun(100, func() {
		dst = AppendOpenAIEvent(dst[:0], "m \"q\" \n é", "t", "c")
		dst = AppendAnthropicEvent(dst, "t", "m \"q\" \n é")
		dst = AppendResponsesEvent(dst, "m", "c")
	}); a != 0 {
		t.Errorf("allocs = %v", a)
	}
}

func BenchmarkAppendOpenAIEvent(b *testing.B) {
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendOpenAIEvent(dst[:0], `upstream said "rate limited"\n please retry`, "rate_limit_error", "429")
	}
}
