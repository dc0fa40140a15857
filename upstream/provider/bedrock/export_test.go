package bedrock

// AppendESMessage is appendESMessage for the tests that build
// deployments through upstream (package bedrock_test).
var AppendESMessage = appendESMessage
