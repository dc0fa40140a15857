package server

import (
	"bytes"
	"log/slog"
	"regexp"

	"github.com/bytedance/sonic"
	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// Memory routing: when the config has user_id_mappings, every upstream
// request carries x-sm-user-id, the user id supermemory files memories
// under (without it, only deployments at supermemory's proxy and calls
// made with a key bound to a user do); per-user rate limits count by
// the same id either way. The id a request names is the value of the custom header
// when the client sends one, else the user id of the first header
// pattern that matches, else the default. What goes upstream depends on
// the key (userFor):
//   - a key bound to a user (api_keys[].user_id) is always that user; a
//     custom header naming another is refused (403);
//   - another api_keys key gets "<key name>:<id>": its own namespace, so
//     no key can reach another key's users' memories or limits;
//   - the master key (and everyone on an open gateway) acts for any
//     user: the id as named.

const (
	defaultCustomHeader = "x-memory-user-id"
	defaultMemoryUserID = "default-dev"
)

// memoryRouter resolves the user id of a request. It is read-only after
// startup; resolving allocates nothing.
type memoryRouter struct {
	custom string
	// customKey is custom's canonical name (canonicalHeaderName).
	customKey []byte
	patterns  []memoryPattern
	defaultID []byte
	// upstream is true when the config has user_id_mappings: only then
	// does every upstream get x-sm-user-id (a key bound to a user, and
	// deployments at supermemory's proxy, get it regardless).
	upstream bool
}

type memoryPattern struct {
	header  string
	key     []byte // header's canonical name
	pattern string
	re      *regexp.Regexp
	userID  []byte
}

// Match sources reported by resolve.
const (
	matchCustom  = -1
	matchDefault = -2
	matchBound   = -3 // the key's api_keys[].user_id
)

func newMemoryRouter(m config.UserIDMappings, log *slog.Logger) *memoryRouter {
	r := &memoryRouter{custom: m.CustomHeader, defaultID: []byte(m.DefaultUserID), upstream: m.Configured}
	if r.custom == "" {
		r.custom = defaultCustomHeader
	}
	r.customKey = canonicalHeaderName(r.custom)
	if len(r.defaultID) == 0 {
		r.defaultID = []byte(defaultMemoryUserID)
	}
	for i, p := range m.HeaderPatterns {
		// The config loader compiles and validates patterns at startup;
		// hand-built configs (tests, embedders) may leave Regexp nil.
		re := p.Regexp
		if re == nil {
			var err error
			if re, err = regexp.Compile("(?i)" + p.Pattern); err != nil {
				log.Error("user_id_mappings: skipping header pattern with an invalid regular expression", "index", i, "header", p.Header)
				continue
			}
		}
		r.patterns = append(r.patterns, memoryPattern{header: p.Header, key: canonicalHeaderName(p.Header), pattern: p.Pattern, re: re, userID: []byte(p.UserID)})
	}
	return r
}

// resolve returns the request's user id and where it came from: the
// custom header (matchCustom), a pattern (its index) or the default
// (matchDefault). The id aliases the request header or the router.
func (m *memoryRouter) resolve(h *fasthttp.RequestHeader) ([]byte, int) {
	if v := peekHeader(h, m.customKey, m.custom); len(v) > 0 {
		return v, matchCustom
	}
	for i := range m.patterns {
		p := &m.patterns[i]
		if v := peekHeader(h, p.key, p.header); len(v) > 0 && p.re.Match(v) {
			return p.userID, i
		}
	}
	return m.defaultID, matchDefault
}

// userFor returns the user id of a request made with key, and where
// the id came from. ok is false when key is bound to a user and the
// custom header names another. A namespaced id is built in *buf (kept
// for reuse): resolving allocates nothing once buf has grown.
func (m *memoryRouter) userFor(key *apiKey, h *fasthttp.RequestHeader, buf *[]byte) (id []byte, match int, ok bool) {
	if key.userID != nil {
		if v := peekHeader(h, m.customKey, m.custom); len(v) > 0 && !bytes.Equal(v, key.userID) {
			return nil, matchBound, false
		}
		return key.userID, matchBound, true
	}
	id, match = m.resolve(h)
	if key.userPrefix == nil {
		return id, match, true
	}
	*buf = append(append((*buf)[:0], key.userPrefix...), id...)
	return *buf, match, true
}

// userMismatchMessage is the 403 of a bound key naming another user.
func (m *memoryRouter) userMismatchMessage(key *apiKey) string {
	return "key '" + key.name + "' is bound to a memory user id: the " + m.custom + " header may only repeat it (or be left out)"
}

// memoryInfo is GET /memory-routing/info's answer. It names the matched
// pattern, never a header's value (other than the resolved id).
type memoryInfo struct {
	UserID              string  `json:"user_id"`
	MatchedPattern      *string `json:"matched_pattern"`
	MatchedHeader       *string `json:"matched_header"`
	CustomHeader        string  `json:"custom_header"`
	CustomHeaderPresent bool    `json:"custom_header_present"`
	IsDefault           bool    `json:"is_default"`
}

func (s *Server) handleMemoryInfo(ctx *fasthttp.RequestCtx) {
	sn := s.current()
	mem := sn.mem
	key := sn.auth.identify(&ctx.Request.Header)
	if key == nil {
		writeAuthError(ctx)
		return
	}
	var buf []byte
	id, match, ok := mem.userFor(key, &ctx.Request.Header, &buf)
	if !ok {
		writeError(ctx, fasthttp.StatusForbidden, mem.userMismatchMessage(key), "permission_error", "", "user_id_mismatch")
		return
	}
	info := memoryInfo{UserID: string(id), CustomHeader: mem.custom, IsDefault: match == matchDefault,
		CustomHeaderPresent: len(ctx.Request.Header.Peek(mem.custom)) > 0}
	if match >= 0 {
		p := &mem.patterns[match]
		info.MatchedPattern, info.MatchedHeader = &p.pattern, &p.header
	}
	b, err := sonic.Marshal(&info)
	if err != nil {
		writeError(ctx, fasthttp.StatusInternalServerError, "internal error", "api_error", "", "internal_error")
		return
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetBody(b)
}

// routeMemoryAndMessages sets up memory routing and registers its info
// route and the Anthropic Messages routes (messages.go).
func (s *Server) routeMemoryAndMessages(r *router.Router) {
	r.GET("/memory-routing/info", s.authed(s.handleMemoryInfo))
	for _, p := range []string{"/v1/messages", "/messages"} {
		r.POST(p, s.handleMessages)
	}
	for _, p := range []string{"/v1/messages/count_tokens", "/messages/count_tokens"} {
		r.POST(p, s.handleCountTokens)
	}
}
