// Package bench (temporary stub; replaced on merge).
package bench

import "io"

func Main(args []string, stdout, stderr io.Writer) int { return 2 }
