//go:build !linux

package connwatch

// Without epoll every watch is the goroutine watcher (watch_goroutine.go).

type pollWatch struct{}

func (w *Watcher) pollStart() bool { return false }

func (w *Watcher) pollStop() {}

// PollStats are 0 without epoll.
func PollStats() (registered uint64, watching int) { return 0, 0 }
