package responses

import "github.com/bytedance/sonic"

// customInput is the string a custom tool call carries: the "input"
// member of the function arguments it was asked for as (args holds the
// arguments' escaped content); the arguments themselves when they are
// not that object.
func customInput(args []byte) string {
	var s string
	if sonic.Unmarshal(appendQuoted(nil, args), &s) != nil {
		return string(args)
	}
	var o map[string]any
	if sonic.UnmarshalString(s, &o) == nil {
		if v, ok := o[customArg].(string); ok {
			return v
		}
	}
	return s
}
