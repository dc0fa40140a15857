// Package bench owns llmedge's load harness and its fake LLM upstream.
//
// It provides three tools, reachable as "llmedge bench <sub>":
//
//   - upstream: a fake OpenAI/Anthropic server (Upstream) whose latency,
//     chunking and error rate are set by flags, fast enough never to be the
//     bottleneck of a measurement;
//   - run: an HTTP load generator (Run) for /v1/chat/completions and
//     /v1/messages, closed loop (N workers) or open loop (fixed arrival rate,
//     latency measured from the scheduled send time), with log-linear
//     histograms (Histogram) for latency, time to first token and the gap
//     between stream events, optionally as a self-contained HTML page
//     (runreport.go);
//   - compare: starts the fake upstream and an llmedge, measures both
//     lanes (direct and through llmedge) alternately at the same load, and
//     reports llmedge's overhead, CPU per request and peak RSS, optionally
//     as a self-contained HTML page (report.go; the charts of both pages,
//     with their rounded, data-bound axes, in chart.go).
//
// bench is a leaf used by main and by tests. The product (every other
// package of llmedge) must not import it: nothing here is part of the proxy's
// request path.
//
// The JSON printed by "bench run --json" and "bench compare --json" is
// documented in bench/README.md.
package bench
