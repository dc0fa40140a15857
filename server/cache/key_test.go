package cache

import (
	"testing"
)

func key(t *testing.T, body string, scope ...string) Key {
	t.Helper()
	sc := make([][]byte, len(scope))
	for i, s := range scope {
		sc[i] = []byte(s)
	}
	k, ok := MakeKey([]byte(body), sc...)
	if !ok {
		t.Fatalf("no key for %s", body)
	}
	return k
}

func TestKeyIgnoresOrderWhitespaceAndDeliveryFields(t *testing.T) {
	base := key(t, `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5}`)
	same := []string{
		`{ "temperature" : 0.50 , "messages" : [ { "content" : "hi" , "role" : "user" } ] , "model" : "m" }`,
		"{\n\t\"model\": \"m\",\r\n \"messages\": [{\"role\":\"user\",\"content\":\"h\\u0069\"}], \"temperature\": 5e-1}",
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"user":"u1","metadata":{"a":1},"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"cache":{"ttl":5}}`,
	}
	for _, b := range same {
		if key(t, b) != base {
			t.Errorf("key differs for %s", b)
		}
	}
	differ := []string{
		`{"model":"m2","messages":[{"role":"user","content":"hi"}],"temperature":0.5}`,
		`{"model":"m","messages":[{"role":"user","content":"hi "}],"temperature":0.5}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.6}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"tools":[]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"response_format":{"type":"json_object"}}`,
		`{"model":"m","messages":[{"role":"user","content":"hi","user":"x"}],"temperature":0.5}`, // nested "user" counts
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"seed":12345678901234567890}`,
	}
	seen := map[Key]string{base: "base"}
	for _, b := range differ {
		k := key(t, b)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s has the key of %s", b, prev)
		}
		seen[k] = b
	}
	if key(t, `{"seed":12345678901234567890}`) == key(t, `{"seed":12345678901234567891}`) {
		t.Error("long integers lose digits")
	}
	if key(t, `{"a":"x"}`, "chat", "k1") == key(t, `{"a":"x"}`, "chat", "k2") {
		t.Error("scope ignored")
	}
	if key(t, `{"a":"x"}`, "ab", "c") == key(t, `{"a":"x"}`, "a", "bc") {
		t.Error("scope parts are ambiguous")
	}
	if key(t, `{"a":"\"}"}`) == key(t, `{"a":"\\"}`) {
		t.Error("escaped quote and backslash collide")
	}
}

func TestKeyRefusesBadJSON(t *testing.T) {
	deep := ""
	for range maxDepth + 2 {
		deep += "["
	}
	for _, b := range []string{`{"a":`, `{"a":1}x`, `{"a" 1}`, `[1,]`, `{"a":tru}`, deep} {
		if _, ok := MakeKey([]byte(b)); ok {
			t.Errorf("key for %q", b)
		}
	}
}

var keyBody = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one word."}],"temperature":0,"max_tokens":64,"stream":true,"user":"u-42","tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]}`)

func TestKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	scope := []byte("chat")
	MakeKey(keyBody, scope)
	if n := testing.AllocsPerRun(100, func() { MakeKey(keyBody, scope) }); n != 0 {
		t.Fatalf("MakeKey allocates %v times", n)
	}
}

func BenchmarkKey(b *testing.B) {
	scope := []byte("chat")
	b.ReportAllocs()
	b.SetBytes(int64(len(keyBody)))
	for b.Loop() {
		MakeKey(keyBody, scope)
	}
}
