package sse

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

// refParse is a deliberately simple whole-input parser following the WHATWG
// algorithm, used as an oracle. It returns the field values of every
// non-empty block (Raw is left empty) and whether input ended mid-event.
func refParse(in []byte) (evs []rec, partial bool) {
	in = bytes.TrimPrefix(in, bom)
	var cur rec
	nonEmpty, sawField := false, false
	var data [][]byte
	for len(in) > 0 {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			return evs, true // unterminated last line
		}
		line := in[:i]
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]
		if len(line) == 0 {
			if nonEmpty {
				cur.Comment = !sawField
				if data != nil {
					cur.Data = p(string(bytes.Join(data, []byte("\n"))))
				}
				evs = append(evs, cur)
			}
			cur, nonEmpty, sawField, data = rec{}, false, false, nil
			continue
		}
		nonEmpty = true
		if line[0] == ':' {
			continue
		}
		sawField = true
		name, value, found := bytes.Cut(line, []byte(":"))
		if found {
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(name) {
		case "data":
			data = append(data, value)
		case "event":
			cur.Name = p(string(value))
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				cur.ID = p(string(value))
			}
		case "retry":
			if isDigits(value) {
				cur.Retry = p(string(value))
			}
		}
	}
	return evs, nonEmpty
}

func FuzzScanner(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		check := func(name string, r io.Reader) {
			s := NewScanner(r, 0)
			var raw []byte
			var evs []rec
			var err error
			for {
				var e Event
				e, err = s.Next()
				raw = append(raw, e.Raw...)
				if err != nil {
					break
				}
				if len(e.Raw) == 0 {
					t.Fatalf("%s: empty event", name)
				}
				r := toRec(e)
				r.Raw = ""
				evs = append(evs, r)
			}
			wantEvs, partial := refParse(in)
			if !reflect.DeepEqual(evs, wantEvs) {
				t.Fatalf("%s: events\n got %v\nwant %v", name, evs, wantEvs)
			}
			switch {
			case partial:
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("%s: err %v, want ErrUnexpectedEOF", name, err)
				}
				if !bytes.Equal(raw, in) {
					t.Fatalf("%s: raw concat %q != input %q", name, raw, in)
				}
			default:
				if err != io.EOF {
					t.Fatalf("%s: err %v, want EOF", name, err)
				}
				// Everything but trailing blank lines (and a lone BOM) is
				// covered by Raw, in order.
				if !bytes.HasPrefix(in, raw) {
					t.Fatalf("%s: raw concat %q not a prefix of %q", name, raw, in)
				}
				rest := in[len(raw):]
				if len(raw) == 0 {
					rest = bytes.TrimPrefix(rest, bom)
				}
				if len(bytes.Trim(rest, "\r\n")) != 0 {
					t.Fatalf("%s: unconsumed %q", name, rest)
				}
			}
			// Raw re-scanned must give the same events (pass-through safety).
			if !partial {
				got := scanAll(bytes.NewReader(raw), 0)
				for i := range got.events {
					got.events[i].Raw = ""
				}
				if !reflect.DeepEqual(got.events, evs) || got.err != io.EOF {
					t.Fatalf("%s: rescan of Raw differs", name)
				}
			}
		}
		check("whole", bytes.NewReader(in))
		check("onebyte", iotest.OneByteReader(bytes.NewReader(in)))
		// A small cap must only ever produce ErrEventTooLarge, never panic
		// or return an event bigger than the cap.
		s := NewScanner(bytes.NewReader(in), 8)
		for {
			e, err := s.Next()
			if len(e.Raw) > 8 && err == nil {
				t.Fatalf("event of %d bytes with cap 8", len(e.Raw))
			}
			if err != nil {
				break
			}
		}
	})
}
