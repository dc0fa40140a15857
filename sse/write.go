package sse

// Done is the OpenAI end-of-stream event.
var Done = []byte("data: [DONE]\n\n")

// AppendData appends a data-only event: "data: " + data + "\n\n". Each line
// of data gets its own "data: " line, so a Scanner returns data unchanged.
// SSE cannot carry a bare '\r' inside data: "\r\n" and "\r" are line breaks
// like "\n" and come back from a Scanner as '\n'.
func AppendData(dst, data []byte) []byte {
	dst = appendLines(dst, "data: ", data)
	return append(dst, '\n')
}

// AppendEvent appends "event: name\n" followed by the data lines and the
// terminating blank line. An empty name omits the event line (the client
// then sees the default "message" type). name is cut at its first line break,
// which could not be represented.
func AppendEvent(dst, name, data []byte) []byte {
	if len(name) > 0 {
		if i := indexLineEnd(name); i >= 0 {
			name = name[:i]
		}
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	return AppendData(dst, data)
}

// AppendComment appends a comment block ": text\n\n" (one ": " line per line
// of text), e.g. a keep-alive that clients ignore.
func AppendComment(dst, text []byte) []byte {
	dst = appendLines(dst, ": ", text)
	return append(dst, '\n')
}

// appendLines writes prefix+line+"\n" for every line of b (split at "\r\n",
// "\r" or "\n"); an empty b is one empty line.
func appendLines(dst []byte, prefix string, b []byte) []byte {
	for {
		dst = append(dst, prefix...)
		i := indexLineEnd(b)
		if i < 0 {
			dst = append(dst, b...)
			return append(dst, '\n')
		}
		dst = append(dst, b[:i]...)
		dst = append(dst, '\n')
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
}
