package main

import (
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/llmedge/llmedge/server"
)

// reloadOnSIGHUP re-reads the config on every SIGHUP: a valid file
// serves new requests (streams in flight finish on the old config), an
// invalid one is logged and ignored. The returned func stops listening.
func reloadOnSIGHUP(srv *server.Server, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: reloading config")
				_ = srv.Reload() // outcome logged by the server
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func envBool(k string, def bool) bool {
	if v, err := strconv.ParseBool(os.Getenv(k)); err == nil {
		return v
	}
	return def
}
