package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/llmedge/llmedge/internal/corpus"
)

// dummyEnv sets every variable, shaped the way the corpus README says:
// ports and URLs point at loopback port 9, everything else is a dummy.
func dummyEnv(name string) (string, bool) {
	u := strings.ToUpper(name)
	switch {
	case strings.HasSuffix(u, "PORT"):
		return "9", true
	case strings.Contains(u, "URL"), strings.Contains(u, "BASE"), strings.Contains(u, "ENDPOINT"), strings.HasSuffix(u, "HOST"):
		return "http://127.0.0.1:9", true
	}
	return "dummy-" + name, true
}

// plainModelNames reads model_list[].model_name with an ordinary YAML
// decode, independent of the loader, in first-seen order.
func plainModelNames(t *testing.T, data []byte) (names []string, hasModelList bool) {
	t.Helper()
	var doc struct {
		ModelList []struct {
			ModelName any `yaml:"model_name"`
		} `yaml:"model_list"`
	}
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.AllowDuplicateMapKey()); err != nil {
		t.Fatalf("plain YAML decode: %v", err)
	}
	for _, m := range doc.ModelList {
		n := fmt.Sprint(m.ModelName)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, len(doc.ModelList) > 0
}

var envRefPattern = regexp.MustCompile(`os\.environ/[A-Za-z0-9_]+`)

func TestCorpusLoads(t *testing.T) {
	files := corpus.Files(t)
	total := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(f, Options{Getenv: dummyEnv})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			want, hasList := plainModelNames(t, data)
			got := cfg.Models()
			if hasList && len(got) == 0 {
				t.Fatal("file has a model_list but Models() is empty")
			}
			if !slices.Equal(got, want) {
				t.Errorf("Models() =\n%q\nplain decode gives\n%q", got, want)
			}
			total += len(cfg.Deployments)
			ids := map[string]bool{}
			for _, d := range cfg.Deployments {
				if len(d.MissingEnv) != 0 {
					t.Errorf("%s: MissingEnv %v with every variable set", d.ID, d.MissingEnv)
				}
				if d.ID == "" || ids[d.ID] {
					t.Errorf("empty or duplicate id %q", d.ID)
				}
				ids[d.ID] = true
				if d.Model == "" {
					t.Errorf("%s: empty Model", d.ID)
				}
			}
			for _, w := range cfg.Warnings {
				if !strings.Contains(w, "duplicate key") {
					t.Errorf("unexpected warning: %s", w)
				}
			}
			// No resolved value may still be an os.environ/ reference.
			for _, d := range cfg.Deployments {
				if envRefPattern.MatchString(fmt.Sprint(d.Params)) {
					t.Errorf("%s: unresolved reference in Params", d.ID)
				}
			}
			if !slices.IsSorted(cfg.Ignored) {
				t.Errorf("Ignored not sorted: %q", cfg.Ignored)
			}
		})
	}
	t.Logf("%d files, %d deployments", len(files), total)
}

// TestCorpusSpecialCases pins what the corpus README calls out.
func TestCorpusSpecialCases(t *testing.T) {
	dir := corpus.Dir(t)
	load := func(prefix string) *Config {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(dir, prefix+"-*.yaml"))
		if len(m) != 1 {
			t.Skipf("corpus file %s-* not found", prefix)
		}
		cfg, err := Load(m[0], Options{Getenv: dummyEnv})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Run("013 has no model_list", func(t *testing.T) {
		if cfg := load("013"); len(cfg.Deployments) != 0 {
			t.Errorf("%d deployments", len(cfg.Deployments))
		}
	})
	t.Run("014 duplicate key warns", func(t *testing.T) {
		cfg := load("014")
		if len(cfg.Warnings) == 0 || !strings.Contains(cfg.Warnings[0], "general_settings.store_model_in_db") {
			t.Errorf("warnings: %q", cfg.Warnings)
		}
		if !slices.Contains(cfg.Ignored, "agents") {
			t.Errorf("agents not ignored: %q", cfg.Ignored)
		}
	})
	t.Run("027 merge key and custom_llm_provider", func(t *testing.T) {
		d := load("027").Deployments[0]
		if d.Provider != "openai" || d.UpstreamModel != "google/gemini-3.1-pro-preview" || d.APIBase != "https://openrouter.ai/api/v1" || len(d.ExtraHeaders) != 2 {
			t.Errorf("%+v", d)
		}
	})
	t.Run("029 bare bedrock ids", func(t *testing.T) {
		for _, d := range load("029").Deployments {
			if d.Provider != "bedrock" {
				t.Errorf("%s: provider %q", d.Model, d.Provider)
			}
		}
	})
	t.Run("002 CRLF", func(t *testing.T) {
		if cfg := load("002"); len(cfg.Deployments) == 0 || strings.ContainsRune(cfg.Deployments[0].Model, '\r') {
			t.Errorf("%+v", cfg.Deployments)
		}
	})
}
