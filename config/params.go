package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// A deployment's litellm_params is kept whole (Deployment.Params): the
// loader reads its own keys from it, and providers read theirs (Vertex's
// project, Bedrock's AWS keys, ...). Every other key is reported like an
// ignored settings key, with the model_name of each deployment that sets
// it: "model_list[].litellm_params.region_name (model_name "a"): ...".
// LiteLLM keys llmedge knows but does not act on say what llmedge does
// instead (ignoredParams); --strict makes all of them startup errors.

// paramsActedOn are the litellm_params keys llmedge reads, besides the
// request defaults (defaults.go) and the egress keys (egress.go). Keep
// it in step with the readers: provider.Param(cd, key) and
// cd.Params[key] in upstream/provider/..., pricing.Keys (checked by
// upstream/pricing's tests).
var paramsActedOn = []string{
	"model", "custom_llm_provider", "api_base", "base_url", "api_key", "api_version",
	"extra_headers", "extra_body", "organization", "timeout", "stream_timeout", "max_retries",
	"rpm", "tpm", "max_parallel_requests", "weight", "connection_pool", "mock_response",
	"drop_params", "thinking",
	// Vertex AI
	"vertex_project", "vertex_location", "vertex_credentials",
	// Azure (tenant_id, client_id and azure_username make the deployment
	// unavailable: Entra ID login is not supported)
	"azure_ad_token", "tenant_id", "client_id", "azure_username",
	// Bedrock
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
	"aws_bedrock_runtime_endpoint", "aws_role_name", "aws_profile_name", "aws_web_identity_token",
	// prices (upstream/pricing)
	"input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
	"cache_creation_input_token_cost", "output_cost_per_reasoning_token",
	"input_cost_per_second", "output_cost_per_second",
}

// ignoredParams are LiteLLM litellm_params keys llmedge knows and does
// not act on, with what it does instead.
var ignoredParams = map[string]string{
	"region_name":                        "deployments are not chosen by the client's region (no region-based routing): every deployment of the group may serve",
	"mock_timeout":                       "no timeout is simulated: requests go to the deployment",
	"tags":                               "tag-based routing is not done: every deployment of the group may serve",
	"litellm_credential_name":            "credentials are not looked up by name: set api_key (os.environ/VAR works)",
	"use_in_pass_through":                "pass-through endpoints are not served",
	"merge_reasoning_content_in_choices": "reasoning is relayed as the provider sends it",
	"cache_control_injection_points":     "no cache_control markers are added to messages",
	"num_retries":                        "retries are litellm_settings / router_settings num_retries; max_retries bounds this deployment",
	"max_budget":                         "no per-deployment budget is enforced",
	"budget_duration":                    "no per-deployment budget is enforced",
	"client_secret":                      "Entra ID login is not supported: set api_key or azure_ad_token",
	"azure_password":                     "Entra ID login is not supported: set api_key or azure_ad_token",
}

// deploymentParams is every litellm_params key llmedge acts on.
var deploymentParams = keySet(paramsActedOn, requestDefaultKeys, knownKeys(reflect.TypeFor[Egress]()))

// ParamActedOn reports whether llmedge acts on the litellm_params key k.
func ParamActedOn(k string) bool { return deploymentParams[k] }

// paramsPath is the ignored-key path of litellm_params key k.
func paramsPath(k string) string { return "model_list[].litellm_params." + k }

// checkParams records the keys of the litellm_params mapping lp that
// llmedge does not act on, for the deployment named modelName.
func (b *builder) checkParams(lp *node, modelName string) {
	for _, k := range lp.keys {
		if deploymentParams[k] {
			continue
		}
		p := paramsPath(k)
		b.ignored[p] = true
		if b.cfg.ignoredIn == nil {
			b.cfg.ignoredIn = map[string][]string{}
		}
		if !slices.Contains(b.cfg.ignoredIn[p], modelName) {
			b.cfg.ignoredIn[p] = append(b.cfg.ignoredIn[p], modelName)
		}
	}
}

// paramWarning is the warning for ignored litellm_params key k, set by
// the deployments named models.
func paramWarning(k string, models []string) string {
	quoted := make([]string, len(models))
	for i, m := range models {
		quoted[i] = strconv.Quote(m)
	}
	what := ignoredParams[k]
	if what == "" {
		what = "not a litellm_params key llmedge acts on; ignored"
		if s := closest(k, deploymentParams); s != "" {
			what += "; did you mean " + s + "?"
		}
	}
	return paramsPath(k) + " (model_name " + strings.Join(quoted, ", ") + "): " + what
}
