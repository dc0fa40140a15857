package config

import (
	"slices"
	"testing"
)

// FuzzParse checks that no input makes the loader panic or return an
// inconsistent Config. Errors are fine. Seeds live in
// testdata/fuzz/FuzzParse (real corpus configs and edge cases).
func FuzzParse(f *testing.F) {
	f.Add([]byte("model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, rpm: 1}\n"))
	f.Add([]byte("a: &a {b: 1}\nc:\n  <<: [*a, *a]\n  b: 2\n"))
	f.Add([]byte("user_id_mappings:\n  header_patterns:\n    - {header: a, pattern: '(?i)x', user_id: u}\n"))
	base := f.TempDir()
	getenv := func(k string) (string, bool) {
		if len(k)%2 == 0 {
			return "", false
		}
		return "30", true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, Options{Getenv: getenv, BaseDir: base})
		if err != nil {
			if cfg != nil {
				t.Fatal("non-nil Config with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		ids := map[string]bool{}
		for i, d := range cfg.Deployments {
			if d.Index != i || d.ID == "" || ids[d.ID] {
				t.Fatalf("deployment %d: index %d id %q", i, d.Index, d.ID)
			}
			ids[d.ID] = true
			if d.Params == nil || d.ModelInfo == nil {
				t.Fatal("nil Params/ModelInfo")
			}
			if d.Timeout < 0 || d.StreamTimeout < 0 || d.RPM < 0 || d.TPM < 0 {
				t.Fatal("negative limit")
			}
		}
		for _, p := range cfg.UserIDMappings.HeaderPatterns {
			if p.Regexp == nil {
				t.Fatal("nil Regexp")
			}
		}
		if !slices.IsSorted(cfg.Ignored) {
			t.Fatal("Ignored not sorted")
		}
		_ = cfg.Models()
	})
}
