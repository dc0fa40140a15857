package cache

import "time"

// nowFunc is the clock for replay timestamps.
var nowFunc = time.Now
