package upstream

import (
	"fmt"
	"slices"

	"github.com/llmedge/llmedge/config"
)

// Alias is a router_settings.model_group_alias name and the group it
// serves.
type Alias struct {
	Name   string
	Group  *Group
	Hidden bool
}

// initAliases resolves model_group_alias once the groups are built. An
// alias names an exact model group (a pattern group would see the
// alias, not a model its '*' matches); an alias of an unknown group is
// a warning. As in LiteLLM, an alias wins over a model_name of the same
// name.
func (r *Registry) initAliases(cfg *config.Config) {
	names := make([]string, 0, len(cfg.Router.ModelGroupAlias))
	for name := range cfg.Router.ModelGroupAlias {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		a := cfg.Router.ModelGroupAlias[name]
		g := r.groups[a.Model]
		switch {
		case g == nil:
			r.warnings = append(r.warnings, fmt.Sprintf("router_settings.model_group_alias.%s: model group %q is not in model_list; the alias is not served", name, a.Model))
			continue
		case g.pattern:
			r.warnings = append(r.warnings, fmt.Sprintf("router_settings.model_group_alias.%s: %q is a wildcard group; an alias must name a model group exactly", name, a.Model))
			continue
		}
		if r.aliases == nil {
			r.aliases = map[string]*Group{}
		}
		r.aliases[name] = g
		r.aliasList = append(r.aliasList, Alias{Name: name, Group: g, Hidden: a.Hidden})
	}
}

// Aliases returns the model_group_alias names served, sorted.
func (r *Registry) Aliases() []Alias { return r.aliasList }
