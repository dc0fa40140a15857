// Package pricing owns what a call costs: the built-in price table
// (prices.json, copied from LiteLLM's public model price map, with its
// source commit and date), the per-deployment overrides LiteLLM users
// write in model_info and litellm_params, and the function that turns a
// call's usage — cached and reasoning tokens priced as such — into USD.
//
// It is pure data and arithmetic: it must not know HTTP, providers' wire
// formats or metrics. Reading usage out of answers is the upstream
// package's; recording cost is the server's.
package pricing
