package config

import "errors"

// TEMPORARY until the loader lands.
type Options struct {
	Getenv  func(string) (string, bool)
	BaseDir string
}

func Load(path string, opts Options) (*Config, error) { return nil, errors.New("not yet") }
func Parse(data []byte, opts Options) (*Config, error) { return nil, errors.New("not yet") }
