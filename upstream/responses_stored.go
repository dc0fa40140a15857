package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/llmedge/llmedge/internal/jsonx"
	"github.com/llmedge/llmedge/upstream/respstore"
	"github.com/llmedge/llmedge/upstream/translate/responses"
)

// storedResponse serves the by-id calls on a response llmedge made by
// translation (GET, DELETE, its input_items, cancel); handled is false
// when the store does not have id (the call then goes to a deployment
// with a Responses API, if any).
func (reg *Registry) storedResponse(req *ChatRequest, out *Response) (handled bool, err *Error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	id := string(req.ResponseID)
	st := reg.respStore()
	// A response is its caller's: another caller's id is not found, as
	// for one never stored; the master key reaches every caller's.
	owner := req.Caller
	if req.Admin {
		owner = respstore.AnyOwner
	}
	if req.Route == RouteResponseDelete {
		ok, err := st.Delete(ctx, id, owner)
		if err != nil || !ok {
			return false, nil
		}
		out.Body = append(out.Body[:0], `{"id":`...)
		out.Body = jsonx.AppendString(out.Body, id)
		out.Body = append(out.Body, `,"object":"response","deleted":true}`...)
		jsonAnswer(out)
		return true, nil
	}
	entry, ok, e := st.Get(ctx, id, owner)
	if e != nil || !ok {
		return false, nil
	}
	switch req.Route {
	case RouteResponseGet:
		out.Body = append(out.Body[:0], entry.Response...)
	case RouteResponseInputItems:
		return true, inputItems(req, entry, out)
	case RouteResponseCancel:
		// OpenAI cancels only background responses; a translated one
		// is never one, and is complete by the time it can be named.
		return true, &Error{Status: 400, Type: "invalid_request_error", Param: "response_id", Code: "response_not_cancellable",
			Message: fmt.Sprintf("Response with id '%s' cannot be cancelled: only responses created with background=true can be cancelled, and it is completed.", id)}
	default:
		return false, nil
	}
	jsonAnswer(out)
	return true, nil
}

// inputItems answers GET /v1/responses/{id}/input_items from a stored
// entry, with OpenAI's limit, order and after parameters.
func inputItems(req *ChatRequest, entry *respstore.Entry, out *Response) *Error {
	q, _ := url.ParseQuery(string(req.Query))
	body, err := responses.AppendItemList(out.Body[:0], entry.Input, q)
	if err != nil {
		var le *responses.ItemListError
		if errors.As(err, &le) {
			return &Error{Status: 400, Type: "invalid_request_error", Param: le.Param, Code: "invalid_value", Message: le.Msg}
		}
		return &Error{Status: 500, Type: "api_error", Message: "the stored input items do not parse"}
	}
	out.Body = body
	jsonAnswer(out)
	return nil
}

func jsonAnswer(out *Response) {
	out.StatusCode = 200
	out.ContentType = append(out.ContentType[:0], "application/json"...)
}

// responseNotFound is the 404 for a by-id call on a deployment without
// a Responses API for an id the gateway does not hold.
func responseNotFound(req *ChatRequest) *Error {
	return &Error{Status: 404, Type: "invalid_request_error", Param: "response_id", Code: "response_not_found",
		Message: fmt.Sprintf("Response with id '%s' not found.", req.ResponseID)}
}
