package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options control Load and Parse.
type Options struct {
	// Getenv looks up an environment variable; nil means os.LookupEnv.
	// It is consulted for os.environ/VAR references after the file's own
	// environment_variables section.
	Getenv func(string) (string, bool)
	// BaseDir resolves relative include: paths. Load defaults it to the
	// config file's directory, Parse to the current directory.
	BaseDir string
	// Strict makes a model_list entry with an invalid setting an error.
	// By default such an entry loads as unavailable (Deployment.Invalid)
	// and the others are served.
	Strict bool
}

// masterKeyEnv is the variable LiteLLM takes the master key from when
// general_settings.master_key is not set.
const masterKeyEnv = "LITELLM_MASTER_KEY"

// maxIncludeSize bounds an included file; config files are small and an
// include must not be able to make the loader read something huge.
const maxIncludeSize = 16 << 20

// Load reads and parses the config file at path. Problems in the file are
// returned as Errors; a file that cannot be read gives a wrapped OS error.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	cfg, err := Parse(data, opts)
	if err != nil {
		return nil, err
	}
	cfg.Path = path
	return cfg, nil
}

// Parse parses a config held in memory. See Load.
//
// The order of work follows LiteLLM: include: files are merged (their
// model_list entries appended, their other sections used where the main
// file has none), environment_variables are applied to an overlay that
// Getenv consults after (never changing the process environment), every
// os.environ/VAR string is resolved once, then the sections are
// interpreted and validated. An unset variable inside a model_list entry
// leaves that deployment loaded but unavailable (Deployment.MissingEnv,
// plus a warning); in general_settings.master_key it is an error; elsewhere
// it becomes "" with a warning.
func Parse(data []byte, opts Options) (*Config, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if opts.BaseDir == "" {
		opts.BaseDir = "."
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{Msg: "empty config"}}
	}
	root, warnings, errs := parseTree(data, "")
	if len(errs) > 0 {
		return nil, errs
	}
	if root == nil || root.kind == kindNull {
		return nil, Errors{{Msg: "empty config"}}
	}
	if root.kind != kindMap {
		return nil, Errors{{Msg: fmt.Sprintf("the top level must be a mapping of sections (model_list, general_settings, ...), not %s", describe(root)), Line: root.line, Column: root.col}}
	}
	b := &builder{
		cfg:      &Config{},
		ignored:  map[string]bool{},
		labels:   map[*Deployment]string{},
		warnings: warnings,
		strict:   opts.Strict,
		env:      &resolver{getenv: opts.Getenv, overlay: map[string]string{}},
	}
	b.load(root, opts)
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	cfg := b.cfg
	if cfg.General.MasterKey == "" {
		// LiteLLM reads the master key from LITELLM_MASTER_KEY when the
		// file sets none; Compose setups rely on it.
		if v, ok := opts.Getenv(masterKeyEnv); ok && strings.TrimSpace(v) != "" {
			cfg.General.MasterKey = strings.TrimSpace(v)
			cfg.MasterKeyFromEnv = true
		}
	}
	for k := range b.ignored {
		cfg.Ignored = append(cfg.Ignored, k)
	}
	slices.Sort(cfg.Ignored)
	cfg.Warnings = b.warnings
	return cfg, nil
}

// modelEntry is one model_list entry with the path used to report it
// ("model_list[3]", or "include[0].model_list[1]" for included files).
type modelEntry struct {
	n     *node
	label string
}

// load runs the phases in LiteLLM's order: merge includes, apply
// environment_variables, resolve os.environ/ references, interpret.
func (b *builder) load(root *node, opts Options) {
	var entries []modelEntry
	switch ml := root.get("model_list"); {
	case ml.isNull():
	case ml.kind == kindSeq:
		for i, e := range ml.vals {
			entries = append(entries, modelEntry{e, indexPath("model_list", i)})
		}
	default:
		b.errAt(ml, "model_list", "must be a list of deployments, not %s", describe(ml))
	}
	entries = append(entries, b.includes(root, opts.BaseDir)...)

	for _, k := range root.keys {
		// Keys starting with "." or "x-" hold YAML anchors for the rest
		// of the file (Compose's convention): used, not ignored.
		if !topLevelSections[k] && !strings.HasPrefix(k, ".") && !strings.HasPrefix(k, "x-") {
			b.ignored[k] = true
		}
	}

	b.environmentVariables(root.get("environment_variables"))

	// Resolve every section but model_list (resolved per entry below, so
	// that a missing variable is charged to its deployment).
	sections := map[string]*node{}
	for i, k := range root.keys {
		switch k {
		case "model_list", "environment_variables", "include":
			continue
		}
		var missing []missingRef
		sections[k] = b.env.resolve(root.vals[i], k, &missing)
		for _, m := range missing {
			if m.path == "general_settings.master_key" {
				b.errs = append(b.errs, &Error{Path: m.path, Msg: fmt.Sprintf("environment variable %s is not set (refusing to start without the master key it names)", m.name)})
				continue
			}
			b.warnf("%s: environment variable %s is not set; using an empty value", m.path, m.name)
		}
	}

	b.general(sections["general_settings"])
	b.settings(sections["litellm_settings"], "litellm_settings", &b.cfg.LiteLLM)
	b.checkEgress(&b.cfg.LiteLLM.Egress, "litellm_settings")
	b.router(sections["router_settings"])
	b.userIDMappings(sections["user_id_mappings"])

	var missingByDep [][]missingRef
	for _, e := range entries {
		var missing []missingRef
		resolved := b.env.resolve(e.n, e.label, &missing)
		d := b.deployment(resolved, e.label, len(b.cfg.Deployments))
		if d == nil {
			continue
		}
		for _, m := range missing {
			if !slices.Contains(d.MissingEnv, m.name) {
				d.MissingEnv = append(d.MissingEnv, m.name)
			}
		}
		b.cfg.Deployments = append(b.cfg.Deployments, d)
		b.labels[d] = e.label
		missingByDep = append(missingByDep, missing)
	}
	b.assignIDs()
	// Warn after ids are final so that the warning names the deployment
	// as the router and logs will.
	for i, d := range b.cfg.Deployments {
		for _, m := range missingByDep[i] {
			b.warnf("%s: environment variable %s is not set; deployment %q (model_name %q) is unavailable until it is", m.path, m.name, d.ID, d.ModelName)
		}
	}
}

// includes reads the files named by the top-level include: list. Their
// model_list entries are appended (returned); their other sections are
// added to root when root lacks them, as LiteLLM does.
func (b *builder) includes(root *node, baseDir string) []modelEntry {
	inc := root.get("include")
	if inc.isNull() {
		return nil
	}
	var files []*node
	switch inc.kind {
	case kindSeq:
		files = inc.vals
	case kindScalar:
		files = []*node{inc}
	default:
		b.errAt(inc, "include", "must be a list of file paths, not %s", describe(inc))
		return nil
	}
	var entries []modelEntry
	for i, f := range files {
		label := indexPath("include", i)
		if len(files) == 1 && inc.kind == kindScalar {
			label = "include"
		}
		name, ok := f.str()
		if !ok || strings.TrimSpace(name) == "" {
			b.errAt(f, label, "must be a file path (a non-empty string)")
			continue
		}
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(baseDir, p)
		}
		data, err := readLimited(p)
		if err != nil {
			b.errAt(f, label, "cannot read included file: %v", err)
			continue
		}
		sub, warnings, errs := parseTree(data, label)
		b.warnings = append(b.warnings, warnings...)
		if len(errs) > 0 {
			for _, e := range errs {
				if e.Path == "" {
					e.Path = label
				}
				b.errs = append(b.errs, e)
			}
			continue
		}
		if sub == nil {
			b.warnf("%s: included file %s is empty", label, name)
			continue
		}
		if sub.kind != kindMap {
			b.errAt(sub, label, "included file must be a mapping of sections, not %s", describe(sub))
			continue
		}
		for j, k := range sub.keys {
			v := sub.vals[j]
			switch {
			case k == "model_list":
				switch {
				case v.isNull():
				case v.kind == kindSeq:
					for n, e := range v.vals {
						entries = append(entries, modelEntry{e, indexPath(label+".model_list", n)})
					}
				default:
					b.errAt(v, label+".model_list", "must be a list of deployments, not %s", describe(v))
				}
			case k == "include":
				b.warnf("%s.include: includes inside an included file are not followed", label)
			case !root.has(k):
				root.set(k, v)
			}
		}
	}
	return entries
}

// readLimited reads a regular file of bounded size.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIncludeSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxIncludeSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxIncludeSize)
	}
	return data, nil
}

// Models returns the distinct model_name values in first-seen order.
func (c *Config) Models() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range c.Deployments {
		if !seen[d.ModelName] {
			seen[d.ModelName] = true
			out = append(out, d.ModelName)
		}
	}
	return out
}
