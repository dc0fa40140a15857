package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// sinkPayload is more than a pipe or a socket buffer holds, so a write
// of it meets a full buffer and must fall back to the blocking write.
func sinkPayload() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// writeToSlowReader writes more than a pipe or socket buffer holds
// through wf's sink while r's reader starts late (it is behind), closes
// wf, and checks that r got every byte in order.
func writeToSlowReader(t *testing.T, wf *os.File, r io.Reader) {
	t.Helper()
	sink := newLogSink(wf)
	if s, ok := sink.(*noWaitSink); !ok || s.regular {
		t.Fatalf("%s got %T", wf.Name(), sink)
	}
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		b, _ := io.ReadAll(r)
		got <- b
	}()
	want := sinkPayload()
	if n, err := sink.Write(want); n != len(want) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	wf.Close()
	select {
	case b := <-got:
		if !bytes.Equal(b, want) {
			t.Fatalf("read %d bytes, not the %d written in order", len(b), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader got no EOF within 10s")
	}
}

// A pipe whose reader is behind (a container's log pipe) takes what it
// can without blocking, and the rest goes through the blocking write:
// nothing lost, nothing reordered.
func TestLogSinkPipeWithSlowReaderLosesNothing(t *testing.T) {
	r, wf, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	writeToSlowReader(t, wf, r)
}

// The same for a stream socket (systemd's journal takes stderr so).
func TestLogSinkSocketWithSlowReaderLosesNothing(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := net.FileConn(os.NewFile(uintptr(fds[1]), "sock-r"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	writeToSlowReader(t, os.NewFile(uintptr(fds[0]), "sock-w"), rc)
}

// A regular file is written at its own offset, after what the process
// wrote to it before (stderr redirected to a file).
func TestLogSinkRegularFileWritesAtItsOffset(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("before\n"); err != nil {
		t.Fatal(err)
	}
	sink := newLogSink(f)
	if s, ok := sink.(*noWaitSink); !ok || !s.regular {
		t.Fatalf("a regular file got %T", sink)
	}
	want := sinkPayload()
	if n, err := sink.Write(want); n != len(want) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if _, err := f.WriteString("after\n"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, append(append([]byte("before\n"), want...), "after\n"...)) {
		t.Fatalf("file holds %d bytes, not before+payload+after", len(b))
	}
}

// A write error is reported with the file's name, not swallowed.
func TestLogSinkReportsWriteErrors(t *testing.T) {
	r, wf, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	sink := newLogSink(wf)
	r.Close() // EPIPE (Go ignores SIGPIPE on descriptors other than 1 and 2)
	if n, err := sink.Write([]byte("line\n")); err == nil || n != 0 {
		t.Fatalf("Write to a pipe without reader = %d, %v", n, err)
	}
}

// What is not an *os.File (a test's buffer) is written as it is.
func TestLogSinkLeavesOtherWritersAlone(t *testing.T) {
	var b bytes.Buffer
	if sink := newLogSink(&b); sink != io.Writer(&b) {
		t.Fatalf("a buffer got %T", sink)
	}
}
