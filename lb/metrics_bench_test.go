//go:build linux || darwin

package lb

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkALBForward measures the lean HTTP path's throughput, one
// keep-alive request and response per op from parallel clients to a
// target on loopback, with the CloudWatch counters on and off: "on" less
// "off" is what counting costs. Client and target speak raw HTTP/1.1 so
// that the proxy's own work dominates what is measured. Compare with
// -count and benchstat (the sub-benchmarks alternate).
func BenchmarkALBForward(b *testing.B) {
	for _, mode := range []struct {
		name string
		off  bool
	}{{"metrics=on", false}, {"metrics=off", true}} {
		b.Run(mode.name, func(b *testing.B) {
			target := rawHTTPTarget(b)
			m := New(zerolog.Nop(), time.Now, nil)
			m.metricsOff = mode.off
			defer m.Close()
			addr := loopback()
			port := freePort(b, addr)
			cfg := Config{
				TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: "HTTP", Targets: []Target{target}}},
				LoadBalancers: []LoadBalancer{{ARN: "alb", Type: "application", Address: addr,
					Listeners: []Listener{{ARN: "l", Protocol: "HTTP", Port: port, Rules: []Rule{{Action: forward("tg")}}}}}},
			}
			if failed := m.Apply(cfg); len(failed) > 0 {
				b.Fatal(failed)
			}
			lbAddr := net.JoinHostPort(addr, strconv.Itoa(port))
			request := []byte("GET /api/x HTTP/1.1\r\nHost: bench.example.com\r\nUser-Agent: bench\r\n\r\n")
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", lbAddr)
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				for pb.Next() {
					if _, err := conn.Write(request); err != nil {
						b.Error(err)
						return
					}
					if err := readRawResponse(br); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			// CPU time (of the whole process: clients, proxy and target)
			// per request is steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			if !mode.off {
				var requests int64
				for _, p := range m.Metrics().TargetGroups {
					requests += p.Requests
				}
				if requests < int64(b.N) {
					b.Fatalf("counted %d requests of %d", requests, b.N)
				}
			}
		})
	}
}

// BenchmarkRequestCounters is what one proxied request adds to the
// counters on the lean path (a target chosen, its response and time, the
// client connection's read and write), from parallel goroutines on the
// same load balancer and group: the counters' whole cost per request,
// contention included.
func BenchmarkRequestCounters(b *testing.B) {
	s := &lbStats{}
	p := &pairStats{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.chosen()
			p.responded(200, 150*time.Microsecond)
			s.bytes.Add(80)
			s.bytes.Add(120)
		}
	})
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawHTTPTarget answers every request on a connection with a fixed 200.
func rawHTTPTarget(b *testing.B) Target {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\nhello from a backend\n")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					for { // the head, to its empty line; no body
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(answer); err != nil {
						return
					}
				}
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	return Target{ID: "127.0.0.1", Port: port, Host: "127.0.0.1"}
}

// readRawResponse reads a response head and its Content-Length body.
func readRawResponse(br *bufio.Reader) error {
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	_, err := io.CopyN(io.Discard, br, int64(length))
	return err
}
