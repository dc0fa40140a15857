package server

import (
	"log/slog"
	"regexp"

	"github.com/bytedance/sonic"
	"github.com/fasthttp/router"
	"github.com/llmedge/llmedge/config"
	"github.com/valyala/fasthttp"
)

// Memory routing: every upstream request carries x-sm-user-id, the user
// id supermemory files memories under. It is the value of the custom
// header when the client sends one, else the user id of the first
// header pattern that matches, else the default.

const (
	defaultCustomHeader = "x-memory-user-id"
	defaultMemoryUserID = "default-dev"
)

// memoryRouter resolves the user id of a request. It is read-only after
// startup; resolving allocates nothing.
type memoryRouter struct {
	custom    string
	patterns  []memoryPattern
	defaultID []byte
}

type memoryPattern struct {
	header  string
	pattern string
	re      *regexp.Regexp
	userID  []byte
}

// Match sources reported by resolve.
const (
	matchCustom  = -1
	matchDefault = -2
)

func newMemoryRouter(m config.UserIDMappings, log *slog.Logger) *memoryRouter {
	r := &memoryRouter{custom: m.CustomHeader, defaultID: []byte(m.DefaultUserID)}
	if r.custom == "" {
		r.custom = defaultCustomHeader
	}
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
		r.patterns = append(r.patterns, memoryPattern{header: p.Header, pattern: p.Pattern, re: re, userID: []byte(p.UserID)})
	}
	return r
}

// resolve returns the request's user id and where it came from: the
// custom header (matchCustom), a pattern (its index) or the default
// (matchDefault). The id aliases the request header or the router.
func (m *memoryRouter) resolve(h *fasthttp.RequestHeader) ([]byte, int) {
	if v := h.Peek(m.custom); len(v) > 0 {
		return v, matchCustom
	}
	for i := range m.patterns {
		p := &m.patterns[i]
		if v := h.Peek(p.header); len(v) > 0 && p.re.Match(v) {
			return p.userID, i
		}
	}
	return m.defaultID, matchDefault
}

// userID is resolve's id alone.
func (m *memoryRouter) userID(h *fasthttp.RequestHeader) []byte {
	id, _ := m.resolve(h)
	return id
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
	mem := s.current().mem
	id, match := mem.resolve(&ctx.Request.Header)
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
