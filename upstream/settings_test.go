package upstream

import (
	"testing"

	"github.com/llmedge/llmedge/config"
)

// settingsConfig loads a config holding only the given settings sections
// (YAML), the way the real loader hands them over; tests add deployments.
func settingsConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), config.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
