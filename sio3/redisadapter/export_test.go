package redisadapter

// CachedHandshakes is the number of encoded handshakes a namespace keeps
// for fetchSockets answers.
func CachedHandshakes(a *Adapter) int { return a.handshakes.Len() }
