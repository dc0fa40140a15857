package config

import (
	"math"
	"slices"
	"testing"
	"time"
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

// FuzzSettingValue drives the one number/duration decoder with any
// scalar a file can hold: it must not panic, must never return a
// negative, infinite or out-of-range value, must name the path in every
// error, and must read a plain number the same as a count, a number and
// a number of seconds. Seeds live in testdata/fuzz/FuzzSettingValue.
func FuzzSettingValue(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		root, _, errs := parseTree([]byte("v: "+text+"\n"), "")
		if len(errs) > 0 || root == nil || root.kind != kindMap {
			return
		}
		n := root.get("v")
		b := &builder{}
		const path = "router_settings.v"
		d, dok := b.duration(n, path, 0, time.Hour)
		x, xok := b.number(n, path, "a number >= 0")
		i, iok := b.whole(n, path, 0, maxIntSetting)
		for _, e := range b.errs {
			if e.Path != path || e.Msg == "" {
				t.Fatalf("error without the path: %+v", e)
			}
		}
		if dok && (d < 0 || d > time.Hour) {
			t.Fatalf("duration %v out of range", d)
		}
		if xok && (x < 0 || math.IsNaN(x) || math.IsInf(x, 0)) {
			t.Fatalf("number %v", x)
		}
		if iok && (i < 0 || i > maxIntSetting || !xok || float64(i) != x) {
			t.Fatalf("whole %d, number %v %v", i, x, xok)
		}
		if xok && x <= 3600 && (!dok || d != time.Duration(x*float64(time.Second))) {
			t.Fatalf("number %v read as duration %v %v", x, d, dok)
		}
		if xok && !iok && x == math.Trunc(x) && x <= maxIntSetting {
			t.Fatalf("whole refused %v", x)
		}
	})
}
