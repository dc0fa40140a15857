package jsonx

// Zero-allocation lookups for the stream translators: find a top-level
// member of an object and hand back its raw value. Values are not
// decoded; string literals are validated so they can be copied into
// OpenAI chunks verbatim (a valid JSON string literal means the same in
// every API llmedge translates).

// Get returns the raw value of obj's top-level member key (nil when
// absent or obj is not an object).
func Get(obj []byte, key string) []byte {
	v, _ := Get2(obj, key, "")
	return v
}

// Get2 is Get for two keys in one pass (key2 "" = none).
func Get2(obj []byte, key, key2 string) (v1, v2 []byte) {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, nil
	}
	i++
	for {
		i = SkipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return v1, v2
		}
		ke, ok := SkipStrictString(obj, i)
		if !ok {
			return nil, nil
		}
		k := obj[i+1 : ke-1]
		i = SkipSpace(obj, ke)
		if i >= len(obj) || obj[i] != ':' {
			return nil, nil
		}
		i = SkipSpace(obj, i+1)
		ve, ok := SkipStrictValue(obj, i)
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
		i = SkipSpace(obj, ve)
		if i >= len(obj) || obj[i] != ',' {
			return v1, v2
		}
		i++
	}
}

// Str returns the content of a string member without its quotes (raw,
// escapes kept); nil when absent or not a string.
func Str(obj []byte, key string) []byte { return StrVal(Get(obj, key)) }

// Lit returns a string member as its literal, quotes included; nil when
// absent or not a string.
func Lit(obj []byte, key string) []byte { return LitVal(Get(obj, key)) }

// StrVal returns a raw string value without its quotes (nil if not a
// string).
func StrVal(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// LitVal returns a raw string value with its quotes (nil if not a
// string).
func LitVal(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v
}

// Int returns a non-negative integer member (-1 when absent or not
// one).
func Int(obj []byte, key string) int {
	v := Get(obj, key)
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
