package upstream

import "github.com/llmedge/llmedge/sse"

// AppendJSONString appends s as a JSON string literal (sse's escaper:
// invalid UTF-8, such as an upstream error text cut mid-character,
// becomes U+FFFD so the document stays valid JSON).
func AppendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	return sse.AppendJSONString(dst, s)
}
