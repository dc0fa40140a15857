package mock

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"strconv"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/provider"
)

// mockEmbeddingDimensions is the vector size of a mock/ embedding when
// the request sets no "dimensions": text-embedding-3-small's, so a
// vector store sized for OpenAI works against the mock unchanged.
const (
	mockEmbeddingDimensions    = 1536
	mockEmbeddingMaxDimensions = 8192
	mockEmbeddingMaxInputs     = 2048 // OpenAI's documented limit
)

// mockEmbeddings answers POST /v1/embeddings in-process with
// deterministic unit vectors: the same input always gets the same
// vector, different inputs (almost surely) different ones. It parses
// the body fully (encoding/json): mock/ is for demos and tests, not the
// hot path.
func mockEmbeddings(req *provider.Request, out *provider.Answer) *provider.Error {
	var body struct {
		Input          json.RawMessage `json:"input"`
		EncodingFormat *string         `json:"encoding_format"`
		Dimensions     *int            `json:"dimensions"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return badRequest("input", "request body is not a valid embeddings request: "+err.Error())
	}
	inputs, perr := embeddingInputs(body.Input)
	if perr != nil {
		return perr
	}
	base64Format := false
	if body.EncodingFormat != nil {
		switch *body.EncodingFormat {
		case "float":
		case "base64":
			base64Format = true
		default:
			return badRequest("encoding_format", "encoding_format must be \"float\" or \"base64\"")
		}
	}
	dims := mockEmbeddingDimensions
	if body.Dimensions != nil {
		dims = *body.Dimensions
		if dims < 1 || dims > mockEmbeddingMaxDimensions {
			return badRequest("dimensions", "dimensions must be between 1 and "+strconv.Itoa(mockEmbeddingMaxDimensions))
		}
	}
	vec := make([]float32, dims)
	var raw []byte
	b := out.Body[:0]
	b = append(b, `{"object":"list","data":[`...)
	tokens := 0
	for i, in := range inputs {
		if i > 0 {
			b = append(b, ',')
		}
		tokens += in.tokens
		mockVector(vec, in.key)
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		if base64Format {
			raw = raw[:0]
			for _, f := range vec {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, f := range vec {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = jsonx.AppendString(b, req.Model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, "}}"...)
	out.Body = b
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
	out.Usage = provider.Usage{PromptTokens: tokens, Reported: true}
	return nil
}

// embeddingInput is one input to embed: key seeds its vector; tokens
// approximates its token count.
type embeddingInput struct {
	key    []byte
	tokens int
}

// embeddingInputs accepts OpenAI's four input shapes: a string, an
// array of strings, an array of token ids, an array of token arrays.
func embeddingInputs(raw json.RawMessage) ([]embeddingInput, *provider.Error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badRequest("input", "missing required field: input")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, badRequest("input", "input must not be an empty string")
		}
		return []embeddingInput{textInput(one)}, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, badRequest("input", "input must be a string, an array of strings, an array of token ids or an array of token arrays")
	}
	if len(list) == 0 {
		return nil, badRequest("input", "input must not be empty")
	}
	if len(list) > mockEmbeddingMaxInputs {
		return nil, badRequest("input", "input must have at most "+strconv.Itoa(mockEmbeddingMaxInputs)+" items")
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return []embeddingInput{tokenInput(ids)}, nil
	}
	out := make([]embeddingInput, 0, len(list))
	for i, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			if s == "" {
				return nil, badRequest("input", "input["+strconv.Itoa(i)+"] must not be an empty string")
			}
			out = append(out, textInput(s))
			continue
		}
		var toks []int64
		if json.Unmarshal(item, &toks) != nil || len(toks) == 0 {
			return nil, badRequest("input", "input["+strconv.Itoa(i)+"] must be a string or a non-empty array of token ids")
		}
		out = append(out, tokenInput(toks))
	}
	return out, nil
}

func textInput(s string) embeddingInput {
	return embeddingInput{key: append([]byte("t:"), s...), tokens: len(s)/4 + 1}
}

func tokenInput(ids []int64) embeddingInput {
	key := []byte("i:")
	for _, id := range ids {
		key = strconv.AppendInt(append(key, ','), id, 10)
	}
	return embeddingInput{key: key, tokens: len(ids)}
}

// mockVector fills v with a unit vector derived from key (splitmix64
// seeded with key's FNV-1a hash).
func mockVector(v []float32, key []byte) {
	h := fnv.New64a()
	_, _ = h.Write(key)
	x := h.Sum64()
	var norm float64
	for i := range v {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		f := float64(z>>11)/(1<<53)*2 - 1
		v[i] = float32(f)
		norm += f * f
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		return
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
}

func badRequest(param, msg string) *provider.Error {
	return &provider.Error{Status: 400, Type: "invalid_request_error", Param: param, Message: msg}
}
