package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The one decoder of settings values. Everything llmedge reads from the
// file goes through these functions: the typed sections through
// decodeStruct (driven by the yaml tags of settings.go), litellm_params
// and user_id_mappings through the scalar readers below. Errors name the
// YAML path and say what was wanted and what was found; a value that
// came from an os.environ/ variable is never shown (it may be a secret).
// A value whose variable is unset counts as absent.

var (
	durationType   = reflect.TypeFor[time.Duration]()
	groupAliasType = reflect.TypeFor[GroupAlias]()
	hostPortType   = reflect.TypeFor[HostPort]()
)

// Default bounds by Go type; a field's min/max tags narrow them.
const (
	maxIntSetting   = math.MaxInt32
	maxInt64Setting = 1 << 50
	maxFloatSetting = 1 << 50
	// maxDuration keeps a duration given in seconds within range.
	maxDuration = time.Duration(math.MaxInt64/int64(time.Second)-1) * time.Second
)

// fieldSpec is one struct field's key and options, from its tags.
type fieldSpec struct {
	key                      string
	index                    int
	inline                   bool
	required, nonempty       bool
	minTag, maxTag           string
	durationMin, durationMax time.Duration
	intMin, intMax           int64
}

// fieldsOf lists the tagged fields of struct type t.
func fieldsOf(t reflect.Type) []fieldSpec {
	var out []fieldSpec
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("yaml")
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		f := fieldSpec{key: name, index: i, minTag: sf.Tag.Get("min"), maxTag: sf.Tag.Get("max")}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "inline":
				f.inline = true
			case "required":
				f.required = true
			case "nonempty":
				f.nonempty = true
			}
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		f.durationMax, f.intMax = maxDuration, maxIntSetting
		if ft.Kind() == reflect.Int64 {
			f.intMax = maxInt64Setting
		}
		if f.minTag != "" {
			f.durationMin, _ = time.ParseDuration(f.minTag)
			f.intMin, _ = strconv.ParseInt(f.minTag, 10, 64)
		}
		if f.maxTag != "" {
			f.durationMax, _ = time.ParseDuration(f.maxTag)
			f.intMax, _ = strconv.ParseInt(f.maxTag, 10, 64)
		}
		out = append(out, f)
	}
	return out
}

// decodeStruct fills the struct v from mapping n. A closed struct
// refuses keys it has no field for; an open one (a top-level section)
// leaves them to the ignored-key report.
func (b *builder) decodeStruct(n *node, path string, v reflect.Value, closed bool) {
	if n.kind != kindMap {
		b.errAt(n, path, "want a mapping, got %s", shown(n))
		return
	}
	if closed {
		b.refuseUnknown(n, path, knownKeys(v.Type()))
	}
	for _, f := range fieldsOf(v.Type()) {
		if f.inline {
			b.decodeStruct(n, path, v.Field(f.index), false)
			continue
		}
		c, p := n.get(f.key), joinPath(path, f.key)
		if c.isNull() {
			if f.required {
				b.errAt(n, p, "missing (required)")
			}
			continue
		}
		b.decodeValue(c, p, v.Field(f.index), f)
	}
}

// refuseUnknown records an error for each key of mapping n not in
// known: used where a typo would silently change behaviour.
func (b *builder) refuseUnknown(n *node, path string, known []string) bool {
	ok := true
	for i, k := range n.keys {
		if !slices.Contains(known, k) {
			b.errAt(n.vals[i], joinPath(path, k), "unknown key (known: %s)", strings.Join(known, ", "))
			ok = false
		}
	}
	return ok
}

// decodeValue fills v from n by v's type and reports whether it set it
// (false when n is absent, names an unset variable, or is invalid).
func (b *builder) decodeValue(n *node, path string, v reflect.Value, f fieldSpec) bool {
	if n.isNull() {
		return false
	}
	if v.Type() == groupAliasType && n.kind == kindScalar {
		// model_group_alias's short form: the group's name alone.
		s, ok := b.str(n, path)
		if ok && strings.TrimSpace(s) == "" {
			b.errAt(n, path, "want a model group name, got \"\"")
			return false
		}
		v.Field(0).SetString(strings.TrimSpace(s))
		return ok
	}
	if v.Type() == durationType {
		d, ok := b.duration(n, path, f.durationMin, f.durationMax)
		if ok {
			v.SetInt(int64(d))
		}
		return ok
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		if !b.decodeValue(n, path, e.Elem(), f) {
			return false
		}
		v.Set(e)
	case reflect.String:
		if n.missing && f.nonempty {
			b.errAt(n, path, "environment variable %s is not set", n.envVar)
		}
		s, ok := b.str(n, path)
		if !ok {
			return false
		}
		if s == "" && f.nonempty {
			b.errAt(n, path, "want a non-empty string, got \"\"")
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(b.boolean(n, path))
	case reflect.Int, reflect.Int64:
		i, ok := b.whole(n, path, f.intMin, f.intMax)
		if !ok {
			return false
		}
		v.SetInt(i)
	case reflect.Float64:
		x, ok := b.number(n, path, "a number >= 0")
		if ok && x > maxFloatSetting {
			b.errAt(n, path, "want a number of at most %d, got %s", int64(maxFloatSetting), shown(n))
			return false
		}
		v.SetFloat(x)
		return ok
	case reflect.Slice:
		return b.decodeSlice(n, path, v)
	case reflect.Map:
		return b.decodeMap(n, path, v)
	case reflect.Struct:
		b.decodeStruct(n, path, v, true)
	default:
		panic("config: no decoder for " + v.Type().String())
	}
	return true
}

// decodeSlice reads a list of strings (also one comma-separated string)
// or a list of mappings. An empty list gives an empty, non-nil slice.
func (b *builder) decodeSlice(n *node, path string, v reflect.Value) bool {
	if v.Type().Elem().Kind() == reflect.String {
		if _, isText := n.val.(string); isText && n.kind == kindScalar {
			s, ok := b.str(n, path)
			if !ok {
				return false
			}
			list := []string{}
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
			v.Set(reflect.ValueOf(list).Convert(v.Type()))
			return true
		}
	}
	if n.kind != kindSeq {
		b.errAt(n, path, "want a list, got %s", shown(n))
		return false
	}
	out := reflect.MakeSlice(v.Type(), len(n.vals), len(n.vals))
	for i, e := range n.vals {
		p := indexPath(path, i)
		if out.Index(i).Kind() == reflect.String {
			// In a [host, port] pair a number is taken as its text.
			s, isText := e.val.(string)
			if !isText && v.Type() == hostPortType && e.kind == kindScalar && !e.isNull() && !e.missing {
				s, isText = e.text, true
			}
			if isText && s != "" && e.kind == kindScalar {
				out.Index(i).SetString(s)
			} else {
				b.errAt(e, p, "want a non-empty string, got %s", shown(e))
			}
			continue
		}
		if e.isNull() {
			b.errAt(e, p, "want a mapping, got null")
			continue
		}
		b.decodeValue(e, p, out.Index(i), fieldSpec{})
	}
	v.Set(out)
	return true
}

// decodeMap reads a mapping, or LiteLLM's list of one-key mappings
// ([{"a": ["b"]}, {"c": ["d"]}]); a key given twice has its lists joined.
func (b *builder) decodeMap(n *node, path string, v reflect.Value) bool {
	t := v.Type()
	out := reflect.MakeMap(t)
	add := func(m *node, p string) {
		for i, k := range m.keys {
			e := reflect.New(t.Elem()).Elem()
			if !b.decodeValue(m.vals[i], joinPath(p, k), e, fieldSpec{}) {
				continue
			}
			if old := out.MapIndex(reflect.ValueOf(k)); old.IsValid() && e.Kind() == reflect.Slice {
				e = reflect.AppendSlice(old, e)
			}
			out.SetMapIndex(reflect.ValueOf(k), e)
		}
	}
	switch n.kind {
	case kindMap:
		add(n, path)
	case kindSeq:
		for i, e := range n.vals {
			if e.kind != kindMap {
				b.errAt(e, indexPath(path, i), "want a mapping like {\"model_name\": [\"fallback\", ...]}, got %s", shown(e))
				continue
			}
			add(e, indexPath(path, i))
		}
	default:
		b.errAt(n, path, "want a list like [{\"model_name\": [\"fallback\", ...]}], got %s", shown(n))
		return false
	}
	v.Set(out)
	return true
}

// shown names what was found for an error message: numbers, booleans
// and short strings as the file spells them, anything else (and every
// value from an os.environ/ variable) only by its type, since a long
// string in the wrong place may be a key pasted there.
func shown(n *node) string {
	switch {
	case n == nil || n.kind == kindNull:
		return "null"
	case n.kind != kindScalar:
		return n.kind.String()
	case n.envVar != "":
		return describe(n) + " from os.environ/" + n.envVar
	}
	if s, ok := n.val.(string); ok {
		if len(s) > 12 {
			return "a string of " + strconv.Itoa(len(s)) + " bytes"
		}
		return strconv.Quote(s)
	}
	return n.text
}

// str returns a scalar as text. ok is false for null/absent (no error) and
// for a mapping or list (error).
func (b *builder) str(n *node, path string) (string, bool) {
	if n.isNull() || n.missing {
		return "", false
	}
	if n.kind != kindScalar {
		b.errAt(n, path, "want a string, got %s", shown(n))
		return "", false
	}
	if s, ok := n.val.(string); ok {
		return s, true
	}
	return n.text, true
}

// number reads a non-negative number: a YAML number or a numeric string
// (such as "30" from an environment variable). ok is false when absent
// or invalid.
func (b *builder) number(n *node, path, want string) (float64, bool) {
	f, ok, isNum := b.numeric(n, path, want)
	if !isNum {
		if ok {
			b.errAt(n, path, "want %s, got %s", want, shown(n))
		}
		return 0, false
	}
	return f, ok
}

// numeric parses n as a number. present is false when n is absent (no
// error); isNum is false when n is present but not numeric (no error
// recorded: the caller decides, since a duration may be "30s").
func (b *builder) numeric(n *node, path, want string) (f float64, present, isNum bool) {
	if n.isNull() || n.missing {
		return 0, false, true
	}
	if n.kind != kindScalar {
		return 0, true, false
	}
	if v, ok := n.val.(string); ok && strings.TrimSpace(v) == "" && n.envVar != "" {
		return 0, false, true
	}
	f, isNum = scalarNumber(n.val)
	if !isNum {
		return 0, true, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		b.errAt(n, path, "want %s, got %s", want, shown(n))
		return 0, false, true
	}
	return f, true, true
}

// scalarNumber is a scalar's value as a number: a YAML (or JSON)
// number, or a string holding one ("2.5e-06", "1_000", "0x10"). ok is
// false for anything else.
func scalarNumber(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), "_", "")
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return float64(i), true
		}
	}
	return 0, false
}

// Number reads a number from a free-form mapping (model_info,
// litellm_params, a price table) the way the typed settings read
// theirs: a number or a numeric string, finite and not negative. want
// names what was wanted, for the error.
func Number(v any, want string) (float64, error) {
	f, ok := scalarNumber(v)
	if !ok {
		if s, isStr := v.(string); isStr {
			return 0, fmt.Errorf("want %s, got %q", want, s)
		}
		return 0, fmt.Errorf("want %s, got a %T", want, v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("want %s, got %v", want, f)
	}
	return f, nil
}

// whole reads a whole number within [lo, hi].
func (b *builder) whole(n *node, path string, lo, hi int64) (int64, bool) {
	want := "a whole number >= " + strconv.FormatInt(lo, 10)
	if hi < maxIntSetting {
		want = "a whole number from " + strconv.FormatInt(lo, 10) + " to " + strconv.FormatInt(hi, 10)
	}
	f, ok := b.number(n, path, want)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(lo) {
		b.errAt(n, path, "want %s, got %s", want, shown(n))
		return 0, false
	}
	if f > float64(hi) {
		b.errAt(n, path, "want %s, got %s (too large)", want, shown(n))
		return 0, false
	}
	return int64(f), true
}

// count reads a whole number >= 0 (at most MaxInt32); nil when absent or
// invalid.
func (b *builder) count(n *node, path string) *int {
	i, ok := b.whole(n, path, 0, maxIntSetting)
	if !ok {
		return nil
	}
	c := int(i)
	return &c
}

// duration reads a duration within [lo, hi]: a number of seconds (YAML
// number or numeric string) or a Go duration string ("30s", "1m",
// "500ms").
func (b *builder) duration(n *node, path string, lo, hi time.Duration) (time.Duration, bool) {
	const want = `a duration (seconds or "30s")`
	f, present, isNum := b.numeric(n, path, want)
	var d time.Duration
	switch {
	case !present:
		return 0, false
	case isNum:
		if f > hi.Seconds() {
			b.errAt(n, path, "want a duration of at most %s, got %s", hi, shown(n))
			return 0, false
		}
		d = time.Duration(f * float64(time.Second))
	default:
		s, _ := n.val.(string)
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(s)); err != nil || n.kind != kindScalar {
			b.errAt(n, path, "want %s, got %s", want, shown(n))
			return 0, false
		}
		if d < 0 {
			b.errAt(n, path, "want %s >= 0, got %s", want, shown(n))
			return 0, false
		}
		if d > hi {
			b.errAt(n, path, "want a duration of at most %s, got %s", hi, shown(n))
			return 0, false
		}
	}
	if d < lo {
		b.errAt(n, path, "want a duration of at least %s, got %s", lo, shown(n))
		return 0, false
	}
	return d, true
}

// boolean reads true/false (also yes/no, on/off, 1/0 and those as
// strings); false when absent.
func (b *builder) boolean(n *node, path string) bool {
	if n.isNull() || n.missing {
		return false
	}
	if n.kind == kindScalar {
		switch v := n.val.(type) {
		case bool:
			return v
		case int64:
			if v == 0 || v == 1 {
				return v == 1
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "yes", "on", "1":
				return true
			case "false", "no", "off", "0", "":
				return false
			}
		}
	}
	b.errAt(n, path, "want true or false, got %s", shown(n))
	return false
}
