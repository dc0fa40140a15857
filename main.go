// Command llmedge is a fast, drop-in OpenAI-compatible gateway that
// reads LiteLLM's config.yaml.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llmedge/llmedge/bench"
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/server"
	"github.com/llmedge/llmedge/upstream"
)

const usage = `llmedge: a fast, drop-in OpenAI-compatible gateway for LiteLLM config files.

Usage:
  llmedge serve --config FILE [--host H] [--port P] [flags]   run the gateway
  llmedge bench <upstream|run|compare> [flags]                 load harness (llmedge bench -h)
  llmedge version                                              print the version

Run 'llmedge serve -h' for the serve flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "bench":
		return bench.Main(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "llmedge", server.Version)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "llmedge: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", envOr("LLMEDGE_CONFIG", "config.yaml"), "path of the LiteLLM-style config.yaml (env LLMEDGE_CONFIG)")
	host := fs.String("host", envOr("LLMEDGE_HOST", "0.0.0.0"), "address to listen on (env LLMEDGE_HOST)")
	port := fs.Int("port", envInt("PORT", 4000), "port to listen on (env PORT; LiteLLM's default 4000)")
	grace := fs.Duration("grace", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight requests and streams may run before they are cut")
	strict := fs.Bool("strict", false, "fail at startup on a config key llmedge does not act on, or a deployment it cannot serve (default: warn, and load such a deployment as unavailable)")
	logLevel := fs.String("log-level", envOr("LLMEDGE_LOG_LEVEL", envOr("LITELLM_LOG", "info")), "log level: debug, info, warn, error (env LLMEDGE_LOG_LEVEL, else LiteLLM's LITELLM_LOG)")
	maxBody := fs.Int("max-body-mb", 0, "largest request body accepted, in MiB (0: general_settings.max_request_size_mb, else 32)")
	allowNoAuth := fs.Bool("allow-no-auth", envBool("LLMEDGE_ALLOW_NO_AUTH", false), "serve without authentication when neither general_settings.master_key nor LITELLM_MASTER_KEY is set (env LLMEDGE_ALLOW_NO_AUTH; default: refuse to start)")
	accessLog := fs.Bool("access-log", envBool("LLMEDGE_ACCESS_LOG", true), "log one line per chat request (env LLMEDGE_ACCESS_LOG)")
	keepBuffers := fs.Bool("keep-conn-buffers", envBool("LLMEDGE_KEEP_CONN_BUFFERS", false), "keep each client connection's read and write buffers for its whole life: ~2-3% less CPU per non-stream request, ~4 KB more memory per open stream and more per idle keep-alive connection (env LLMEDGE_KEEP_CONN_BUFFERS; default: give them back)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: llmedge serve --config FILE [flags]\n\nServe the OpenAI-compatible API on HOST:PORT for the models in FILE.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "llmedge: bad --log-level %q\n", *logLevel)
		return 2
	}

	load := func() (*config.Config, error) {
		cfg, err := config.Load(*cfgPath, config.Options{Strict: *strict})
		if err == nil && cfg.General.MasterKey == "" && len(cfg.General.APIKeys) == 0 && !*allowNoAuth {
			return nil, errNoAuth
		}
		return cfg, err
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: cannot load %s:\n%s\n", *cfgPath, err)
		return 2
	}
	logOut := newLogWriter(newLogSink(stderr), 64<<10, 100*time.Millisecond)
	defer logOut.Close()
	var handler slog.Handler = slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level})
	jsonLogs := cfg.LiteLLM.JSONLogs || envBool("JSON_LOGS", false)
	if jsonLogs {
		handler = slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(flushOnWarn{handler, logOut})
	slog.SetDefault(log)

	if err := server.CheckConfig(cfg); err != nil {
		fmt.Fprintf(stderr, "llmedge: invalid config %s:\n%s\n", *cfgPath, err)
		return 2
	}
	tracer, err := startTracing(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: invalid config %s:\n%s\n", *cfgPath, err)
		return 2
	}
	if tracer != nil {
		log.Info("OpenTelemetry tracing on (litellm_settings callbacks: otel)", "protocol", tracer.Protocol)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			logIfErr(log, "exporting the last spans", tracer.Shutdown(ctx))
		}()
	}
	regOpts := upstream.Options{Strict: *strict}
	reg, err := upstream.NewRegistry(cfg, regOpts)
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: invalid config %s:\n%s\n", *cfgPath, err)
		return 2
	}
	defer func() { logIfErr(log, "saving the upstream cookie store", reg.Close()) }()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	for _, w := range reg.Warnings() {
		log.Warn(w)
	}
	if ignored := cfg.IgnoredWarnings(); len(ignored) > 0 {
		if *strict {
			fmt.Fprintf(stderr, "llmedge: %s has keys llmedge does not act on (--strict):\n  %s\n", *cfgPath, strings.Join(ignored, "\n  "))
			return 2
		}
		for _, w := range ignored {
			log.Warn("config key not acted on: " + w)
		}
	}
	if cfg.General.MasterKey == "" && len(cfg.General.APIKeys) == 0 {
		log.Warn("NO AUTHENTICATION (--allow-no-auth): neither general_settings.master_key nor LITELLM_MASTER_KEY is set, so anyone who can reach this port can use every model")
	}

	// Profiling hooks for performance work (profile.go).
	stopProfiling, err := startProfiling()
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: %v\n", err)
		return 1
	}
	defer stopProfiling()

	kc, err := openKeys(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: general_settings.database_url: %v\n", err)
		return 1
	}
	if kc != nil {
		defer closeKeys(kc, log)
	}
	srv := server.New(cfg, reg, server.Options{Logger: log, MaxRequestBodySize: *maxBody << 20, Keys: kc, KeepConnBuffers: *keepBuffers,
		ObserveOptions: server.ObserveOptions{AccessLog: *accessLog, AccessLogOut: logOut, AccessLogJSON: jsonLogs, Registry: regOpts, Tracer: tracer,
			LoadConfig: load}})
	defer func() {
		// A reload may have replaced the registry (and its cookie store).
		if r := srv.Registry(); r != reg {
			logIfErr(log, "saving the upstream cookie store", r.Close())
		}
	}()
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "llmedge: %s\n", err)
		return 1
	}
	log.Info("llmedge listening", "addr", ln.Addr().String(), "models", len(reg.Groups()), "deployments", len(cfg.Deployments), "version", server.Version)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stopReload := reloadOnSIGHUP(srv, log)
	defer stopReload()
	select {
	case err := <-served:
		if err != nil {
			log.Error("server stopped", "err", err)
			return 1
		}
		return 0
	case sig := <-sigs:
		log.Info("shutting down: finishing in-flight requests", "signal", sig.String(), "in_flight", srv.InFlight(), "grace", grace.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// Shutdown has ended the streams still open (error event, access
		// log line); what is left are non-stream requests, cut at exit.
		log.Warn("grace period over: open streams were ended with an error event; closing remaining connections", "in_flight", srv.InFlight())
		return 0
	}
	log.Info("shutdown complete")
	return 0
}

// errNoAuth refuses a config that would serve everyone: an open gateway
// spends the operator's provider keys for anyone who can reach the port,
// and a Compose file that forgot LITELLM_MASTER_KEY must not do so
// silently.
var errNoAuth = errors.New("general_settings.master_key is not set, LITELLM_MASTER_KEY is empty and there are no api_keys: refusing to serve without authentication (set one, or pass --allow-no-auth / LLMEDGE_ALLOW_NO_AUTH=true to run open)")

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func logIfErr(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Warn(what, "err", err)
	}
}
