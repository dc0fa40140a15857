package server

import (
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/corpus"
	"github.com/llmedge/llmedge/upstream"
)

// Which corpus deployments llmedge cannot serve, and that each says why:
// only providers outside LiteLLM's chat providers (README "Providers",
// "Corpus status"). Any other unavailable deployment is a regression.
func TestCorpusUnservedProviders(t *testing.T) {
	files := corpus.Files(t)
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
	for _, f := range files {
		cfg, err := config.Load(f, config.Options{Getenv: corpusEnv})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: env})
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
