// Package connwatch watches client connections below the HTTP layer:
// the disconnect watcher (a client that leaves while its request is in
// flight cancels the upstream call: epoll on Linux, a parked read
// elsewhere; a request is watched once it has run 25-50ms, on one shared
// ticker: arming.go) and the bare-LF guard on request heads (a listener
// wrapper, which also waits for each request's first bytes without a
// read buffer and without a read syscall more: package firstread). It
// knows net.Conn and fasthttp's connection states only: it must not
// touch requests, routes, upstreams or answers; what a watch stops is
// the Canceler it is handed.
package connwatch
