package config

import (
	"regexp"
	"strings"
	"unicode"
)

func (b *builder) userIDMappings(n *node) {
	u := &b.cfg.UserIDMappings
	u.CustomHeader = defaultCustomHeader
	u.DefaultUserID = defaultUserID
	const sec = "user_id_mappings"
	if n.isNull() {
		return
	}
	if n.kind != kindMap {
		b.errAt(n, sec, "want a mapping, got %s", shown(n))
		return
	}
	u.Configured = true
	b.refuseUnknown(n, sec, userIDMappingKeys)
	if ch := n.get("custom_header"); !ch.isNull() {
		v, ok := b.str(ch, sec+".custom_header")
		v = strings.ToLower(strings.TrimSpace(v))
		switch {
		case !ok:
		case v == "":
		case !validHeaderName(v):
			b.errAt(ch, sec+".custom_header", "not a valid HTTP header name")
		default:
			u.CustomHeader = v
		}
	}
	if du := n.get("default_user_id"); !du.isNull() {
		if v, ok := b.str(du, sec+".default_user_id"); ok && v != "" {
			if msg := checkUserID(v); msg != "" {
				b.errAt(du, sec+".default_user_id", "%s", msg)
			} else {
				u.DefaultUserID = v
			}
		}
	}
	hp := n.get("header_patterns")
	if hp.isNull() {
		return
	}
	if hp.kind != kindSeq {
		b.errAt(hp, sec+".header_patterns", "must be a list of {header, pattern, user_id}, not %s", describe(hp))
		return
	}
	seen := map[[2]string]string{}
	for i, e := range hp.vals {
		ep := indexPath(sec+".header_patterns", i)
		if e.kind != kindMap {
			b.errAt(e, ep, "must be a mapping with header, pattern and user_id, not %s", describe(e))
			continue
		}
		ok := b.refuseUnknown(e, ep, headerPatternKeys)
		var p HeaderPattern
		// required returns an entry's string field; good is false (and an
		// error recorded) when it is absent, not a string, or names an
		// unset environment variable.
		required := func(key string) (n *node, s string, good bool) {
			n = e.get(key)
			switch {
			case n.isNull():
				b.errAt(e, joinPath(ep, key), "missing")
			case n.missing:
				b.errAt(n, joinPath(ep, key), "environment variable %s is not set", n.envVar)
			default:
				s, good = b.str(n, joinPath(ep, key))
			}
			if !good {
				ok = false
			}
			return n, s, good
		}
		if hn, h, good := required("header"); good {
			h = strings.ToLower(strings.TrimSpace(h))
			if !validHeaderName(h) {
				b.errAt(hn, joinPath(ep, "header"), "not a valid HTTP header name")
				ok = false
			}
			p.Header = h
		}
		if pn, pat, good := required("pattern"); good {
			p.Pattern = pat
			if pat == "" {
				b.errAt(pn, joinPath(ep, "pattern"), "must not be empty")
				ok = false
			} else if re, err := regexp.Compile("(?i)" + pat); err != nil {
				if pn.envVar != "" {
					b.errAt(pn, joinPath(ep, "pattern"), "not a valid regular expression")
				} else {
					b.errAt(pn, joinPath(ep, "pattern"), "not a valid regular expression: %v", err)
				}
				ok = false
			} else {
				p.Regexp = re
			}
		}
		if un, uid, good := required("user_id"); good {
			if msg := checkUserID(uid); msg != "" {
				b.errAt(un, joinPath(ep, "user_id"), "%s", msg)
				ok = false
			}
			p.UserID = uid
		}
		if !ok {
			continue
		}
		key := [2]string{p.Header, p.Pattern}
		if prev, dup := seen[key]; dup {
			b.errAt(e, ep, "duplicate header/pattern pair (same as %s)", prev)
			continue
		}
		seen[key] = ep
		u.HeaderPatterns = append(u.HeaderPatterns, p)
	}
}

// checkUserID returns why s is not a usable user id, or "".
func checkUserID(s string) string {
	if s == "" {
		return "must not be empty"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain whitespace or control characters"
		}
	}
	return ""
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
