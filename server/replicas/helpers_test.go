package replicas

import (
	"io"
	"log/slog"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/upstream"
)

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func emptyRegistry(t *testing.T) *upstream.Registry {
	r, err := upstream.NewRegistry(&config.Config{}, upstream.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
