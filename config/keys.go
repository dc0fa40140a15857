package config

import (
	"reflect"
	"slices"
)

// The keys llmedge knows are the yaml tags of the typed settings
// (settings.go, config.go): every other key of those sections lands in
// Config.Ignored, so that operators see which LiteLLM features their
// file asks for that llmedge does not provide. To support a new setting,
// add a field.

// directives are top-level keys the loader acts on while loading
// instead of keeping them.
var directives = []string{"environment_variables", "include"}

// acceptedNotActedOn are keys llmedge accepts without acting on them
// and without reporting them as ignored (LiteLLM's debug switch has no
// meaning here, but warning about it in every config would be noise).
var acceptedNotActedOn = map[string][]string{
	"litellm_settings": {"set_verbose"},
}

// Known key sets, derived once from the struct tags.
var (
	topLevelSections  = keySet(knownKeys(reflect.TypeFor[Config]()), directives)
	deploymentKeys    = keySet(knownKeys(reflect.TypeFor[Deployment]()))
	userIDMappingKeys = knownKeys(reflect.TypeFor[UserIDMappings]())
	headerPatternKeys = knownKeys(reflect.TypeFor[HeaderPattern]())
	sectionKeys       = map[string]map[string]bool{
		"general_settings": keySet(knownKeys(reflect.TypeFor[GeneralSettings]())),
		"litellm_settings": keySet(knownKeys(reflect.TypeFor[LiteLLMSettings]()), acceptedNotActedOn["litellm_settings"]),
		"router_settings":  keySet(knownKeys(reflect.TypeFor[RouterSettings]())),
	}
)

// knownKeys returns the yaml keys of struct type t (an inline field's
// keys included), sorted.
func knownKeys(t reflect.Type) []string {
	var keys []string
	for _, f := range fieldsOf(t) {
		if f.inline {
			keys = append(keys, knownKeys(t.Field(f.index).Type)...)
			continue
		}
		keys = append(keys, f.key)
	}
	slices.Sort(keys)
	return keys
}

func keySet(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, k := range l {
			m[k] = true
		}
	}
	return m
}
