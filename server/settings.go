package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/server/limits"
	"github.com/llmedge/llmedge/server/replicas"
)

// edgeSettings are the general_settings / router_settings keys the
// server enforces: keys, limits, HTTP server limits, CORS, Redis.
// Every key is optional; see config.yaml.example.
type edgeSettings struct {
	keys []keyConf

	// globalParallel caps requests in flight across the whole process
	// (or all processes sharing Redis): the smaller of
	// general_settings.max_parallel_requests and
	// global_max_parallel_requests. 0 = unlimited.
	globalParallel int64
	// userLimits apply to each memory user id (general_settings
	// user_rpm_limit, user_tpm_limit, user_max_parallel_requests).
	userLimits limits.Quota

	corsOrigins []string
	// access is allowed_ips / allowed_routes (access.go); nil = none.
	access *accessRules

	// HTTP server limits (0 = Options default).
	maxBody        int
	readTimeout    time.Duration
	idleTimeout    time.Duration
	maxHeaderBytes int
	maxConnsPerIP  int
	bodiesInFlight int64
	writeTimeout   time.Duration

	redis limits.Redis

	// warnings are logged at startup (never with a secret).
	warnings []string
}

// keyConf is one general_settings.api_keys entry.
type keyConf struct {
	key    string
	name   string
	models []string // nil = every model
	lim    limits.Quota
	// userID, when set, is the memory user id the key always acts as
	// (memory.go); else the key's user ids are namespaced by its name.
	userID string
}

// settingsError collects problems with config paths.
type settingsError struct{ errs config.Errors }

func (e *settingsError) add(path, format string, args ...any) {
	e.errs = append(e.errs, &config.Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (e *settingsError) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs
}

// CheckConfig reports problems in the settings the server enforces
// (api_keys, limits, CORS, Redis, HTTP limits). main calls it before
// New; New refuses to serve a config that fails it.
func CheckConfig(cfg *config.Config) error {
	_, err := parseEdgeSettings(cfg)
	if err != nil {
		return err
	}
	_, err = cacheSettings(cfg)
	return err
}

func parseEdgeSettings(cfg *config.Config) (edgeSettings, error) {
	var st edgeSettings
	var errs settingsError
	g := &cfg.General
	seen := map[string]int{}
	names := map[string]int{}
	for i, e := range g.APIKeys {
		p := "general_settings.api_keys[" + strconv.Itoa(i) + "]"
		kc := keyConf{key: e.Key, name: e.Name, userID: e.UserID, models: e.Models,
			lim: limits.Quota{RPM: e.RPMLimit, TPM: e.TPMLimit, Parallel: e.MaxParallelRequests}}
		if kc.key == "" {
			// os.environ/VAR with VAR unset: nobody can use this key,
			// which is safe; say so and go on.
			st.warnings = append(st.warnings, p+".key is empty (unset os.environ variable?): entry skipped")
			continue
		}
		if len(kc.key) < 8 {
			errs.add(p+".key", "too short: use at least 8 characters")
		}
		if kc.key == g.MasterKey {
			errs.add(p+".key", "same value as general_settings.master_key")
		}
		if j, dup := seen[kc.key]; dup {
			errs.add(p+".key", "same value as api_keys[%d]", j)
		}
		seen[kc.key] = i
		if kc.name == "" {
			kc.name = "key-" + strconv.Itoa(i)
		}
		// A key's name namespaces the memory user ids it names
		// ("<name>:<id>"): names must be unique and free of ':'.
		if strings.Contains(kc.name, ":") || !headerSafe(kc.name) {
			errs.add(p+".name", "must be text without ':' or control characters (it prefixes the key's memory user ids)")
		}
		if j, dup := names[kc.name]; dup {
			errs.add(p+".name", "same name as api_keys[%d]: names must be unique (each key's memory user ids are namespaced by its name)", j)
		}
		names[kc.name] = i
		if !headerSafe(kc.userID) {
			errs.add(p+".user_id", "must be a non-empty string without control characters (the memory user id the key always acts as)")
		}
		st.keys = append(st.keys, kc)
	}

	st.globalParallel = g.MaxParallelRequests
	if b := g.GlobalMaxParallelRequests; b > 0 && (st.globalParallel == 0 || b < st.globalParallel) {
		st.globalParallel = b
	}
	st.userLimits = limits.Quota{RPM: g.UserRPMLimit, TPM: g.UserTPMLimit, Parallel: g.UserMaxParallelRequests}
	for _, o := range g.CORSAllowOrigins {
		st.corsOrigins = append(st.corsOrigins, strings.TrimRight(o, "/"))
	}
	st.access = parseAccessRules(g, &errs)
	st.maxBody = int(g.MaxRequestSizeMB * (1 << 20))
	st.readTimeout = g.HTTPReadTimeout
	st.idleTimeout = g.HTTPIdleTimeout
	st.maxHeaderBytes = g.MaxHeaderBytes
	st.maxConnsPerIP = g.MaxConnectionsPerIP
	if mb := g.MaxRequestBodyInFlightMB; mb > 0 {
		st.bodiesInFlight = int64(mb * (1 << 20))
		if st.maxBody > 0 && st.bodiesInFlight < int64(st.maxBody) {
			errs.add("general_settings.max_request_body_in_flight_mb", "must be at least max_request_size_mb (%g): a body of the largest size must fit", g.MaxRequestSizeMB)
		}
	}
	st.writeTimeout = g.HTTPWriteTimeout

	r := &cfg.Router
	rc, rerrs := replicas.ParseConf(r, "router_settings")
	rc.Egress = replicas.EgressTLS(cfg.LiteLLM.Egress) // rediss:// trusts what the upstreams do (docs/egress.md)
	st.redis = rc
	errs.errs = append(errs.errs, rerrs...)
	return st, errs.err()
}

// headerSafe reports whether s can be sent in an HTTP header value.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
