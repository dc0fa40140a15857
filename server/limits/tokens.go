package limits

// Token reservations. A tpm limit is checked at admission but tokens
// are only known once the answer is complete: counting them then lets
// every request that arrives while others are in flight through (200
// concurrent requests against tpm 1000 spent 2,900 tokens). So each
// admission reserves an estimate of its tokens in its window, and the
// release settles it with the upstream's usage: the unused part is
// given back, a call that failed (or reported no usage) gives it all
// back, and an answer longer than its estimate adds the difference.
//
// The window admits while its count (spent + reserved) is below tpm,
// so it spends at most tpm + one request's estimate, as long as answers
// stay within their estimate (always when the client set a maximum
// output, which the upstream enforces).

const (
	// bytesPerToken estimates prompt tokens from the body's size:
	// OpenAI's rule of thumb of ~4 characters per token. JSON syntax and
	// base64 images make it an overestimate, which only holds more of
	// the window until the answer settles.
	bytesPerToken = 4
	// defaultOutputTokens is reserved for the answer of a request that
	// sets none of max_tokens, max_completion_tokens, max_output_tokens.
	defaultOutputTokens = 1024
	// MaxEstimate caps one reservation (max_tokens may be any
	// integer); a scanner may cap the counts it reads at it.
	MaxEstimate = 1 << 40
)

// EstimateTokens is the reservation of a request whose body is
// bodyLen bytes: its prompt estimate, plus its output cap maxOut (or
// the default when 0) times n, unless the route generates nothing
// (noOutput).
func EstimateTokens(bodyLen int, maxOut, n int64, noOutput bool) int64 {
	est := int64(bodyLen) / bytesPerToken
	if noOutput {
		return est
	}
	out := maxOut
	if out <= 0 {
		out = defaultOutputTokens
	}
	n = max(n, 1)
	if out > MaxEstimate/n {
		return MaxEstimate
	}
	return min(est+out*n, MaxEstimate)
}

// settle is what the release of a adds to the token count of window m
// for tokens spent: the difference from the reservation when m is the
// window it was reserved in; in a later window (the reservation went
// with its own) only what went beyond the estimate.
func (a *Admission) settle(m, tokens int64) int64 {
	if m == a.minute {
		return tokens - a.reserve
	}
	return max(tokens-a.reserve, 0)
}
