package upstream

// Minimal zero-allocation JSON lookups for the stream translator: find a
// top-level member of an object and hand back its raw value. Values are
// not decoded; string literals are validated so they can be copied into
// OpenAI chunks verbatim (a valid JSON string literal means the same in
// both APIs).

func jWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// jValue returns the index just past the value at b[i], checking the
// escapes of its strings.
func jValue(b []byte, i int) (int, bool) { return skipValue(b, i, true) }

// jGet returns the raw value of obj's top-level member key (nil when
// absent or obj is not an object).
func jGet(obj []byte, key string) []byte {
	v, _ := jGet2(obj, key, "")
	return v
}

// jGet2 is jGet for two keys in one pass (key2 "" = none).
func jGet2(obj []byte, key, key2 string) (v1, v2 []byte) {
	i := jWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, nil
	}
	i++
	for {
		i = jWS(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return v1, v2
		}
		ke, ok := SkipStrictString(obj, i)
		if !ok {
			return nil, nil
		}
		k := obj[i+1 : ke-1]
		i = jWS(obj, ke)
		if i >= len(obj) || obj[i] != ':' {
			return nil, nil
		}
		i = jWS(obj, i+1)
		ve, ok := jValue(obj, i)
		if !ok {
			return nil, nil
		}
		switch {
		case v1 == nil && string(k) == key:
			v1 = obj[i:ve]
			if key2 == "" || v2 != nil {
				return v1, v2
			}
		case v2 == nil && key2 != "" && string(k) == key2:
			v2 = obj[i:ve]
			if v1 != nil {
				return v1, v2
			}
		}
		i = jWS(obj, ve)
		if i >= len(obj) || obj[i] != ',' {
			return v1, v2
		}
		i++
	}
}

// jStr returns the content of a string member without its quotes (raw,
// escapes kept); nil when absent or not a string.
func jStr(obj []byte, key string) []byte {
	v := jGet(obj, key)
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// strVal returns a raw string value without its quotes (nil if not a
// string); litVal returns it with them.
func strVal(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

func litVal(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v
}

// jLit returns a string member as its literal, quotes included; nil when
// absent or not a string.
func jLit(obj []byte, key string) []byte {
	v := jGet(obj, key)
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v
}

// jInt returns an integer member (-1 when absent or not an integer).
func jInt(obj []byte, key string) int {
	v := jGet(obj, key)
	if len(v) == 0 || len(v) > 18 {
		return -1
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
