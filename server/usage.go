package server

// scanUsage reads usage.prompt_tokens and usage.completion_tokens from
// a chat.completion JSON body without decoding it: one walk of the
// top-level object, skipping every other value (choices included) by
// counting brackets outside strings. ok is false when the body has no
// well-formed usage object. Allocates nothing.
func scanUsage(b []byte) (prompt, completion int64, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return 0, 0, false
		}
		ke, sok := skipString(b, i)
		if !sok {
			return 0, 0, false
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, 0, false
		}
		if string(key) == "usage" {
			return scanUsageObject(b, i)
		}
		e, vok := skipValue(b, i)
		if !vok {
			return 0, 0, false
		}
		i = skipWS(b, e)
		if i >= len(b) || b[i] != ',' {
			return 0, 0, false
		}
		i++
	}
}

// scanUsageObject reads the two counts from the object at b[i]:
// OpenAI's prompt_tokens/completion_tokens, or Anthropic's
// input_tokens (+ cache_creation_input_tokens + cache_read_input_tokens)
// and output_tokens for /v1/messages answers.
func scanUsageObject(b []byte, i int) (prompt, completion int64, ok bool) {
	if b[i] != '{' {
		return 0, 0, false
	}
	i++
	var anthIn, anthOut int64
	openAI := false
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, 0, false
		}
		if b[i] == '}' {
			if !openAI {
				prompt, completion = anthIn, anthOut
			}
			return prompt, completion, true
		}
		if b[i] != '"' {
			return 0, 0, false
		}
		ke, sok := skipString(b, i)
		if !sok {
			return 0, 0, false
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return 0, 0, false
		}
		e, vok := skipValue(b, i)
		if !vok {
			return 0, 0, false
		}
		switch string(key) {
		case "prompt_tokens":
			prompt, openAI = parseCount(b[i:e]), true
		case "completion_tokens":
			completion, openAI = parseCount(b[i:e]), true
		case "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens":
			anthIn += parseCount(b[i:e])
		case "output_tokens":
			anthOut = parseCount(b[i:e])
		}
		i = skipWS(b, e)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// parseCount reads a non-negative JSON integer; anything else is 0.
// Values are capped at 1<<40 (no provider counts more tokens).
func parseCount(v []byte) int64 {
	if len(v) == 0 || len(v) > 13 {
		return 0
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	if n > 1<<40 {
		return 0
	}
	return n
}
