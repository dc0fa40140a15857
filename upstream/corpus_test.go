package upstream

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
)

// Every config of the LiteLLM corpus builds a Registry: the router's
// settings parsing never rejects what LiteLLM accepts.
func TestCorpusRouterSettings(t *testing.T) {
	var dir string
	for d, _ := os.Getwd(); d != filepath.Dir(d); d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "litellm-configs")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			dir = p
			break
		}
	}
	if dir == "" {
		t.Skip("shared/litellm-configs not found")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
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
