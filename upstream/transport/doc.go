// Package transport moves bytes between llmedge and a provider host: one
// connection pool per host (pool.go), dialing and TLS off the caller's
// stack (dial.go), the exchange of one request and its answer with its
// deadlines and the client's cancellation (exchange.go, cancel.go), the
// response body read in place with chunked framing removed (body.go),
// gzip decoding (encoding.go), the probe that closes idle connections
// the upstream closed (idleprobe*.go), draining a finished stream
// (drain.go), redirects and the cookie store (session.go, cookies.go),
// and the kind of a transport failure told to clients (failure.go).
//
// Dial policy: every connection of a pool is opened by the dialer the
// pool's PoolSettings give it (PoolSettings.Dial, else dialer.dial); a
// deployment gets its own pool when its settings differ
// (Pools.GetWith). Egress through forward proxies, custom CAs and mTLS
// plug in there, per deployment, as PoolSettings fields that the dialer
// honours and PoolSettings.Key tells apart.
//
// It knows nothing of providers, deployments, routing or llmedge's HTTP
// server: it is given a pool, a request and deadlines, and hands back
// headers, body bytes and errors. It must not build client-facing error
// bodies or decide retries; its errors (ErrTimeout, ErrCanceled,
// ErrBodyTooLarge, *RedirectError, FailureKind) are mapped to clients'
// errors by upstream.
package transport
