package transport

import (
	"net/url"
	"testing"
)

func TestNoProxyMatchesLikeCurl(t *testing.T) {
	np := ParseNoProxy(" .corp.example, api.internal:8443,10.0.0.0/8 , ::1,*.svc")
	for addr, want := range map[string]bool{
		"corp.example:443":         true,
		"llm.corp.example:443":     true,
		"notcorp.example:443":      false,
		"api.internal:8443":        true,
		"api.internal:443":         false,
		"10.1.2.3:80":              true,
		"11.1.2.3:80":              false,
		"[::1]:443":                true,
		"x.svc:80":                 true,
		"LLM.Corp.Example.:443":    true,
		"api.openai.com:443":       false,
		"api.openai.com.evil:443":  false,
		"example.corp.example2:80": false,
	} {
		if got := np.Matches(addr); got != want {
			t.Errorf("NO_PROXY match of %s = %v, want %v", addr, got, want)
		}
	}
	if !ParseNoProxy("*").Matches("anything:1") || ParseNoProxy("").Matches("anything:1") {
		t.Fatal("* must match every host and an empty list none")
	}
}

func TestEgressProxyForPicksBySchemeAndNoProxy(t *testing.T) {
	hp, _ := url.Parse("http://u:p@proxy:3128")
	sp, _ := url.Parse("http://proxy:3129")
	e := &Egress{HTTPProxy: hp, HTTPSProxy: sp, NoProxy: ParseNoProxy("local.test")}
	if e.ProxyFor("api.test:443", true) != sp || e.ProxyFor("api.test:80", false) != hp {
		t.Fatal("wrong proxy for the scheme")
	}
	if e.ProxyFor("local.test:443", true) != nil || (*Egress)(nil).ProxyFor("api.test:443", true) != nil {
		t.Fatal("NO_PROXY host or nil egress must go direct")
	}
	if got := RedactProxy(hp); got != "http://proxy:3128" {
		t.Fatalf("RedactProxy shows %q", got)
	}
}
