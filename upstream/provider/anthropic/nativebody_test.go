package anthropic

import "testing"

func TestNativeBody(t *testing.T) {
	drop := []string{"model", "stream"}
	add := []byte(`"anthropic_version":"v"`)
	for _, c := range []struct{ in, want string }{
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a\"model\":1"}]}`,
			`{"max_tokens":5,"messages":[{"role":"user","content":"a\"model\":1"}],"anthropic_version":"v"}`},
		// Values are copied byte for byte (numbers, escapes, nesting).
		{" {\n \"stream\" : true , \"x\" : 1.50e3, \"y\":{\"model\":\"keep\"} }\n",
			`{"x":1.50e3,"y":{"model":"keep"},"anthropic_version":"v"}`},
		{`{}`, `{"anthropic_version":"v"}`},
		{`{"model":"m"}`, `{"anthropic_version":"v"}`},
	} {
		got, ok := NativeBody(nil, []byte(c.in), drop, add)
		if !ok || string(got) != c.want {
			t.Errorf("NativeBody(%s) = %s, %v; want %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"a":1`, `{"a" 1}`, `{"a":1}x`, `{a:1}`, `{"a":1,}`} {
		if _, ok := NativeBody(nil, []byte(bad), drop, add); ok {
			t.Errorf("NativeBody(%q) accepted", bad)
		}
	}
}

func TestBetasFilter(t *testing.T) {
	b := Betas{"a-1": "a-1", "adv-2": "ts-3", "ts-3": "ts-3"}
	if got := string(b.Filter(nil, []byte("x, a-1,adv-2 ,ts-3,,a-1"))); got != "a-1,ts-3" {
		t.Errorf("Filter = %q", got)
	}
	if got, ok := b.AppendJSON(nil, []byte("x,adv-2,ts-3,a-1")); !ok || string(got) != `["ts-3","a-1"]` {
		t.Errorf("AppendJSON = %s %v", got, ok)
	}
	if got, ok := b.AppendJSON([]byte("k:"), []byte("x,y")); ok || string(got) != "k:" {
		t.Errorf("AppendJSON of unknown betas = %s %v", got, ok)
	}
	if got := string(MergeBetas([]byte("a"), []byte("b"))); got != "a,b" {
		t.Errorf("MergeBetas = %q", got)
	}
}
