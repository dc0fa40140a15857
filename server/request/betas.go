package request

import "bytes"

// SplitBetas cuts an anthropic-beta list off a model name written
// "model,beta1,beta2" (claude-sonnet-4-5,context-1m-2025-08-07): the
// Python memory proxy's way of asking for betas from clients that can
// only set a model name. It sets f.Betas to "beta1,beta2" and f.Model
// to the name before the first comma, unless models reports that the
// whole name is a model of its own. The body is not changed: the model
// literal is replaced upstream by the deployment's model anyway.
func SplitBetas(f *Fields, models Models) {
	i := bytes.IndexByte(f.Model, ',')
	if i < 0 || models.Known(f.Model) {
		return
	}
	betas := bytes.Trim(f.Model[i+1:], ", ")
	f.Model, f.Betas = bytes.TrimSpace(f.Model[:i]), betas
}

// Models says which model names the gateway serves (upstream.Registry).
type Models interface{ Known(model []byte) bool }
