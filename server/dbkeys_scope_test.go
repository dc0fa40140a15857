package server

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/llmedge/llmedge/keys/keystest"
)

// TestModelsListScopedForDatabaseKeys: GET /v1/models lists only the
// models a database key may use, as it does for a config key; a key
// with no model list sees them all.
func TestModelsListScopedForDatabaseKeys(t *testing.T) {
	up := newFakeOpenAI(t)
	kc := openCache(t, keystest.URL(t, "sqlite"))
	t.Cleanup(func() { closeCache(t, kc) })
	g := startKeyGateway(t, pricedConfig(up.base()), kc)
	list := func(key string) []string {
		t.Helper()
		req, _ := http.NewRequest("GET", g.url()+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out struct{ Data []struct{ ID string } }
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var ids []string
		for _, m := range out.Data {
			ids = append(ids, m.ID)
		}
		return ids
	}
	_, out := admin(t, g, "POST", "/key/generate", map[string]any{"models": []string{"m"}})
	scoped, _ := out["key"].(string)
	_, out = admin(t, g, "POST", "/key/generate", map[string]any{})
	open, _ := out["key"].(string)
	if got := list(scoped); !slices.Equal(got, []string{"m"}) {
		t.Errorf("scoped key lists %q, want [m]", got)
	}
	if got := list(open); !slices.Equal(got, []string{"m", "other"}) {
		t.Errorf("unscoped key lists %q, want [m other]", got)
	}
}
