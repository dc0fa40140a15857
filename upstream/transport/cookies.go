package transport

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Cookie store bounds. Upstream hosts are few (the config's api_bases
// and their redirects); Cloudflare sets three cookies per host.
const (
	maxCookiesPerDomain = 50
	maxCookies          = 3000
	maxCookieBytes      = 4096 // name + value, as browsers do
	// cookieSaveDelay batches file rewrites: a burst of Set-Cookie
	// answers costs one write.
	cookieSaveDelay = time.Second
)

// storedCookie is one cookie kept for an upstream host.
type storedCookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain"` // lower case, no leading dot
	HostOnly bool      `json:"host_only,omitempty"`
	Path     string    `json:"path"`
	Secure   bool      `json:"secure,omitempty"`
	Expires  time.Time `json:"expires,omitzero"` // zero: until restart
	Created  time.Time `json:"created"`
}

func (c *storedCookie) expired(now time.Time) bool {
	return !c.Expires.IsZero() && !now.Before(c.Expires)
}

// CookieJar is llmedge's own cookie store for upstream hosts: it keeps
// Set-Cookie of upstream answers (Cloudflare's cf_clearance, __cfruid,
// __cf_bm, a provider's session affinity cookie) and sends them on later
// requests to the hosts they belong to, from every client, honouring
// Domain, Path, Expires/Max-Age and Secure (RFC 6265). Upstream cookies
// are never relayed to clients. With a path it survives restarts: the
// file is rewritten atomically (temp file + rename), mode 0600.
//
// A host without cookies costs one atomic load per request.
type CookieJar struct {
	count   atomic.Int32
	mu      sync.RWMutex
	domains map[string][]*storedCookie
	path    string
	pending bool
	now     func() time.Time
}

func NewCookieJar(path string) (*CookieJar, error) {
	j := &CookieJar{domains: make(map[string][]*storedCookie), path: path, now: time.Now}
	if path == "" {
		return j, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return j, err
	}
	var list []*storedCookie
	if err := json.Unmarshal(b, &list); err != nil {
		return j, errors.New("cookie store " + path + " is not valid JSON; starting empty")
	}
	now := j.now()
	for _, c := range list {
		if c == nil || c.Name == "" || c.Domain == "" || c.expired(now) || c.Expires.IsZero() {
			continue
		}
		if !strings.HasPrefix(c.Path, "/") {
			c.Path = "/"
		}
		c.Domain = strings.ToLower(c.Domain)
		j.put(c, now)
	}
	return j, nil
}

// hostName is host without port, lower case.
func hostName(host []byte) string {
	h := string(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// Apply adds the cookies stored for the request's URL to req; tls says
// the request goes over TLS (its pool's), whatever its URL says: a
// request built from a copied head (provider.Endpoint.StartRequest)
// carries its target as a path and a Host, which parse as http.
func (j *CookieJar) Apply(req *fasthttp.Request, tls bool) {
	if j == nil || j.count.Load() == 0 {
		return
	}
	u := req.URI()
	host := hostName(u.Host())
	path := string(u.Path())
	https := tls || string(u.Scheme()) == "https"
	now := j.now()
	isIP := net.ParseIP(host) != nil
	j.mu.RLock()
	defer j.mu.RUnlock()
	for dom := host; ; {
		for _, c := range j.domains[dom] {
			if c.HostOnly && dom != host {
				continue
			}
			if (c.Secure && !https) || c.expired(now) || !pathMatch(path, c.Path) {
				continue
			}
			req.Header.SetCookie(c.Name, c.Value)
		}
		i := strings.IndexByte(dom, '.')
		if i < 0 || isIP {
			break
		}
		dom = dom[i+1:]
	}
}

// pathMatch is RFC 6265 5.1.4.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == "" {
		reqPath = "/"
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return len(reqPath) == len(cookiePath) || strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// defaultPath is RFC 6265 5.1.4's default-path of a request path.
func defaultPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/"
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// Store keeps the Set-Cookie headers of resp, an answer to req.
func (j *CookieJar) Store(req *fasthttp.Request, resp *fasthttp.Response) {
	if j == nil {
		return
	}
	var any bool
	for range resp.Header.Cookies() {
		any = true
		break
	}
	if !any {
		return
	}
	u := req.URI()
	host := hostName(u.Host())
	reqPath := string(u.Path())
	now := j.now()
	isIP := net.ParseIP(host) != nil
	changed := false
	for _, raw := range resp.Header.Cookies() {
		hc, err := http.ParseSetCookie(string(raw))
		if err != nil || hc.Name == "" || len(hc.Name)+len(hc.Value) > maxCookieBytes {
			continue
		}
		c := &storedCookie{Name: hc.Name, Value: hc.Value, Secure: hc.Secure, Created: now}
		dom := strings.ToLower(strings.TrimPrefix(hc.Domain, "."))
		switch {
		case dom == "" || dom == host:
			c.Domain, c.HostOnly = host, dom == ""
		case isIP || !strings.HasSuffix(host, "."+dom) || !strings.Contains(dom, "."):
			// Not this host's domain (or a bare TLD): refused.
			continue
		default:
			c.Domain = dom
		}
		c.Path = hc.Path
		if !strings.HasPrefix(c.Path, "/") {
			c.Path = defaultPath(reqPath)
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = now.Add(-time.Second)
		case hc.MaxAge > 0:
			c.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires
		}
		j.mu.Lock()
		if j.put(c, now) && !c.Expires.IsZero() {
			changed = true
		}
		j.mu.Unlock()
	}
	if changed {
		j.scheduleSave()
	}
}

// put adds or replaces c (an expired c deletes its match). Caller holds
// mu (or owns j). It reports whether the store changed.
func (j *CookieJar) put(c *storedCookie, now time.Time) bool {
	list := j.domains[c.Domain]
	for i, old := range list {
		if old.Name == c.Name && old.Path == c.Path && old.HostOnly == c.HostOnly {
			if c.expired(now) {
				list = append(list[:i], list[i+1:]...)
				j.setDomain(c.Domain, list)
				j.count.Add(-1)
				return true
			}
			c.Created = old.Created
			list[i] = c
			return true
		}
	}
	if c.expired(now) {
		return false
	}
	// Drop expired cookies of the domain before growing it.
	kept := list[:0]
	for _, old := range list {
		if !old.expired(now) {
			kept = append(kept, old)
		} else {
			j.count.Add(-1)
		}
	}
	list = kept
	if len(list) >= maxCookiesPerDomain {
		// Evict the oldest.
		oldest := 0
		for i, old := range list {
			if old.Created.Before(list[oldest].Created) {
				oldest = i
			}
		}
		list = append(list[:oldest], list[oldest+1:]...)
		j.count.Add(-1)
	}
	if int(j.count.Load()) >= maxCookies {
		j.setDomain(c.Domain, list)
		return false
	}
	j.setDomain(c.Domain, append(list, c))
	j.count.Add(1)
	return true
}

func (j *CookieJar) setDomain(dom string, list []*storedCookie) {
	if len(list) == 0 {
		delete(j.domains, dom)
		return
	}
	j.domains[dom] = list
}

func (j *CookieJar) scheduleSave() {
	if j.path == "" {
		return
	}
	j.mu.Lock()
	if j.pending {
		j.mu.Unlock()
		return
	}
	j.pending = true
	j.mu.Unlock()
	time.AfterFunc(cookieSaveDelay, func() { _ = j.Save() })
}

// save rewrites the file with every unexpired persistent cookie:
// written to a temp file in the same directory, synced, then renamed
// over the old one, so a crash leaves the old file or the new, never a
// torn one.
func (j *CookieJar) Save() error {
	if j == nil || j.path == "" {
		return nil
	}
	now := j.now()
	j.mu.Lock()
	j.pending = false
	list := make([]*storedCookie, 0, j.count.Load())
	for _, cs := range j.domains {
		for _, c := range cs {
			if !c.Expires.IsZero() && !c.expired(now) {
				cp := *c
				list = append(list, &cp)
			}
		}
	}
	j.mu.Unlock()
	b, err := json.MarshalIndent(list, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(j.path)
	f, err := os.CreateTemp(dir, ".llmedge-cookies-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// Path is the file the store is saved to ("" = memory only).
func (j *CookieJar) Path() string { return j.path }
