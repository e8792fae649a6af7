//go:build !(linux || darwin)

package lb

// closedByTarget reports whether the target sent on an idle pooled
// connection what no request asked for; where the socket cannot be
// peeked at, a close while idle shows only when the request fails.
func closedByTarget(c *upConn) bool { return c.br.Buffered() > 0 }
