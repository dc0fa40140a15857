package server

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/redis/go-redis/v9"
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
	userLimits limits

	corsOrigins []string

	// HTTP server limits (0 = Options default).
	maxBody        int
	readTimeout    time.Duration
	idleTimeout    time.Duration
	maxHeaderBytes int
	maxConnsPerIP  int
	bodiesInFlight int64
	writeTimeout   time.Duration

	redis redisConf

	// warnings are logged at startup (never with a secret).
	warnings []string
}

// keyConf is one general_settings.api_keys entry.
type keyConf struct {
	key    string
	name   string
	models []string // nil = every model
	lim    limits
	// userID, when set, is the memory user id the key always acts as
	// (memory.go); else the key's user ids are namespaced by its name.
	userID string
}

type redisConf struct {
	url      string // redis_url, or built from host/port
	addr     string
	password string
	username string
	db       int
}

func (r redisConf) enabled() bool { return r.addr != "" || r.url != "" }

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
	_, _, err = cacheSettings(cfg)
	return err
}

func parseEdgeSettings(cfg *config.Config) (edgeSettings, error) {
	var st edgeSettings
	var errs settingsError
	g := cfg.General.Raw
	if g == nil {
		g = map[string]any{}
	}

	if v, ok := g["api_keys"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			errs.add("general_settings.api_keys", "must be a list of {key, name, user_id, models, rpm_limit, tpm_limit, max_parallel_requests}")
		}
		seen := map[string]int{}
		names := map[string]int{}
		for i, e := range list {
			p := "general_settings.api_keys[" + strconv.Itoa(i) + "]"
			m, ok := e.(map[string]any)
			if !ok {
				errs.add(p, "must be a mapping with at least key")
				continue
			}
			var kc keyConf
			for k := range m {
				switch k {
				case "key", "name", "user_id", "models", "rpm_limit", "tpm_limit", "max_parallel_requests":
				default:
					errs.add(p+"."+k, "unknown field (known: key, name, user_id, models, rpm_limit, tpm_limit, max_parallel_requests)")
				}
			}
			kc.key, _ = m["key"].(string)
			if kc.key == "" {
				if _, has := m["key"]; has {
					// os.environ/VAR with VAR unset: nobody can use
					// this key, which is safe; say so and go on.
					st.warnings = append(st.warnings, p+".key is empty (unset os.environ variable?): entry skipped")
					continue
				}
				errs.add(p+".key", "required: a non-empty string (os.environ/VAR is resolved at load)")
			} else if len(kc.key) < 8 {
				errs.add(p+".key", "too short: use at least 8 characters")
			}
			if kc.key != "" && kc.key == cfg.General.MasterKey {
				errs.add(p+".key", "same value as general_settings.master_key")
			}
			if j, dup := seen[kc.key]; dup && kc.key != "" {
				errs.add(p+".key", "same value as api_keys[%d]", j)
			}
			seen[kc.key] = i
			if n, ok := m["name"]; ok {
				kc.name = fmt.Sprint(n)
			}
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
			if u, ok := m["user_id"]; ok && u != nil {
				kc.userID, _ = u.(string)
				if kc.userID == "" || !headerSafe(kc.userID) {
					errs.add(p+".user_id", "must be a non-empty string without control characters (the memory user id the key always acts as)")
				}
			}
			if mv, ok := m["models"]; ok && mv != nil {
				ml, ok := mv.([]any)
				if !ok {
					errs.add(p+".models", "must be a list of model names")
				}
				kc.models = []string{}
				for j, x := range ml {
					s, ok := x.(string)
					if !ok || s == "" {
						errs.add(p+".models["+strconv.Itoa(j)+"]", "must be a non-empty string")
						continue
					}
					kc.models = append(kc.models, s)
				}
			}
			kc.lim.rpm = intSetting(&errs, m, "rpm_limit", p)
			kc.lim.tpm = intSetting(&errs, m, "tpm_limit", p)
			kc.lim.parallel = intSetting(&errs, m, "max_parallel_requests", p)
			st.keys = append(st.keys, kc)
		}
	}

	const gp = "general_settings"
	a := intSetting(&errs, g, "max_parallel_requests", gp)
	b := intSetting(&errs, g, "global_max_parallel_requests", gp)
	st.globalParallel = a
	if b > 0 && (a == 0 || b < a) {
		st.globalParallel = b
	}
	st.userLimits.rpm = intSetting(&errs, g, "user_rpm_limit", gp)
	st.userLimits.tpm = intSetting(&errs, g, "user_tpm_limit", gp)
	st.userLimits.parallel = intSetting(&errs, g, "user_max_parallel_requests", gp)

	if v, ok := g["cors_allow_origins"]; ok && v != nil {
		switch o := v.(type) {
		case string:
			for _, s := range strings.Split(o, ",") {
				if s = strings.TrimSpace(s); s != "" {
					st.corsOrigins = append(st.corsOrigins, s)
				}
			}
		case []any:
			for j, x := range o {
				s, ok := x.(string)
				if !ok || s == "" {
					errs.add(gp+".cors_allow_origins["+strconv.Itoa(j)+"]", "must be an origin such as https://app.example.com, or *")
					continue
				}
				st.corsOrigins = append(st.corsOrigins, strings.TrimRight(s, "/"))
			}
		default:
			errs.add(gp+".cors_allow_origins", "must be a list of origins")
		}
	}

	if mb := floatSetting(&errs, g, "max_request_size_mb", gp); mb > 0 {
		st.maxBody = int(mb * (1 << 20))
	}
	st.readTimeout = secondsSetting(&errs, g, "http_read_timeout", gp)
	st.idleTimeout = secondsSetting(&errs, g, "http_idle_timeout", gp)
	st.maxHeaderBytes = int(intSetting(&errs, g, "max_header_bytes", gp))
	st.maxConnsPerIP = int(intSetting(&errs, g, "max_connections_per_ip", gp))
	if mb := floatSetting(&errs, g, "max_request_body_in_flight_mb", gp); mb > 0 {
		st.bodiesInFlight = int64(mb * (1 << 20))
		if st.maxBody > 0 && st.bodiesInFlight < int64(st.maxBody) {
			errs.add(gp+".max_request_body_in_flight_mb", "must be at least max_request_size_mb (%g): a body of the largest size must fit", float64(st.maxBody)/(1<<20))
		}
	}
	st.writeTimeout = secondsSetting(&errs, g, "http_write_timeout", gp)

	r := cfg.Router.Raw
	const rp = "router_settings"
	if u, ok := r["redis_url"].(string); ok && u != "" {
		st.redis.url = u
		if _, err := redis.ParseURL(u); err != nil {
			// The parse error may quote the URL and its password.
			errs.add(rp+".redis_url", "not a valid redis:// or rediss:// URL")
		}
	} else if h, ok := r["redis_host"]; ok && h != nil && fmt.Sprint(h) != "" {
		port := "6379"
		if pv, ok := r["redis_port"]; ok && pv != nil {
			n := intSetting(&errs, r, "redis_port", rp)
			if n > 65535 {
				errs.add(rp+".redis_port", "must be a TCP port")
			}
			port = strconv.FormatInt(n, 10)
		}
		st.redis.addr = net.JoinHostPort(fmt.Sprint(h), port)
		st.redis.password, _ = r["redis_password"].(string)
		st.redis.username, _ = r["redis_username"].(string)
		st.redis.db = int(intSetting(&errs, r, "redis_db", rp))
	}
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

// intSetting reads a non-negative integer (YAML int, integral float or
// numeric string from os.environ). Absent or null = 0.
func intSetting(errs *settingsError, m map[string]any, key, path string) int64 {
	f := floatSetting(errs, m, key, path)
	if f != math.Trunc(f) {
		errs.add(path+"."+key, "must be a whole number")
		return 0
	}
	return int64(f)
}

func floatSetting(errs *settingsError, m map[string]any, key, path string) float64 {
	v, ok := m[key]
	if !ok || v == nil {
		return 0
	}
	f, ok := config.Number(v)
	if !ok {
		errs.add(path+"."+key, "must be a number")
		return 0
	}
	if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1<<50 {
		errs.add(path+"."+key, "must be a non-negative number")
		return 0
	}
	return f
}

func secondsSetting(errs *settingsError, m map[string]any, key, path string) time.Duration {
	if s, ok := m[key].(string); ok {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return d
		}
	}
	return time.Duration(floatSetting(errs, m, key, path) * float64(time.Second))
}
