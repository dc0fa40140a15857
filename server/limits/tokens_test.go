package limits

import "testing"

func TestTokenEstimate(t *testing.T) {
	for _, c := range []struct {
		bodyLen   int
		maxOut, n int64
		noOutput  bool
		want      int64
	}{
		{400, 10, 0, false, 100 + 10},
		{400, 10, 3, false, 100 + 30},
		{400, 0, 0, false, 100 + defaultOutputTokens},
		{400, 0, 2, false, 100 + 2*defaultOutputTokens},
		{400, 900, 0, true, 100}, // embeddings: the input only
		{400, MaxEstimate, 3, false, MaxEstimate},
	} {
		if got := EstimateTokens(c.bodyLen, c.maxOut, c.n, c.noOutput); got != c.want {
			t.Errorf("%+v: estimate %d, want %d", c, got, c.want)
		}
	}
}
