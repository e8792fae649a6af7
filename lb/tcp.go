package lb

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"berth/lb/balance"
)

// serveTCP serves an NLB TCP listener: each connection is joined to one
// target, chosen by a hash of the flow, and bytes go both ways with
// half-closes passed on.
func (m *Manager) serveTCP(l *listener, ln net.Listener) func(time.Duration) {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.proxyTCP(ctx, l.routes.Load(), conn)
			}()
		}
	}()
	return func(drain time.Duration) {
		ln.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(drain):
		}
		cancel()
	}
}

// proxyTCP joins conn to a target of the listener's default forward.
func (m *Manager) proxyTCP(ctx context.Context, rt *routes, conn net.Conn) {
	defer conn.Close()
	if len(rt.rules) == 0 || len(rt.rules[0].groups) == 0 {
		return
	}
	g := rt.rules[0].groups[0].g
	mem := g.members.Load()
	available := balance.Available(mem.balance)
	hash := int(flowHash(conn.RemoteAddr().String(), conn.LocalAddr().String()))
	var tried []*balance.Target
	for len(tried) < len(available) {
		var bt *balance.Target
		for i := 0; i < len(available); i++ {
			c := available[(hash+i)%len(available)]
			if !slices.Contains(tried, c) {
				bt = c
				break
			}
		}
		t := mem.byKey[bt.Key]
		up, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(t.ctx, "tcp", t.Addr)
		if err != nil {
			tried = append(tried, bt)
			continue
		}
		end := t.Begin()
		defer end()
		stop := context.AfterFunc(t.ctx, func() { conn.Close(); up.Close() })
		defer stop()
		stopAll := context.AfterFunc(ctx, func() { conn.Close(); up.Close() })
		defer stopAll()
		pipe(conn, up)
		return
	}
}

// pipe copies both ways until both directions end, passing each
// direction's end on as a half-close.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	half := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		if c, ok := dst.(interface{ CloseWrite() error }); ok {
			c.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go half(a, b)
	go half(b, a)
	wg.Wait()
	b.Close()
}
