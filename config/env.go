package config

import (
	"fmt"
	"strings"
)

// envPrefix marks a value LiteLLM reads from the environment.
const envPrefix = "os.environ/"

// resolver resolves os.environ/VAR references: first from the file's
// environment_variables (the overlay; the process environment is never
// modified), then through Options.Getenv.
type resolver struct {
	getenv  func(string) (string, bool)
	overlay map[string]string
}

type missingRef struct {
	path string // YAML path of the value
	name string // variable name
}

func (r *resolver) lookup(name string) (string, bool) {
	if v, ok := r.overlay[name]; ok {
		return v, true
	}
	return r.getenv(name)
}

// envRef reports whether n is an os.environ/ reference and names the
// variable.
func envRef(n *node) (string, bool) {
	s, ok := n.str()
	if !ok || !strings.HasPrefix(s, envPrefix) {
		return "", false
	}
	return strings.TrimSpace(s[len(envPrefix):]), true
}

// resolve returns a copy of n with every os.environ/ string replaced by
// the variable's value. Unset variables become "" (node.missing) and are
// appended to missing. The copy is a tree: values shared through YAML
// aliases are copied per path, so each path is reported on its own.
func (r *resolver) resolve(n *node, path string, missing *[]missingRef) *node {
	if n == nil {
		return &node{}
	}
	switch n.kind {
	case kindScalar:
		name, ok := envRef(n)
		if !ok {
			return n
		}
		out := &node{kind: kindScalar, line: n.line, col: n.col, envVar: name}
		v, ok := r.lookup(name)
		if !ok || name == "" {
			out.missing = true
			out.val = ""
			*missing = append(*missing, missingRef{path, name})
			return out
		}
		out.val, out.text = v, v
		return out
	case kindMap:
		out := &node{kind: kindMap, line: n.line, col: n.col, keys: n.keys, vals: make([]*node, len(n.vals))}
		for i, v := range n.vals {
			out.vals[i] = r.resolve(v, joinPath(path, n.keys[i]), missing)
		}
		return out
	case kindSeq:
		out := &node{kind: kindSeq, line: n.line, col: n.col, vals: make([]*node, len(n.vals))}
		for i, v := range n.vals {
			out.vals[i] = r.resolve(v, indexPath(path, i), missing)
		}
		return out
	}
	return n
}

// environmentVariables applies the top-level environment_variables map to
// the overlay, in file order. A value may itself be an os.environ/
// reference (resolved against what is set so far); an unset one leaves
// the variable alone, as LiteLLM does.
func (b *builder) environmentVariables(ev *node) {
	if ev.isNull() {
		return
	}
	if ev.kind != kindMap {
		b.errAt(ev, "environment_variables", "must be a mapping of NAME: value, not %s", describe(ev))
		return
	}
	for i, k := range ev.keys {
		v := ev.vals[i]
		path := joinPath("environment_variables", k)
		if k == "" {
			b.errAt(v, path, "variable name must not be empty")
			continue
		}
		if name, ok := envRef(v); ok {
			val, ok := b.env.lookup(name)
			if !ok || name == "" {
				b.warnf("%s: environment variable %s is not set; %s left as is", path, name, k)
				continue
			}
			b.env.overlay[k] = val
			continue
		}
		switch v.kind {
		case kindNull:
			b.env.overlay[k] = ""
		case kindScalar:
			b.env.overlay[k] = v.text
		default:
			b.errAt(v, path, "must be a scalar value, not %s", describe(v))
		}
	}
}

func (b *builder) warnf(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}
