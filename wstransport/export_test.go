package wstransport

// InlineCounts reports how many batches were written inline and how many of
// them left a rest for the writer goroutine.
func InlineCounts() (writes, rests uint64) {
	return counters.inlineWrites.Load(), counters.inlineRests.Load()
}
