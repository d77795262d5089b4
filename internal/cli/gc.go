package cli

import (
	"math"
	"os"
	"runtime/debug"
)

// longLivedGC restores the runtime's default collection for a command that
// keeps running (a stream), so it does not hold shortLivedHeap for hours.
func longLivedGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}
