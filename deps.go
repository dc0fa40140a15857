//go:build tools

package main

import (
	_ "github.com/bytedance/sonic"
	_ "github.com/fasthttp/router"
	_ "github.com/goccy/go-yaml"
	_ "github.com/openai/openai-go/v3"
	_ "github.com/valyala/fasthttp"
)
