package upstream

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/corpus"
)

// Every config of the LiteLLM corpus builds a Registry: the router's
// settings parsing never rejects what LiteLLM accepts.
func TestCorpusRouterSettings(t *testing.T) {
	for _, f := range corpusFiles(t) {
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

// Which corpus deployments llmedge cannot serve, and that each says why:
// only providers outside LiteLLM's chat providers (README "Providers",
// "Corpus status"). Any other unavailable deployment is a regression.
func TestCorpusUnservedProviders(t *testing.T) {
	// Dummy values for everything, but no Google key file: Vertex then
	// uses application default credentials on first use.
	env := func(k string) (string, bool) {
		if k == "GOOGLE_APPLICATION_CREDENTIALS" {
			return "", false
		}
		return corpusEnv(k)
	}
	unserved := map[string]int{}
	total := 0
	for _, f := range corpusFiles(t) {
		cfg, err := config.Load(f, config.Options{Getenv: corpusEnv})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		reg, err := NewRegistry(cfg, Options{LookupEnv: env})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		for _, g := range reg.Groups() {
			for _, d := range g.Deployments {
				total++
				if ok, why := d.Available(); !ok {
					if why == "" {
						t.Errorf("%s: %s unavailable without a reason", filepath.Base(f), d.ID)
					}
					unserved[d.Provider]++
				}
			}
		}
		_ = reg.Close()
	}
	var got []string
	n := 0
	for p, c := range unserved {
		got = append(got, p)
		n += c
	}
	sort.Strings(got)
	want := []string{"elevenlabs", "grok-image", "grok-video", "mistralai", "publishers", "sagemaker", "seedance"}
	if !slices.Equal(got, want) || n != 11 {
		t.Fatalf("unserved providers %v (%d of %d deployments), want %v (11)", unserved, n, total, want)
	}
}

// corpusFiles are the LiteLLM corpus configs beside the repository
// (internal/corpus: a failure under CI when they are missing).
func corpusFiles(t *testing.T) []string { return corpus.Files(t) }

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
