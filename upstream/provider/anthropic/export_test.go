package anthropic

// MustJSON is mustJSON for the tests that build deployments through
// upstream (package anthropic_test).
var MustJSON = mustJSON
