// Package corpus finds the LiteLLM config corpus the corpus tests read:
// shared/litellm-configs, beside the repository or beside the worktree
// the tests run in. Only tests import it; it must not be used outside
// them.
//
// Without the corpus a corpus test is skipped on a developer's machine
// and fails when the environment variable CI is set, so that CI cannot
// pass without running it.
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir is the corpus directory: the first shared/litellm-configs found
// walking up from the test's directory.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(d, "shared", "litellm-configs")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			missing(tb, "shared/litellm-configs not found beside the repository")
		}
		d = filepath.Dir(d)
	}
}

// Files are the corpus's *.yaml configs, at least one.
func Files(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		missing(tb, "no *.yaml in "+dir)
	}
	return files
}

func missing(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatal(why + " (CI is set: the corpus tests must run)")
	}
	tb.Skip(why)
}
