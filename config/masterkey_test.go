package config

import "testing"

// LiteLLM takes the master key from LITELLM_MASTER_KEY when the file
// sets none; the file's own key wins.
func TestMasterKeyFromEnvironment(t *testing.T) {
	cfg := mustParse(t, "model_list: []\n", map[string]string{"LITELLM_MASTER_KEY": " sk-from-env "})
	if cfg.General.MasterKey != "sk-from-env" || !cfg.MasterKeyFromEnv {
		t.Fatalf("master key %q (from env %v), want sk-from-env from LITELLM_MASTER_KEY", cfg.General.MasterKey, cfg.MasterKeyFromEnv)
	}
	cfg = mustParse(t, "general_settings: {master_key: sk-file}\n", map[string]string{"LITELLM_MASTER_KEY": "sk-from-env"})
	if cfg.General.MasterKey != "sk-file" || cfg.MasterKeyFromEnv {
		t.Fatalf("master key %q (from env %v), want the file's", cfg.General.MasterKey, cfg.MasterKeyFromEnv)
	}
	cfg = mustParse(t, "model_list: []\n", map[string]string{"LITELLM_MASTER_KEY": "  "})
	if cfg.General.MasterKey != "" {
		t.Fatalf("blank LITELLM_MASTER_KEY gave master key %q", cfg.General.MasterKey)
	}
}
