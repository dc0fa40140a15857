// Package jsonx is llmedge's one place for JSON walked without decoding:
// skipping whitespace, strings and values (the request body scanner in
// server, the usage reader and the stream translators in upstream),
// top-level member lookups, and the string escaper every hand-built
// JSON document uses.
//
// It owns no types of the APIs it walks and must not decode into
// values, allocate (beyond growing a caller's buffer) or import
// anything outside the standard library: it sits under every hot path.
package jsonx
