package provider

import "testing"

// The guard counts consecutive equal texts longer than 2 characters:
// another text, or a short one, starts the count again; an event
// without text leaves it; reset clears it.
func TestRepeatGuardCountsEqualTexts(t *testing.T) {
	var g repeatGuard
	g.reset(3)
	steps := []struct {
		lit  string // "" is an event without text
		want bool
	}{
		{`"abc"`, false},
		{`"abc"`, false},
		{"", false}, // no text: the count stays at 2
		{`"abc"`, true},
		{`"abd"`, false}, // another text: 1
		{`"abd"`, false},
		{`"ab"`, false}, // 2 characters: 1
		{`"ab"`, false},
		{`"ab"`, false},
		{`"abd"`, false},
		{`"abd"`, false},
		{`"abd"`, true},
	}
	for i, s := range steps {
		var lit []byte
		if s.lit != "" {
			lit = []byte(s.lit)
		}
		if got := g.see(lit); got != s.want {
			t.Fatalf("step %d (%s): %v, want %v", i, s.lit, got, s.want)
		}
	}
	g.reset(3)
	lit := []byte(`"abd"`)
	first := g.see(lit)
	second := g.see(lit)
	if first || second {
		t.Fatal("reset kept the count")
	}
}
