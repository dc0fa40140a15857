package openai

import (
	"bytes"
	"errors"
	"testing"

	"github.com/llmedge/llmedge/sse"
	"github.com/llmedge/llmedge/upstream/provider"
	"github.com/llmedge/llmedge/upstream/provider/providertest"
	"github.com/llmedge/llmedge/upstream/transport"
)

// The driver flushes once per burst: events already buffered upstream
// go out together, a lone event at once; a client that went away stops
// the relay with provider.ErrClientGone.
func TestRelayFlushesPerBurstAndStopsWhenClientGone(t *testing.T) {
	stream := "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n"
	newPass := func() *passStream {
		sc := sse.NewScanner(bytes.NewReader([]byte(stream)), 0)
		first, err := sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		return &passStream{SSEEvents: provider.SSEEvents{X: &transport.Exchange{}, SC: sc, First: first}, d: &provider.Endpoint{ID: "d"}}
	}
	s := newPass()
	var w providertest.Writer
	if err := providertest.Relay(s, s.X).Relay(&w); err != nil {
		t.Fatal(err)
	}
	if w.String() != stream || w.Flushes != 1 {
		t.Fatalf("relayed %q with %d flushes, want it unchanged in 1", w.String(), w.Flushes)
	}
	w = providertest.Writer{FailAt: 2}
	if err := providertest.Relay(newPass(), nil).Relay(&w); !errors.Is(err, provider.ErrClientGone) {
		t.Fatalf("Relay to a gone client = %v", err)
	}
}
