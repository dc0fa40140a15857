package upstream

import (
	"time"
)

// slowAnswerTTFB is the average time to first byte from which a
// deployment's calls wait for the answer without a read buffer: an LLM
// call waits seconds for its first byte, and holding the 8 KiB header
// reader all that time is what 10,000 calls in flight would pay (80 MB);
// one more read syscall per call is nothing beside such a wait. An
// upstream that answers faster (a local server, a cache, the bench's
// fake) keeps the single read.
const slowAnswerTTFB = 5 * time.Millisecond

// slowAnswers reports whether d's calls wait bare: its average time to
// first byte is past slowAnswerTTFB, or not known yet.
func (d *Deployment) slowAnswers() bool {
	l := d.health.latency.Load()
	return l == 0 || l > int64(slowAnswerTTFB)
}

// configured). Call it on shutdown.
func (r *Registry) Close() error { return r.net.Cookies.Save() }
