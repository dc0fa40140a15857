package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The loader does not decode into Go structs: it converts goccy/go-yaml's
// AST into a small tree of its own. That gives it what a struct decoder
// cannot: YAML paths and line numbers for every value (so errors name
// them), duplicate-key detection that warns instead of failing, standard
// merge-key semantics (explicit keys win over merged ones whatever their
// order), ordered maps (extra_headers keep file order) and a bound on
// alias expansion (a "billion laughs" file fails instead of eating memory).

type kind uint8

const (
	kindNull kind = iota
	kindScalar
	kindMap
	kindSeq
)

func (k kind) String() string {
	switch k {
	case kindScalar:
		return "a scalar"
	case kindMap:
		return "a mapping"
	case kindSeq:
		return "a list"
	}
	return "null"
}

// node is one YAML value. Nodes reached through an alias are shared, so
// the tree is a DAG until env resolution copies it.
type node struct {
	kind kind
	// val is the scalar's value: string, int64, uint64, float64 or bool.
	val any
	// text is the scalar as written (for strings, the string itself).
	text string
	// keys/vals hold a mapping (unique keys, in file order); vals alone
	// holds a list's items.
	keys []string
	vals []*node
	line int
	col  int
	// envVar names the variable an os.environ/ reference was resolved
	// from; the value is then a secret and never printed. missing is set
	// when that variable was unset (the value is then "").
	envVar  string
	missing bool
}

func (n *node) get(key string) *node {
	if n == nil || n.kind != kindMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *node) has(key string) bool {
	if n == nil || n.kind != kindMap {
		return false
	}
	for _, k := range n.keys {
		if k == key {
			return true
		}
	}
	return false
}

// set replaces key's value or appends it.
func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func (n *node) isNull() bool { return n == nil || n.kind == kindNull }

// str returns a string scalar's value, and whether n is one.
func (n *node) str() (string, bool) {
	if n == nil || n.kind != kindScalar {
		return "", false
	}
	s, ok := n.val.(string)
	return s, ok
}

// toAny converts the tree to plain Go values (map[string]any, []any,
// string, int64, uint64, float64, bool, nil) for the Raw/Params maps.
func (n *node) toAny() any {
	if n == nil {
		return nil
	}
	switch n.kind {
	case kindScalar:
		return n.val
	case kindMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].toAny()
		}
		return m
	case kindSeq:
		s := make([]any, len(n.vals))
		for i, v := range n.vals {
			s[i] = v.toAny()
		}
		return s
	}
	return nil
}

// Limits that keep a hostile or broken file from exhausting the process.
const (
	maxDepth = 256
	// maxNodes bounds the tree size after alias expansion.
	maxNodes = 1 << 20
)

// converter turns one file's AST into a node tree.
type converter struct {
	// pathPrefix is prepended to paths in warnings (for included files).
	pathPrefix string
	anchors    map[string]*node
	inProgress map[string]bool
	warnings   []string
	errs       Errors
}

// parseTree parses data into a node tree. It returns (nil, nil, errs) on
// failure. A document that holds only comments or nothing gives a nil
// tree and no error.
func parseTree(data []byte, pathPrefix string) (root *node, warnings []string, errs Errors) {
	// Editors on Windows save a UTF-8 byte order mark; PyYAML (LiteLLM)
	// accepts it, goccy/go-yaml would read it as part of the first key.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f, err := safeParse(data)
	if err != nil {
		return nil, nil, Errors{syntaxError(err)}
	}
	var body ast.Node
	docs := 0
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		switch d.Body.(type) {
		case *ast.CommentGroupNode, *ast.CommentNode, *ast.DirectiveNode:
			// "%YAML 1.1" before "---" arrives as a document of its own.
			continue
		}
		docs++
		if body == nil {
			body = d.Body
		}
	}
	if docs > 1 {
		return nil, nil, Errors{{Msg: "more than one YAML document in the file"}}
	}
	if body == nil {
		return nil, nil, nil
	}
	c := &converter{
		pathPrefix: pathPrefix,
		anchors:    map[string]*node{},
		inProgress: map[string]bool{},
	}
	root = c.convert(body, "", 0)
	if len(c.errs) > 0 {
		return nil, c.warnings, c.errs
	}
	if n := expandedSize(root, map[*node]int{}); n > maxNodes {
		return nil, c.warnings, Errors{{Msg: fmt.Sprintf("document too large after alias expansion (more than %d values)", maxNodes)}}
	}
	return root, c.warnings, nil
}

// safeParse runs the YAML parser, turning a panic inside it (a parser bug
// on malformed input) into an error: a bad file must never crash the
// proxy.
func safeParse(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("invalid YAML (parser failed: %v)", r)
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

// syntaxError reports a YAML parse error with its position but without
// the source excerpt goccy/go-yaml prints, which could show a secret from
// a neighbouring line.
func syntaxError(err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{Msg: "YAML syntax error: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
			e.Msg = fmt.Sprintf("YAML syntax error at line %d, column %d: %s", e.Line, e.Column, ye.GetMessage())
		}
		return e
	}
	return &Error{Msg: "YAML syntax error: " + err.Error()}
}

func expandedSize(n *node, memo map[*node]int) int {
	if n == nil {
		return 1
	}
	if s, ok := memo[n]; ok {
		return s
	}
	s := 1
	for _, v := range n.vals {
		s += expandedSize(v, memo)
		if s > maxNodes {
			s = maxNodes + 1
			break
		}
	}
	memo[n] = s
	return s
}

func position(n ast.Node) (line, col int) {
	if n == nil {
		return 0, 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

func (c *converter) errorf(n ast.Node, path, format string, args ...any) {
	line, col := position(n)
	c.errs = append(c.errs, &Error{Path: joinPath(c.pathPrefix, path), Msg: fmt.Sprintf(format, args...), Line: line, Column: col})
}

func (c *converter) convert(n ast.Node, path string, depth int) *node {
	if depth > maxDepth {
		c.errorf(n, path, "nested more than %d levels deep", maxDepth)
		return &node{}
	}
	line, col := position(n)
	scalar := func(v any, text string) *node {
		return &node{kind: kindScalar, val: v, text: text, line: line, col: col}
	}
	switch n := n.(type) {
	case nil:
		return &node{}
	case *ast.DocumentNode:
		return c.convert(n.Body, path, depth+1)
	case *ast.NullNode, *ast.CommentGroupNode, *ast.CommentNode:
		return &node{line: line, col: col}
	case *ast.StringNode:
		return scalar(n.Value, n.Value)
	case *ast.LiteralNode:
		s := ""
		if n.Value != nil {
			s = n.Value.Value
		}
		return scalar(s, s)
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64, uint64:
			return scalar(v, tokenText(n))
		}
		return scalar(tokenText(n), tokenText(n))
	case *ast.FloatNode:
		return scalar(n.Value, tokenText(n))
	case *ast.InfinityNode:
		return scalar(n.Value, tokenText(n))
	case *ast.NanNode:
		return scalar(math.NaN(), tokenText(n))
	case *ast.BoolNode:
		return scalar(n.Value, tokenText(n))
	case *ast.MergeKeyNode:
		return scalar("<<", "<<")
	case *ast.TagNode:
		v := c.convert(n.Value, path, depth+1)
		tag := ""
		if n.Start != nil {
			tag = n.Start.Value
		}
		switch tag {
		case "!!str":
			if v.kind == kindScalar {
				return &node{kind: kindScalar, val: v.text, text: v.text, line: v.line, col: v.col}
			}
			if v.kind == kindNull {
				return &node{kind: kindScalar, val: "", line: v.line, col: v.col}
			}
		case "!!null":
			return &node{line: v.line, col: v.col}
		}
		return v
	case *ast.AnchorNode:
		name := tokenText(n.Name)
		c.inProgress[name] = true
		v := c.convert(n.Value, path, depth+1)
		delete(c.inProgress, name)
		c.anchors[name] = v
		return v
	case *ast.AliasNode:
		name := tokenText(n.Value)
		if c.inProgress[name] {
			c.errorf(n, path, "alias *%s refers to its own anchor", name)
			return &node{}
		}
		v, ok := c.anchors[name]
		if !ok {
			c.errorf(n, path, "alias *%s has no anchor &%s before it", name, name)
			return &node{}
		}
		return v
	case *ast.MappingKeyNode:
		return c.convert(n.Value, path, depth+1)
	case *ast.MappingNode:
		return c.mapping(n.Values, path, depth, line, col)
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{n}, path, depth, line, col)
	case *ast.SequenceNode:
		out := &node{kind: kindSeq, line: line, col: col, vals: make([]*node, 0, len(n.Values))}
		for i, v := range n.Values {
			out.vals = append(out.vals, c.convert(v, indexPath(path, i), depth+1))
		}
		return out
	}
	c.errorf(n, path, "unsupported YAML construct (%s)", n.Type())
	return &node{}
}

func tokenText(n ast.Node) string {
	if n == nil {
		return ""
	}
	tk := n.GetToken()
	if tk == nil {
		return ""
	}
	return tk.Value
}

// mapping builds a map from its entries. Explicit keys override merged
// ones ("<<: *x") wherever they appear; among several merge sources the
// first wins; a key written twice keeps its last value and is warned
// about.
func (c *converter) mapping(entries []*ast.MappingValueNode, path string, depth, line, col int) *node {
	type entry struct {
		key     string
		value   *node
		merge   []*node
		keyNode ast.Node
	}
	es := make([]entry, 0, len(entries))
	explicit := map[string]bool{}
	for _, mv := range entries {
		if mv == nil {
			continue
		}
		if mv.Key != nil && mv.Key.IsMergeKey() {
			src := c.convert(mv.Value, joinPath(path, "<<"), depth+1)
			var srcs []*node
			switch src.kind {
			case kindMap:
				srcs = []*node{src}
			case kindSeq:
				for _, s := range src.vals {
					if s.kind != kindMap {
						c.errorf(mv.Value, joinPath(path, "<<"), "merge key value must be a mapping or a list of mappings")
						srcs = nil
						break
					}
					srcs = append(srcs, s)
				}
			case kindNull:
			default:
				c.errorf(mv.Value, joinPath(path, "<<"), "merge key value must be a mapping or a list of mappings")
			}
			es = append(es, entry{merge: srcs})
			continue
		}
		k := c.convert(mv.Key, path, depth+1)
		var key string
		switch k.kind {
		case kindScalar:
			key = k.text
		case kindNull:
			key = ""
		default:
			c.errorf(mv.Key, path, "mapping keys must be scalars, not %s", k.kind)
			continue
		}
		v := c.convert(mv.Value, joinPath(path, key), depth+1)
		es = append(es, entry{key: key, value: v, keyNode: mv.Key})
		explicit[key] = true
	}
	out := &node{kind: kindMap, line: line, col: col}
	for _, e := range es {
		if e.value == nil {
			for _, src := range e.merge {
				for i, k := range src.keys {
					if !explicit[k] && !out.has(k) {
						out.keys = append(out.keys, k)
						out.vals = append(out.vals, src.vals[i])
					}
				}
			}
			continue
		}
		if out.has(e.key) {
			l, _ := position(e.keyNode)
			c.warnings = append(c.warnings, fmt.Sprintf("%s: duplicate key (line %d); the last value is used", joinPath(c.pathPrefix, joinPath(path, e.key)), l))
		}
		out.set(e.key, e.value)
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	if key == "" {
		return path
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// describe names a node's type for error messages without showing its
// value (which may be a secret).
func describe(n *node) string {
	if n == nil || n.kind == kindNull {
		return "null"
	}
	if n.kind != kindScalar {
		return n.kind.String()
	}
	switch n.val.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	default:
		return "an integer"
	}
}
