package server

import "testing"

// keepConnBuffersInTests makes startGateway and startObserved serve
// with Options.KeepConnBuffers (TestKeepConnBuffers).
var keepConnBuffersInTests bool

// With KeepConnBuffers a connection keeps fasthttp's buffered reader
// between requests, so request heads, pipelined requests and the
// disconnect watcher meet the socket through it instead of through the
// first-bytes wait: the connection tests run again that way. (Server
// tests do not run in parallel, so the switch is the package's alone.)
func TestKeepConnBuffers(t *testing.T) {
	keepConnBuffersInTests = true
	t.Cleanup(func() { keepConnBuffersInTests = false })
	gw := startGateway(t, testConfig(dep(0, "demo", "mock/demo", "", "")))
	if gw.srv.srv.ReduceMemoryUsage {
		t.Fatal("KeepConnBuffers: fasthttp still gives the connection buffers back")
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"SDKNonStreamPassThrough", TestSDKNonStreamPassThrough},
		{"SDKStream", TestSDKStream},
		{"StreamIsNotBuffered", TestStreamIsNotBuffered},
		{"PipelinedRequestKeepsFirstAnswer", TestPipelinedRequestKeepsFirstAnswer},
		{"ClientDisconnectMidStreamClosesUpstream", TestClientDisconnectMidStreamClosesUpstream},
		{"ClientDisconnectWhileWaitingClosesUpstream", TestClientDisconnectWhileWaitingClosesUpstream},
		{"BareLFHeaderEndAnsweredAtOnce", TestBareLFHeaderEndAnsweredAtOnce},
		{"StalledStreamClientIsCut", TestStalledStreamClientIsCut},
		{"StreamWriteDeadlineClearedForNextRequest", TestStreamWriteDeadlineClearedForNextRequest},
		{"ClientDisconnectWithKeepaliveCancelsUpstream", TestClientDisconnectWithKeepaliveCancelsUpstream},
	} {
		t.Run(tc.name, tc.run)
	}
}
