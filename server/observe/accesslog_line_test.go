package observe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// slogLine is what slog's standard handler prints for e at t.
func slogLine(t *testing.T, json bool, at time.Time, e *accessEntry) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	if err := h.Handle(context.Background(), accessRecord(at, e)); err != nil {
		t.Fatalf("slog handle: %v", err)
	}
	return buf.String()
}

func accessTestEntries() []accessEntry {
	full := accessEntry{reqID: []byte("llmedge-0a1b2c3d-1f"), userID: []byte("user-42"), model: "gpt-4o", deployment: "gpt-4o-0",
		key: "master", status: 200, attempts: 1, ttfb: 80 * time.Millisecond, duration: 120*time.Millisecond + 7*time.Microsecond,
		overhead: 150 * time.Microsecond, upstream: 119 * time.Millisecond, prompt: 12, completion: 10}
	noUser := full
	noUser.userID, noUser.key, noUser.stream = nil, "", true
	rejected := accessEntry{reqID: []byte("rid 1=2"), status: 429, duration: 3 * time.Microsecond, overhead: 3 * time.Microsecond, reason: "rate_limited"}
	failed := full
	failed.stream = true
	failed.userID = []byte("Zoë \"the\" user\\")
	failed.model = "ünïcødé/模型"
	failed.deployment = "a=b"
	failed.err = errors.New("upstream said \"no\"\nsecond line\r\ttab \x01\x7f \u2028\u2029 \u00a0nbsp \U0001F600 bad\xff utf8 back\\slash <html>&")
	odd := accessEntry{reqID: []byte(""), userID: []byte("\u200b"), model: "\\", deployment: "x\u0085y", key: "k", status: -1,
		attempts: 3, ttfb: -time.Second, prompt: -5, completion: 1 << 40}
	return []accessEntry{full, noUser, rejected, failed, odd}
}

func accessTestTimes() []time.Time {
	return []time.Time{
		time.Date(2026, 11, 27, 13, 0, 4, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100000000, time.FixedZone("IST", 5*3600+1800)),
		time.Date(1999, 12, 31, 23, 59, 59, 999999, time.FixedZone("W", -7*3600)),
		time.Now(),
	}
}

// TestAccessLineMatchesSlog: the in-place line is byte for byte what
// slog's TextHandler and JSONHandler print for the same record.
func TestAccessLineMatchesSlog(t *testing.T) {
	for i, e := range accessTestEntries() {
		for _, at := range accessTestTimes() {
			for _, json := range []bool{false, true} {
				want := slogLine(t, json, at, &e)
				got := string(appendAccessLine(nil, json, at, &e))
				if got != want {
					t.Errorf("entry %d json=%v at %v:\n got %s\nwant %s", i, json, at, got, want)
				}
			}
		}
	}
}

var timeField = regexp.MustCompile(`^(time=|\{"time":")[^ "]+`)

// TestLogAccessSink: through logAccess, the sink gets the line the
// Logger would have printed (but for the time), and nothing when info
// is disabled.
func TestLogAccessSink(t *testing.T) {
	for _, json := range []bool{false, true} {
		for i, e := range accessTestEntries() {
			var viaSlog, viaSink bytes.Buffer
			h := slog.Handler(slog.NewTextHandler(&viaSlog, nil))
			if json {
				h = slog.NewJSONHandler(&viaSlog, nil)
			}
			(&Recorder{opts: Options{Logger: slog.New(h)}}).logAccess(time.Now(), &e)
			s := &Recorder{opts: Options{Logger: slog.New(h), AccessLogOut: &viaSink, AccessLogJSON: json}}
			s.logAccess(time.Now(), &e)
			got := timeField.ReplaceAllString(viaSink.String(), "${1}T")
			want := timeField.ReplaceAllString(viaSlog.String(), "${1}T")
			if got != want || strings.Count(got, "\n") != 1 {
				t.Errorf("entry %d json=%v:\n got %s\nwant %s", i, json, got, want)
			}
		}
	}
	var out bytes.Buffer
	warn := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := &Recorder{opts: Options{Logger: warn, AccessLogOut: &out}}
	e := accessTestEntries()[0]
	s.logAccess(time.Now(), &e)
	if out.Len() != 0 {
		t.Errorf("info disabled, yet the sink got %q", out.String())
	}
}

func TestAccessLineAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	entries := accessTestEntries()[:3] // no error: its Error() is the caller's cost
	at := time.Now()
	for _, json := range []bool{false, true} {
		allocs := testing.AllocsPerRun(100, func() {
			for i := range entries {
				writeAccessLine(io.Discard, json, at, &entries[i])
			}
		})
		if allocs != 0 {
			t.Errorf("json=%v: %v allocs per run, want 0", json, allocs)
		}
	}
}

// FuzzAccessLine holds the in-place formatting to slog's for arbitrary
// client-supplied ids and error text.
func FuzzAccessLine(f *testing.F) {
	f.Add("rid-1", "user", "boom")
	f.Add("", "a b", "quote\" nl\n bad\xff \u2028 \x00")
	f.Add("=", "\\", "\u00a0\u0085\U0001F600")
	f.Fuzz(func(t *testing.T, reqID, userID, msg string) {
		e := accessEntry{reqID: []byte(reqID), userID: []byte(userID), model: msg, deployment: "d", status: 200, err: errors.New(msg)}
		at := time.Date(2026, 11, 27, 13, 0, 4, 120000000, time.UTC)
		for _, json := range []bool{false, true} {
			if got, want := string(appendAccessLine(nil, json, at, &e)), slogLine(t, json, at, &e); got != want {
				t.Fatalf("json=%v:\n got %q\nwant %q", json, got, want)
			}
		}
	})
}

// TestAccessLineSecondCache: one buffer's cached second is refreshed
// whenever the second or the location changes (a zone offset's change
// included), across a sequence of lines, and each line still matches
// slog's.
func TestAccessLineSecondCache(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	base := time.Date(2026, 3, 8, 6, 59, 58, 999999999, time.UTC) // 01:59:58 EST: DST starts at 07:00 UTC
	var times []time.Time
	for _, d := range []time.Duration{0, 1, time.Millisecond, time.Second - 1, time.Second, 1500 * time.Millisecond, 2 * time.Second, 2*time.Second + 1} {
		at := base.Add(d)
		times = append(times, at, at.In(ny), at.In(time.FixedZone("IST", 5*3600+1800)), at)
	}
	times = append(times, time.Now(), time.Now().Add(time.Hour), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 10, time.UTC))
	e := accessTestEntries()[0]
	for _, json := range []bool{false, true} {
		var ab lineSecond
		for _, at := range times {
			if got, want := string(ab.appendLine(nil, json, at, &e)), slogLine(t, json, at, &e); got != want {
				t.Errorf("json=%v at %v:\n got %s\nwant %s", json, at, got, want)
			}
		}
	}
}

// TestAccessLineEveryASCIIByte: each ASCII byte, alone and inside a
// word, is quoted (or escaped) as slog does it.
func TestAccessLineEveryASCIIByte(t *testing.T) {
	at := time.Date(2026, 11, 27, 13, 0, 4, 120000000, time.UTC)
	for c := range byte(utf8.RuneSelf) {
		for _, v := range []string{string(c), "ab" + string(c) + "cd"} {
			e := accessEntry{reqID: []byte(v), model: v, deployment: "d", status: 200}
			for _, json := range []bool{false, true} {
				if got, want := string(appendAccessLine(nil, json, at, &e)), slogLine(t, json, at, &e); got != want {
					t.Errorf("byte %#x json=%v:\n got %q\nwant %q", c, json, got, want)
				}
			}
		}
	}
}
