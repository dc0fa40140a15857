//go:build !linux

package server

// Without epoll every watch is the goroutine watcher (watch_goroutine.go).

type pollWatch struct{}

func (w *disconnectWatcher) pollStart() bool { return false }

func (w *disconnectWatcher) pollStop() {}
