package anthropic

import "testing"

// A tool_use block's index comes from the upstream: a huge one used to
// grow the index table to that many entries (a malformed or hostile
// event could exhaust memory). It is now a bad event.
func TestTranslateToolIndexBounded(t *testing.T) {
	s := streamFor(t, false)
	ev := event("content_block_start", `{"type":"content_block_start","index":100000000000,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}`)
	_, _, err := s.translate(nil, ev)
	if err == nil || err.Code != "upstream_stream_error" {
		t.Fatalf("want a bad event error, got %v", err)
	}
	if cap(s.toolIndex) > 1<<20 {
		t.Fatalf("index table grew to %d", cap(s.toolIndex))
	}
}
