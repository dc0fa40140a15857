package pricing

// Resolve is a deployment's price: the built-in table's entry for its
// model (model_info.base_model when set, else the upstream model id),
// overridden field by field by model_info, then by litellm_params (the
// order LiteLLM applies them). path is the deployment's YAML path
// ("model_list[3]") for errors naming a bad value's key.
func (t *Table) Resolve(provider, model string, modelInfo, params map[string]any, path string) (Price, *KeyError) {
	if b, ok := modelInfo["base_model"].(string); ok && b != "" {
		model = b
	}
	p, _ := t.Lookup(provider, model)
	fromInfo, err := FromMap(modelInfo, path+".model_info")
	if err != nil {
		return Price{}, err.(*KeyError)
	}
	fromParams, err := FromMap(params, path+".litellm_params")
	if err != nil {
		return Price{}, err.(*KeyError)
	}
	return p.Over(fromInfo).Over(fromParams), nil
}
