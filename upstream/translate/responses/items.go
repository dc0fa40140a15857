package responses

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/bytedance/sonic"
)

// Input items of a response (GET /v1/responses/{id}/input_items): the
// request's input as OpenAI lists it, each item with an id and a type,
// a message's string content as one input_text (output_text for the
// assistant) part.

// InputItems turns a request's input (a string or an item array) into
// the item list kept with a stored response; ids are made from respID
// for items the client sent without one.
func InputItems(input json.RawMessage, respID string) ([]byte, error) {
	var items []map[string]any
	if len(input) > 0 && input[0] == '"' {
		var s string
		if err := sonic.Unmarshal(input, &s); err != nil {
			return nil, err
		}
		items = []map[string]any{{"role": "user", "content": s}}
	} else if err := sonic.Unmarshal(input, &items); err != nil {
		return nil, err
	}
	for i, it := range items {
		if it["type"] == nil {
			it["type"] = "message"
		}
		if it["type"] == "message" {
			if s, ok := it["content"].(string); ok {
				part := "input_text"
				if it["role"] == "assistant" {
					part = "output_text"
				}
				it["content"] = []any{map[string]any{"type": part, "text": s}}
			}
			if it["status"] == nil {
				it["status"] = "completed"
			}
		}
		if id, _ := it["id"].(string); id == "" {
			it["id"] = fmt.Sprintf("%s_in%d", itemIDPrefix(it["type"]), i)
			if respID != "" {
				it["id"] = fmt.Sprintf("%s_%s_in%d", itemIDPrefix(it["type"]), trimRespPrefix(respID), i)
			}
		}
	}
	return sonic.Marshal(items)
}

func itemIDPrefix(typ any) string {
	switch typ {
	case "message":
		return "msg"
	case "function_call":
		return "fc"
	case "function_call_output":
		return "fco"
	}
	return "item"
}

func trimRespPrefix(id string) string {
	if len(id) > 5 && id[:5] == "resp_" {
		return id[5:]
	}
	return id
}

// ItemListError is a bad query parameter of an input_items list.
type ItemListError struct{ Param, Msg string }

func (e *ItemListError) Error() string { return e.Msg }

// AppendItemList appends the list object OpenAI answers for input_items
// over the stored items, with its query parameters: limit (1-100,
// default 20), order (asc or desc, default desc: newest first) and
// after (an item id: the page starts after it).
func AppendItemList(dst, stored []byte, q url.Values) ([]byte, error) {
	var items []json.RawMessage
	if len(stored) > 0 {
		if err := sonic.Unmarshal(stored, &items); err != nil {
			return nil, err
		}
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, &ItemListError{"limit", "limit must be an integer from 1 to 100"}
		}
		limit = n
	}
	switch q.Get("order") {
	case "", "desc":
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	case "asc":
	default:
		return nil, &ItemListError{"order", "order must be asc or desc"}
	}
	if after := q.Get("after"); after != "" {
		for i, it := range items {
			var id struct {
				ID string `json:"id"`
			}
			_ = sonic.Unmarshal(it, &id)
			if id.ID == after {
				items = items[i+1:]
				break
			}
		}
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	dst = append(dst, `{"object":"list","data":[`...)
	var first, last string
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, it...)
		var id struct {
			ID string `json:"id"`
		}
		_ = sonic.Unmarshal(it, &id)
		if i == 0 {
			first = id.ID
		}
		last = id.ID
	}
	dst = append(dst, `],"first_id":`...)
	dst = appendNullable(dst, first)
	dst = append(dst, `,"last_id":`...)
	dst = appendNullable(dst, last)
	dst = append(dst, `,"has_more":`...)
	dst = strconv.AppendBool(dst, more)
	return append(dst, '}'), nil
}

func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	b, _ := sonic.Marshal(s)
	return append(dst, b...)
}
