package server

import (
	"context"
	"github.com/openai/openai-go/v3"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/internal/corpus"
	"github.com/llmedge/llmedge/upstream"
	"github.com/openai/openai-go/v3/option"
)

// corpusEnv gives every os.environ/ variable a dummy value, URL- and
// port-shaped ones pointing at loopback port 9, as the corpus README
// asks.
func corpusEnv(name string) (string, bool) {
	u := strings.ToUpper(name)
	switch {
	case strings.HasSuffix(u, "PORT"):
		return "9", true
	case strings.Contains(u, "URL"), strings.Contains(u, "BASE"), strings.Contains(u, "ENDPOINT"), strings.HasSuffix(u, "HOST"):
		return "http://127.0.0.1:9", true
	}
	return "dummy-" + name, true
}

// Every real-world LiteLLM config starts (without reaching any
// provider) and GET /v1/models lists every model_name in it.
func TestCorpusConfigsServeTheirModelList(t *testing.T) {
	files := corpus.Files(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.Load(f, config.Options{Getenv: corpusEnv})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			reg, err := upstream.NewRegistry(cfg, upstream.Options{LookupEnv: corpusEnv})
			if err != nil {
				t.Fatalf("registry: %v", err)
			}
			srv := New(cfg, reg, Options{})
			gw := serveOnLoopback(t, srv)
			client := openai.NewClient(option.WithBaseURL(gw+"/v1"), option.WithAPIKey(cfg.General.MasterKey), option.WithMaxRetries(0))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			page, err := client.Models.List(ctx)
			if err != nil {
				t.Fatalf("models: %v", err)
			}
			var got []string
			for _, m := range page.Data {
				got = append(got, m.ID)
			}
			// Every model_name but the catch-all "*", then the visible
			// model_group_alias names that are not model names already.
			want := slices.DeleteFunc(cfg.Models(), func(m string) bool { return m == "*" })
			for _, a := range reg.Aliases() {
				if !a.Hidden && !slices.Contains(want, a.Name) {
					want = append(want, a.Name)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("GET /v1/models = %v\nwant %v", got, want)
			}
		})
	}
}
