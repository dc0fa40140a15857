package upstream

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/corpus"
)

// Every config of the LiteLLM corpus builds a Registry: the router's
// settings parsing never rejects what LiteLLM accepts.
func TestCorpusRouterSettings(t *testing.T) {
	files := corpus.Files(t)
	for _, f := range files {
		cfg, err := config.Load(f, config.Options{Getenv: corpusEnv})
		if err != nil {
			continue // the config package's corpus test owns load failures
		}
		reg, err := NewRegistry(cfg, Options{LookupEnv: func(string) (string, bool) { return "k", true }})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		_ = reg.Close()
	}
}

// corpusEnv shapes variables as the corpus README says: URLs point at
// loopback port 9, everything else is a dummy.
func corpusEnv(name string) (string, bool) {
	u := strings.ToUpper(name)
	switch {
	case strings.HasSuffix(u, "PORT"):
		return "9", true
	case strings.Contains(u, "URL"), strings.Contains(u, "BASE"), strings.Contains(u, "ENDPOINT"), strings.HasSuffix(u, "HOST"):
		return "http://127.0.0.1:9", true
	}
	return "dummy-" + name, true
}
