//go:build linux || darwin

package lb

import "syscall"

// closedByTarget reports whether the target closed an idle pooled
// connection, or sent on it what no request asked for: one peek at the
// socket that does not wait, before the connection is reused. nginx does
// the same for its upstream keep-alive connections, and Go's Transport
// drops a connection that receives an unsolicited response.
func closedByTarget(c *upConn) bool {
	if c.br.Buffered() > 0 {
		return true
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// No error: the end of the stream, or bytes unasked for.
		gone = err == nil || err != syscall.EAGAIN && err != syscall.EINTR
		return true
	})
	return gone
}
