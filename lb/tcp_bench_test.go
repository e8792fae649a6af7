package lb

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkTCPFlow measures one NLB TCP flow's throughput, client to
// target, 1 MiB per op, on loopback.
func BenchmarkTCPFlow(b *testing.B) {
	m := New(zerolog.Nop(), time.Now, nil)
	defer m.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	received := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		received <- n
	}()
	addr := loopback()
	port := freePort(b, addr)
	cfg := Config{
		TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: "TCP",
			Targets: []Target{{ID: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Host: "127.0.0.1"}}}},
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: "network", Address: addr,
			Listeners: []Listener{{ARN: "l", Protocol: "TCP", Port: port, Rules: []Rule{{Action: forward("tg")}}}}}},
	}
	if failed := m.Apply(cfg); len(failed) > 0 {
		b.Fatal(failed)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	if n := <-received; n != int64(b.N)*int64(len(chunk)) {
		b.Fatal(fmt.Sprint("received ", n))
	}
	conn.Close()
}
