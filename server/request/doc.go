// Package request reads a client's JSON request body in one pass
// without decoding it: it checks the body (UTF-8, strict JSON syntax,
// nesting depth, top-level keys, messages and roles, sampling and token
// fields: validate.go lists the limits) and finds the few facts the
// request path needs (Fields: the model and its span, stream,
// stream_options.include_usage and their spans, the output token
// counts). A refused body gets an Error naming the field, for a 400.
//
// It owns that scan and nothing else: it must not allocate for a valid
// body, hold on to the body after Scan returns, write answers (server
// does, in the OpenAI or Anthropic shape) or know routes, keys or
// providers.
package request
