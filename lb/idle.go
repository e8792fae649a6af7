package lb

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// idleConns closes the connections of a listener's net/http server that
// stay idle longer than the load balancer's idle timeout
// (idle_timeout.timeout_seconds), which can change while the server runs:
// net/http's own timeouts are fixed when it starts. A connection is idle
// from when it is accepted or its last request ended until a request's
// head has been read.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
type idleConns struct {
	timeout func() time.Duration
	mu      sync.Mutex
	timers  map[net.Conn]*time.Timer
}

// track is the server's ConnState hook. A request that has begun (its
// first bytes are read) has the idle timeout to send its head: busy then
// stops the timer.
func (ic *idleConns) track(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew, http.StateIdle, http.StateActive:
		ic.arm(c)
	case http.StateHijacked, http.StateClosed:
		ic.disarm(c, true)
	}
}

func (ic *idleConns) arm(c net.Conn) {
	d := ic.timeout()
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if t := ic.timers[c]; t != nil {
		t.Reset(d)
		return
	}
	ic.timers[c] = time.AfterFunc(d, func() { c.Close() })
}

func (ic *idleConns) disarm(c net.Conn, forget bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if t := ic.timers[c]; t != nil {
		t.Stop()
		if forget {
			delete(ic.timers, c)
		}
	}
}

// busy stops the idle timer of a request's connection while next serves
// it.
func (ic *idleConns) busy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			ic.disarm(c, false)
		}
		next.ServeHTTP(w, r)
	})
}

// connKey holds, in a request's context, the connection it came on.
type connKey struct{}

// withConn is the server's ConnContext hook.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}
