package config

import "strings"

// TEMPORARY until the loader lands.
type Error struct{ Path, Msg string }

func (e *Error) Error() string { return "config: " + e.Path + ": " + e.Msg }

type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}
