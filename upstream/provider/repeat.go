package provider

import (
	"fmt"
	"hash/maphash"
)

// The repeated-chunk guard: a model stuck in a loop streams the same
// text chunk again and again until max_tokens, billed all the way.
// LiteLLM ends such a stream after REPEATED_STREAMING_CHUNK_LIMIT
// identical chunks (default 100); llmedge does the same, with LiteLLM's
// meaning of "the same chunk": consecutive events whose text (a chat
// chunk's choices[0].delta.content, an Anthropic text_delta, a
// Responses output_text.delta) is equal and longer than 2 characters.
// An event with shorter text restarts the count; an event without text
// (usage, pings, tool arguments, reasoning) leaves it as it is.

// DefaultRepeatLimit is LiteLLM's REPEATED_STREAMING_CHUNK_LIMIT
// default: high, so that a legitimately repetitive answer (a table of
// "|---|" cells) is not cut.
const DefaultRepeatLimit = 100

// TextReporter is a Translator that says which text the event it last
// returned from Next carried: the JSON string literal (quotes
// included) or nil. The relay driver feeds it to the guard; a
// Translator that is not one is not guarded.
type TextReporter interface {
	LastText() []byte
}

// RepeatedChunkError ends a stream whose upstream repeated one text
// chunk Limit times in a row.
type RepeatedChunkError struct{ Limit int }

func (e *RepeatedChunkError) Error() string {
	return fmt.Sprintf("the model repeated the same chunk %d times in a row (litellm_settings.REPEATED_STREAMING_CHUNK_LIMIT)", e.Limit)
}

// repeatGuard counts the text chunks equal to the previous one. The
// zero value is off; it costs, per event with text, the text's hash.
//
// It keeps the previous text's hash, not the text: with many streams
// open, a copy of it in a buffer of its own was a cache miss to compare
// and another to write, per event (0.2 us of the relay's ~3 us per
// event with 1,000 streams). Two different texts hash alike once in
// 2^64 (maphash), and ending a stream takes limit such matches in a
// row.
type repeatGuard struct {
	limit int
	n     int
	last  uint64
}

// repeatSeed keys the texts' hashes (maphash: a random seed per process).
var repeatSeed = maphash.MakeSeed()

func (g *repeatGuard) reset(limit int) {
	g.limit, g.n, g.last = limit, 0, 0
}

// see takes the text of one event (a JSON string literal, or nil) and
// reports whether the limit is reached.
func (g *repeatGuard) see(lit []byte) bool {
	if lit == nil {
		return false
	}
	if h := maphash.Bytes(repeatSeed, lit); h != g.last || g.n == 0 {
		g.last, g.n = h, 1
		return false
	}
	if chars(lit) <= 2 {
		g.n = 1
		return false
	}
	g.n++
	return g.n >= g.limit
}

// chars counts the characters of a JSON string literal's content, as
// Python's len counts them: an escape is one, a UTF-8 sequence one. It
// stops counting at 3, all the guard asks.
func chars(lit []byte) int {
	if len(lit) < 2 {
		return 0
	}
	n := 0
	for i := 1; i < len(lit)-1 && n < 3; i++ {
		c := lit[i]
		switch {
		case c == '\\':
			if i+1 < len(lit)-1 && lit[i+1] == 'u' {
				i += 5
			} else {
				i++
			}
		case c&0xC0 == 0x80:
			continue // a UTF-8 continuation byte
		}
		n++
	}
	return n
}
