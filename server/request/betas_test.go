package request

import "testing"

type models map[string]bool

func (m models) Known(model []byte) bool { return m[string(model)] }

func TestSplitBetas(t *testing.T) {
	known := models{"odd,name": true}
	for _, c := range []struct{ in, model, betas string }{
		{"claude-sonnet-4-5,context-1m-2025-08-07", "claude-sonnet-4-5", "context-1m-2025-08-07"},
		{"claude-sonnet-4-5,a-1,b-2,", "claude-sonnet-4-5", "a-1,b-2"},
		{"gpt-4o", "gpt-4o", ""},
		{"odd,name", "odd,name", ""},
	} {
		f := Fields{Model: []byte(c.in)}
		SplitBetas(&f, known)
		if string(f.Model) != c.model || string(f.Betas) != c.betas {
			t.Errorf("SplitBetas(%q) = %q, %q", c.in, f.Model, f.Betas)
		}
	}
}
