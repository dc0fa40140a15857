package pricing

import (
	"testing"

	"github.com/llmedge/llmedge/config"
)

// A price in litellm_params is acted on, so the config loader must not
// report it as an ignored key.
func TestPriceKeysAreKnownParams(t *testing.T) {
	for _, k := range Keys {
		if !config.ParamActedOn(k.Name) {
			t.Errorf("litellm_params.%s is read as a price but config reports it as ignored (config/params.go)", k.Name)
		}
	}
}
