package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const mainUsage = `usage: llmedge bench <command> [flags]

Commands:
  upstream   serve a fake OpenAI/Anthropic LLM API
  run        drive load at an OpenAI or Anthropic endpoint and report latency
  compare    measure llmedge's overhead against the fake upstream

Run "llmedge bench <command> -h" for the command's flags.
`

// Main runs "llmedge bench <args>" and returns the process exit code.
// args excludes "bench".
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "upstream":
		return mainUpstream(ctx, args[1:], stdout, stderr)
	case "run":
		return mainRun(ctx, args[1:], stdout, stderr)
	case "compare":
		return mainCompare(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, mainUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "llmedge bench: unknown command %q\n\n%s", args[0], mainUsage)
		return 2
	}
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("llmedge bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: llmedge bench %s\n\nFlags (-flag and --flag are the same):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags returns -1 to go on, or an exit code.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	return -1
}

func upstreamFlags(fs *flag.FlagSet, o *UpstreamOptions) {
	fs.DurationVar(&o.TTFT, "ttft", o.TTFT, "fake upstream: time to first token (non-streaming: TTFT + (chunks-1)*gap before the answer)")
	fs.IntVar(&o.Chunks, "chunks", o.Chunks, "fake upstream: content events per stream")
	fs.IntVar(&o.ChunkBytes, "chunk-bytes", o.ChunkBytes, "fake upstream: content bytes per chunk")
	fs.DurationVar(&o.Gap, "gap", o.Gap, "fake upstream: delay between content events")
}

func mainUpstream(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("upstream", "upstream [--addr HOST:PORT] [--ttft D] [--chunks N] [--chunk-bytes B] [--gap D] [--error-rate F] [--error-status S]", stderr)
	o := UpstreamOptions{Chunks: 16, ChunkBytes: 8, ErrorStatus: 500}
	addr := fs.String("addr", "127.0.0.1:18080", "listen address")
	upstreamFlags(fs, &o)
	fs.Float64Var(&o.ErrorRate, "error-rate", 0, "fraction (0..1) of requests answered with an injected error")
	fs.IntVar(&o.ErrorStatus, "error-status", o.ErrorStatus, "HTTP status of injected errors")
	if rc := parseFlags(fs, args); rc >= 0 {
		return rc
	}
	if o.ErrorRate < 0 || o.ErrorRate > 1 || o.Chunks < 1 || o.ChunkBytes < 1 || o.ErrorStatus < 100 || o.ErrorStatus > 999 {
		fmt.Fprintln(stderr, "llmedge bench upstream: need 0 <= --error-rate <= 1, --chunks >= 1, --chunk-bytes >= 1, 100 <= --error-status <= 999")
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "llmedge bench upstream:", err)
		return 1
	}
	u := NewUpstream(o)
	fmt.Fprintf(stdout, "fake upstream on http://%s (OpenAI: /v1/chat/completions and /v1/responses, Anthropic: /v1/messages)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- u.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		_ = u.Close()
	}
	st := u.Stats()
	fmt.Fprintf(stdout, "served %d requests, %d streams (%d closed early by the client), %d injected errors\n",
		st.Requests, st.Streams, st.ClosedEarly, st.Injected)
	if err != nil {
		fmt.Fprintln(stderr, "llmedge bench upstream:", err)
		return 1
	}
	return 0
}

// rateFlag parses "100", "100/s", "6000/m".
type rateFlag float64

func (r *rateFlag) String() string { return strconv.FormatFloat(float64(*r), 'g', -1, 64) }

func (r *rateFlag) Set(s string) error {
	per := 1.0
	num := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		num = s[:i]
		switch s[i+1:] {
		case "s":
		case "m":
			per = 60
		case "h":
			per = 3600
		default:
			return fmt.Errorf("rate %q: unit must be /s, /m or /h", s)
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("rate %q: want a positive number of requests per second", s)
	}
	*r = rateFlag(v / per)
	return nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "run --target URL --model M [--stream] [--concurrency N | --rate R/s] [--duration D | --requests N] [--report out.html] [flags]", stderr)
	var o RunOptions
	var rate rateFlag
	var asJSON bool
	var report string
	fs.StringVar(&o.Target, "target", "", "server base URL (http://host:port), a URL ending in /v1, or the full endpoint URL (required)")
	fs.StringVar(&o.Model, "model", "", "model name to request (required)")
	fs.BoolVar(&o.Stream, "stream", false, "request SSE streams (OpenAI: with stream_options.include_usage)")
	fs.BoolVar(&o.Anthropic, "anthropic", false, "send Anthropic Messages requests (/v1/messages) instead of OpenAI chat completions")
	fs.BoolVar(&o.Responses, "responses", false, "send OpenAI Responses API requests (/v1/responses) instead of chat completions")
	fs.StringVar(&o.APIKey, "api-key", "", "API key (Authorization: Bearer, or x-api-key with --anthropic)")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "closed loop: number of workers, each sending its next request when the previous ends")
	fs.Var(&rate, "rate", "open loop: `R/s` requests per second (e.g. 200, 200/s, 6000/m); latency counts from each request's scheduled send time")
	fs.IntVar(&o.MaxOutstanding, "max-outstanding", 256, "open loop: most requests in flight at once")
	fs.DurationVar(&o.Duration, "duration", 0, "run for this long (default 10s when --requests is not set)")
	fs.IntVar(&o.Requests, "requests", 0, "send this many requests in all")
	fs.IntVar(&o.ExpectEvents, "expect-events", 0, "content events each stream should carry; missing ones are reported as lost")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "per-request timeout, stream included")
	fs.IntVar(&o.MaxTokens, "max-tokens", 256, "max_tokens sent with each request")
	fs.StringVar(&o.Prompt, "prompt", "Say hello.", "user message sent with each request")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object (schema: bench/README.md) instead of text")
	fs.StringVar(&report, "report", "", "write a self-contained HTML report (latency CDF and percentiles; TTFT and event gaps for streams) to this file")
	if rc := parseFlags(fs, args); rc >= 0 {
		return rc
	}
	if o.Target == "" || o.Model == "" {
		fmt.Fprintln(stderr, "llmedge bench run: --target and --model are required")
		fs.Usage()
		return 2
	}
	o.Rate = float64(rate)
	if o.Rate > 0 && flagSet(fs, "concurrency") {
		fmt.Fprintln(stderr, "llmedge bench run: --concurrency (closed loop) and --rate (open loop) exclude each other; bound open loop with --max-outstanding")
		return 2
	}
	if isTerminal(stderr) {
		o.Progress = stderr
	}
	r, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "llmedge bench run:", err)
		return 2
	}
	printResult(stdout, r, asJSON)
	if !writeReportFile(report, "run", r.WriteHTML, stderr) || r.OK == 0 {
		return 1
	}
	return 0
}

func mainCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", "compare [--duration D] [--rounds N] [--concurrency N | --rate R/s] [--stream] [--anthropic | --responses] [--client openai|anthropic|responses] [--report out.html] [--llmedge PATH]", stderr)
	o := CompareOptions{Upstream: UpstreamOptions{Chunks: 16, ChunkBytes: 8}}
	var rate rateFlag
	var report string
	var asJSON bool
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "length of each lane's run in each round")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds; each runs both lanes, alternating which goes first")
	fs.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up run per lane before the rounds (negative: none)")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "closed-loop workers per lane")
	fs.Var(&rate, "rate", "drive both lanes open-loop at `R/s` requests per second (e.g. 500 or 500/s) instead of --concurrency")
	fs.BoolVar(&o.Stream, "stream", false, "request SSE streams")
	fs.BoolVar(&o.Anthropic, "anthropic", false, "upstream speaks Anthropic: through lane llmedge model bench-anthropic; direct lane the fake's /v1/messages")
	fs.BoolVar(&o.Responses, "responses", false, "upstream speaks OpenAI's Responses API (with --client responses: pass-through); direct lane the fake's /v1/responses")
	fs.StringVar(&o.Client, "client", "openai", "API the through lane's client speaks to llmedge: openai (chat), anthropic (/v1/messages) or responses (/v1/responses); translated when the upstream's differs")
	fs.StringVar(&report, "report", "", "write a self-contained HTML report to this file")
	fs.StringVar(&o.LLMedgePath, "llmedge", "", "llmedge binary to start (default: this executable)")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object (schema: bench/README.md) instead of text")
	upstreamFlags(fs, &o.Upstream)
	if rc := parseFlags(fs, args); rc >= 0 {
		return rc
	}
	o.Rate = float64(rate)
	if o.Rate > 0 && flagSet(fs, "concurrency") {
		fmt.Fprintln(stderr, "llmedge bench compare: --concurrency (closed loop) and --rate (open loop) exclude each other")
		return 2
	}
	o.Log = stderr
	r, err := Compare(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "llmedge bench compare:", err)
		return 1
	}
	printResult(stdout, r, asJSON)
	if !writeReportFile(report, "compare", r.WriteHTML, stderr) {
		return 1
	}
	return 0
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// printResult writes r as indented JSON (--json) or as text.
func printResult(w io.Writer, r interface{ WriteText(io.Writer) }, asJSON bool) {
	if !asJSON {
		r.WriteText(w)
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}
