package server

import (
	"context"
	"errors"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// input_items and cancel of a response llmedge made by translation
// (anthropic/ here), with openai-go's Responses client, as OpenAI
// documents them.

func TestTranslatedResponseInputItemsAndCancel(t *testing.T) {
	an := newFakeOpenAI(t)
	an.setHandler(anthropicJSON(`[{"type":"text","text":"It is sunny."}]`, "end_turn", 11, 5, 0, 0))
	gw := startGateway(t, testConfig(anthropicDep(0, "claude", an)))
	client := sdk(gw, testMasterKey)
	ctx := context.Background()

	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			{OfMessage: &responses.EasyInputMessageParam{Role: "developer", Content: responses.EasyInputMessageContentUnionParam{OfString: openai.String("be brief")}}},
			{OfMessage: &responses.EasyInputMessageParam{Role: "user", Content: responses.EasyInputMessageContentUnionParam{OfString: openai.String("weather?")}}},
			{OfFunctionCall: &responses.ResponseFunctionToolCallParam{CallID: "toolu_01", Name: "weather", Arguments: `{"city":"Paris"}`}},
			{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{CallID: openai.String("toolu_01"),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String("sunny, 24C")}}},
		}}})
	if err != nil {
		t.Fatal(err)
	}

	// Newest first by default, OpenAI's item shapes.
	page, err := client.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 4 || page.HasMore {
		t.Fatalf("items %d has_more %v: %s", len(page.Data), page.HasMore, page.RawJSON())
	}
	out, call, user := page.Data[0], page.Data[1], page.Data[2]
	if out.Type != "function_call_output" || out.CallID != "toolu_01" || out.Output.OfString != "sunny, 24C" {
		t.Fatalf("output item %s", out.RawJSON())
	}
	if call.Type != "function_call" || call.Name != "weather" || call.Arguments.OfString != `{"city":"Paris"}` || call.ID == "" {
		t.Fatalf("call item %s", call.RawJSON())
	}
	msg := user.AsMessage()
	if user.Type != "message" || msg.Role != "user" || len(msg.Content) != 1 || msg.Content[0].Type != "input_text" || msg.Content[0].Text != "weather?" || user.ID == "" {
		t.Fatalf("message item %s", user.RawJSON())
	}
	if page.Data[3].Role != "developer" {
		t.Fatalf("oldest item %s", page.Data[3].RawJSON())
	}

	// Pages: oldest first, two at a time, then after the last id.
	page, err = client.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{Order: "asc", Limit: openai.Int(2)})
	if err != nil || len(page.Data) != 2 || !page.HasMore || page.Data[0].Role != "developer" {
		t.Fatalf("first page: %v %s", err, page.RawJSON())
	}
	page, err = page.GetNextPage()
	if err != nil || page == nil || len(page.Data) != 2 || page.HasMore || page.Data[1].Type != "function_call_output" {
		t.Fatalf("next page: %v %+v", err, page)
	}

	// A string input is one user message.
	an.setHandler(anthropicJSON(`[{"type":"text","text":"Hi."}]`, "end_turn", 3, 1, 0, 0))
	short, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	page, err = client.Responses.InputItems.List(ctx, short.ID, responses.InputItemListParams{})
	if err != nil || len(page.Data) != 1 || page.Data[0].AsMessage().Content[0].Text != "hello" {
		t.Fatalf("string input: %v %s", err, page.RawJSON())
	}

	// Cancel: translated responses are never background ones.
	var apiErr *openai.Error
	if _, err := client.Responses.Cancel(ctx, resp.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "response_not_cancellable" {
		t.Fatalf("cancel: %v", err)
	}
	// Unknown ids are 404s on a deployment without a Responses API.
	if _, err := client.Responses.InputItems.List(ctx, "resp_unknown", responses.InputItemListParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := client.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{Limit: openai.Int(500)}); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "limit" {
		t.Fatalf("limit 500: %v", err)
	}
}
