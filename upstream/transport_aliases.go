package upstream

import "github.com/llmedge/llmedge/upstream/transport"

// Names server/ and main use, kept here while their home is the
// transport package.

// Cancel is shared by everything one client request does upstream
// (transport.Cancel).
type Cancel = transport.Cancel

// ErrCanceled is returned by a call whose Cancel was called (the client
// went away).
var ErrCanceled = transport.ErrCanceled

// PoolSettings size the per-host connection pools (transport.PoolSettings).
type PoolSettings = transport.PoolSettings

// Observed is what a call measured about itself (transport.Observed);
// Response embeds it.
type Observed = transport.Observed
