// Package testbin builds the llmedge binary for tests that run it as a
// process (main's and deploy's). Only tests import it; it must not be
// imported by the product.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
)

// Build builds the main package in dir (with the race detector when
// race) once per test binary and returns the executable's path; a
// failed build fails tb.
func Build(tb testing.TB, dir string, race bool) string {
	tb.Helper()
	once.Do(func() {
		tmp, e := os.MkdirTemp("", "llmedge-bin")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(tmp, "llmedge")
		args := []string{"build", "-o", path}
		if race {
			args = append(args, "-race")
		}
		out, e := exec.Command("go", append(args, dir)...).CombinedOutput()
		if e != nil {
			err = fmt.Errorf("go build: %v\n%s", e, out)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// Cleanup removes what Build built (call it from TestMain).
func Cleanup() {
	if path != "" {
		_ = os.RemoveAll(filepath.Dir(path))
	}
}
