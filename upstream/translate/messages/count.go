package messages

import "encoding/json"

// Token estimate for /v1/messages/count_tokens on deployments without
// a counting endpoint. No tokenizer of the target model ships offline
// for every provider, so this is an estimate, documented as such: about
// four bytes of text per token (the rule of thumb OpenAI and Anthropic
// both give for English and code), a few tokens of framing per message
// and tool, and a flat cost per image.
const (
	bytesPerToken   = 4
	perMessage      = 4
	perTool         = 8
	perImage        = 1600 // an image at Anthropic's ~1.15 megapixel cap
	perDocumentPage = 1500
)

// EstimateTokens estimates the input tokens of r.
func (r *Request) EstimateTokens() int {
	n := 0
	text := 0
	if sys, err := systemText(r.System); err == nil {
		text += len(sys)
	}
	for i := range r.Messages {
		n += perMessage
		blocks, err := blocksOf(r.Messages[i].Content, "")
		if err != nil {
			continue
		}
		for j := range blocks {
			b := &blocks[j]
			switch b.Type {
			case "text":
				text += len(b.Text)
			case "thinking":
				text += len(b.Thinking)
			case "tool_use":
				text += len(b.Name) + len(b.Input)
			case "tool_result":
				text += len(b.Content)
			case "image":
				n += perImage
			case "document":
				if b.Source != nil && b.Source.Type == "text" {
					text += len(b.Source.Data)
				} else {
					n += perDocumentPage
				}
			}
		}
	}
	for _, t := range r.Tools {
		n += perTool
		text += len(t.Name) + len(t.Description) + len(t.InputSchema)
	}
	return n + (text+bytesPerToken-1)/bytesPerToken
}

// AppendCount appends count_tokens' answer.
func AppendCount(dst []byte, tokens int) []byte {
	b, _ := json.Marshal(map[string]int{"input_tokens": tokens})
	return append(dst, b...)
}
