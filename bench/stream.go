package bench

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// This file parses the SSE responses of a run, timing content events.

// readStream parses SSE from r, timing content events. It returns the
// number of content events, whether the stream's terminating event arrived,
// and a non-empty error kind when the stream reported an error, broke, or
// was still going at deadline ("timeout").
func (w *worker) readStream(r io.Reader, start, deadline time.Time) (events int64, complete bool, errKind string) {
	api := w.s.o.api()
	buf := w.buf[:0]
	var last time.Time
	var evName []byte
	var nameBuf [32]byte
	isContent, isDone, isError := false, false, false
	hasData := false
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		now := time.Now()
		buf = buf[:len(buf)+n]
		pos := 0
		for {
			nl := bytes.IndexByte(buf[pos:], '\n')
			if nl < 0 {
				break
			}
			line := buf[pos : pos+nl]
			pos += nl + 1
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) == 0 { // event boundary
				if hasData {
					switch {
					case isError:
						w.buf = buf[:0]
						return events, false, "stream_error"
					case isDone:
						complete = true
					case isContent:
						if events == 0 {
							w.ttft.RecordDuration(now.Sub(start))
						} else {
							w.gap.RecordDuration(now.Sub(last))
						}
						last = now
						events++
					}
				}
				evName = nil
				isContent, isDone, isError, hasData = false, false, false, false
				continue
			}
			switch {
			case bytes.HasPrefix(line, []byte("event:")):
				evName = append(nameBuf[:0], bytes.TrimSpace(line[6:])...)
				switch api {
				case apiAnthropic:
					switch string(evName) {
					case "content_block_delta":
						isContent = true
					case "message_stop":
						isDone = true
					case "error":
						isError = true
					}
				case apiResponses:
					switch string(evName) {
					case "response.output_text.delta":
						isContent = true
					case "response.completed":
						isDone = true
					case "error", "response.failed", "response.incomplete":
						isError = true
					}
				default:
					isError = string(evName) == "error"
				}
			case bytes.HasPrefix(line, []byte("data:")):
				hasData = true
				if api == apiOpenAI {
					data := bytes.TrimSpace(line[5:])
					switch {
					case string(data) == "[DONE]":
						isDone = true
					case hasContent(data):
						isContent = true
					case bytes.HasPrefix(data, []byte(`{"error"`)):
						isError = true
					}
				}
			}
		}
		buf = buf[:copy(buf, buf[pos:])]
		if err == nil && !complete && now.After(deadline) {
			w.buf = buf[:0]
			return events, false, "timeout"
		}
		if err != nil {
			w.buf = buf[:0]
			if err == io.EOF {
				return events, complete, ""
			}
			if complete {
				return events, true, ""
			}
			var te interface{ Timeout() bool }
			if errors.As(err, &te) && te.Timeout() {
				return events, false, "timeout"
			}
			return events, false, "stream_read"
		}
	}
}

// hasContent reports whether an OpenAI chunk carries a non-empty
// "content" string, without decoding it.
func hasContent(data []byte) bool {
	i := bytes.Index(data, []byte(`"content"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(data[i+len(`"content"`):], " \t:")
	return len(rest) >= 2 && rest[0] == '"' && rest[1] != '"'
}
