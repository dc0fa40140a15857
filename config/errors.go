package config

import "strings"

// Error is one problem found in a config file. Path is the YAML path of
// the offending value (e.g. "model_list[2].litellm_params.model"); it is
// "" for problems with the file as a whole (empty file, YAML syntax).
// Msg never contains a secret value.
type Error struct {
	Path string
	Msg  string
	// Line and Column locate the problem in the file (1-based) when known,
	// else 0.
	Line   int
	Column int
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "config: " + e.Msg
	}
	return "config: " + e.Path + ": " + e.Msg
}

// Errors is every problem found in one load (grouped by section, in the
// order found), so that a user can fix the whole file in one go. Parse and Load return a non-empty
// Errors (never a nil Errors in a non-nil error).
type Errors []*Error

func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "config: no errors"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	b.WriteString(es[0].Error())
	for _, e := range es[1:] {
		b.WriteByte('\n')
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
