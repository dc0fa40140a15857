package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfilingHooksWriteBothFiles(t *testing.T) {
	dir := t.TempDir()
	cpu, tr := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "exec.trace")
	t.Setenv("LLMEDGE_CPUPROFILE", cpu)
	t.Setenv("LLMEDGE_EXECTRACE", tr)
	stop, err := startProfiling()
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if b, err := os.ReadFile(cpu); err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("cpu profile: %v, %d bytes, want a gzipped profile", err, len(b))
	}
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Fatalf("execution trace: %v, %.12q, want a trace header", err, b)
	}
}

// A hook that cannot start names its variable and leaves nothing
// running: the CPU profile started before it is stopped again.
func TestProfilingHookFailureStopsTheOthers(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LLMEDGE_CPUPROFILE", filepath.Join(dir, "cpu.prof"))
	t.Setenv("LLMEDGE_EXECTRACE", filepath.Join(dir, "missing", "exec.trace"))
	if _, err := startProfiling(); err == nil || !strings.HasPrefix(err.Error(), "LLMEDGE_EXECTRACE: ") {
		t.Fatalf("err = %v, want one naming LLMEDGE_EXECTRACE", err)
	}
	t.Setenv("LLMEDGE_EXECTRACE", "")
	stop, err := startProfiling()
	if err != nil {
		t.Fatalf("CPU profile still running after the failure: %v", err)
	}
	stop()
}
