// Package observe records what the server's calls do: Prometheus
// metrics (metrics.go; a registry's series in series.go; help texts in
// metrics_help.go), the access log (accesslog.go, formatted in place by
// accesslog_line.go) and the timing headers, through one Call per
// request: Begin when it is admitted, Answered and Answering as its
// answer comes and goes out, Written when its last byte is handed to
// the connection, Finish once it is written (call.go; each boundary's
// clock reading is taken once, from the monotonic clock alone, and
// reused: internal/clock);
// Rejected for a request refused before any upstream; Series.Probed
// for a health probe (probe.go). Finish prices the
// answer (upstream/pricing; Call.Cost, the number budgets add too) and,
// with tracing on, Trace's spans end there (trace.go).
//
// It observes only: it must not decide anything about a request (admit,
// route, answer), write a response body, or read settings. Label values
// come from the config or fixed sets, never from request text or a key.
package observe
