package connwatch

import (
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
	"github.com/llmedge/llmedge/upstream"
)

// Watches stopped before their delay leave nothing armed; one left
// running begins on a tick no earlier than watchDelay after its start;
// with nothing armed the ticker stops, so an idle gateway sleeps.
func TestArmingTicksOnlyWhileArmed(t *testing.T) {
	srv, _ := tcpPair(t)
	var ws [64]Watcher
	var c upstream.Cancel
	for i := range ws {
		ws[i].Start(srv, &c)
	}
	for i := range ws {
		ws[i].Stop()
	}
	if !armed.empty() {
		t.Fatal("stopped watches left on the armed list")
	}
	began := Begun()
	var w Watcher
	start := time.Now()
	w.Start(srv, &c)
	wait.For(t, 5*time.Second, "the watch to begin", func() bool { return Begun() > began })
	if d := time.Since(start); d < watchDelay {
		t.Fatalf("the watch began %v after its start, before the %v delay", d, watchDelay)
	}
	w.Stop()
	wait.For(t, 5*time.Second, "the ticker to stop", func() bool {
		armed.mu.Lock()
		defer armed.mu.Unlock()
		return !armed.ticking
	})
}
