package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/llmedge/llmedge/config"
	"github.com/llmedge/llmedge/keys"
)

// openKeys opens the virtual-key database: general_settings.database_url,
// or the embedded SQLite file when it is unset. A gateway without a
// master key has no management API and so no database (nil).
func openKeys(cfg *config.Config, log *slog.Logger) (*keys.Cache, error) {
	url := cfg.General.DatabaseURL
	if cfg.General.MasterKey == "" {
		if url != "" {
			log.Warn("general_settings.database_url is set but master_key is not: virtual keys need the master key to be managed; the database is not opened")
		}
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := keys.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	kc, err := keys.NewCache(ctx, st, log)
	if err != nil {
		_ = st.Close()
		return nil, errors.New("reading keys: " + err.Error())
	}
	if st.Engine() == "sqlite" {
		log.Info("key database: embedded SQLite", "path", st.Where())
	} else {
		log.Info("key database: PostgreSQL", "at", st.Where())
	}
	return kc, nil
}

// closeKeys writes the spend not yet written and closes the database.
func closeKeys(kc *keys.Cache, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kc.Close(ctx); err != nil {
		log.Error("writing spend at shutdown failed: it is lost", "err", err.Error())
	}
	_ = kc.Store().Close()
}
