package upstream

import (
	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/jsonx"
)

// A deployment's request defaults (config.Deployment.Defaults:
// temperature, max_tokens, ... from litellm_params) are spliced into the
// client's body right after its opening brace for each one the body's
// top level lacks, so the client's own value wins, as in LiteLLM. The
// body is walked once, member by member, without decoding; a deployment
// without defaults costs one length check.

// maxDefaults bounds the defaults tracked in one pass (a bit each).
const maxDefaults = 64

// withDefaults returns req, or a copy of req whose Body has d's absent
// defaults merged in, held in out until the answer is released.
func withDefaults(d *Deployment, req *ChatRequest, out *Response) *ChatRequest {
	if d.Config == nil || len(d.Config.Defaults) == 0 || len(req.Body) == 0 {
		return req
	}
	defs := d.Config.Defaults
	if req.Anthropic != nil {
		// A Claude client's body passed through as it is: only the
		// parameters Anthropic's Messages API has, none on a count.
		if defs = d.Config.AnthropicDefaults; len(defs) == 0 || req.Anthropic.CountTokens {
			return req
		}
	}
	body, delta := mergeDefaults(out.defaultsBody[:0], req.Body, defs)
	if delta == 0 {
		return req
	}
	out.defaultsBody = body
	if out.defaults == nil {
		out.defaults = new(ChatRequest)
	}
	r := out.defaults
	*r = *req
	r.Body = body
	// Every offset into the body is past the opening brace.
	if r.ModelEnd > 0 {
		r.ModelStart += delta
		r.ModelEnd += delta
	}
	if r.UsagePatch != nil {
		r.UsagePatchAt += delta
	}
	return r
}

// mergeDefaults appends to dst body with the defaults its top level
// lacks inserted after the opening brace, and returns it with the number
// of bytes inserted (0, and dst unchanged, when nothing was: every
// default present, or body not an object).
func mergeDefaults(dst, body []byte, defs []config.BodyDefault) ([]byte, int) {
	open := jsonx.SkipSpace(body, 0)
	if open >= len(body) || body[open] != '{' {
		return dst, 0
	}
	var present uint64
	empty := true
	for i := open + 1; ; {
		i = jsonx.SkipSpace(body, i)
		if i >= len(body) || body[i] != '"' {
			break
		}
		empty = false
		end, ok := jsonx.SkipString(body, i)
		if !ok {
			return dst, 0
		}
		key := body[i+1 : end-1]
		for n := range defs[:min(len(defs), maxDefaults)] {
			if string(key) == defs[n].Key || defs[n].Alias != "" && string(key) == defs[n].Alias {
				present |= 1 << n
			}
		}
		i = jsonx.SkipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return dst, 0
		}
		if i, ok = jsonx.SkipValue(body, jsonx.SkipSpace(body, i+1)); !ok {
			return dst, 0
		}
		if i = jsonx.SkipSpace(body, i); i < len(body) && body[i] == ',' {
			i++
		}
	}
	dst = append(dst, body[:open+1]...)
	added := false
	for n := range defs[:min(len(defs), maxDefaults)] {
		if present&(1<<n) != 0 {
			continue
		}
		dst = jsonx.AppendString(dst, defs[n].Key)
		dst = append(dst, ':')
		dst = append(dst, defs[n].Value...)
		dst = append(dst, ',')
		added = true
	}
	if !added {
		return dst[:0], 0
	}
	if empty {
		dst = dst[:len(dst)-1] // "{}" gets no trailing comma
	}
	dst = append(dst, body[open+1:]...)
	return dst, len(dst) - len(body)
}
