// Command testapp is the workload of berth's integration tests: a static
// HTTP server that runs in a FROM scratch image, so tests need no registry.
//
//	testapp [serve]          serve HTTP on $PORT (default 8080)
//	testapp check [url]      exit 0 if url (default the local /health) answers 200: a health check command
//	testapp exit CODE [WAIT] wait WAIT (a Go duration), then exit with CODE
//	testapp env NAME...      print NAME=value for each variable, then exit 0
//
// Endpoints: / and any other path (who am I: hostname and $APP_NAME), /env?name=N, /health
// (200, or 503 after POST /health/fail until POST /health/ok, and from the
// start with UNHEALTHY=1),
// /slow?ms=N, /exit?code=N, /log?msg=M[&to=stderr] (writes M to its output),
// /metadata?path=P (relays $ECS_CONTAINER_METADATA_URI_V4 + P), /call?url=U
// (GETs U and relays its answer: a client of another service),
// /lookup?name=N[&type=SRV] (what the container's resolver answers) and /whoami
// (STS GetCallerIdentity with the AWS SDK's default configuration). It
// writes "testapp listening on :PORT" when it starts, which with LISTEN_AFTER
// (a Go duration) it does that long after it was started. With IGNORE_SIGTERM=1 the server ignores
// SIGTERM; otherwise SIGTERM makes it exit 0. With BURN=1 it keeps one CPU
// busy while it serves (a busy loop): a task whose CPU utilization is high.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	args := append(os.Args[1:], "serve")
	switch args[0] {
	case "check":
		url := "http://127.0.0.1:" + port() + "/health"
		if len(os.Args) > 2 {
			url = os.Args[2]
		}
		os.Exit(check(url))
	case "exit":
		code, _ := strconv.Atoi(at(args, 1))
		wait, _ := time.ParseDuration(at(args, 2))
		time.Sleep(wait)
		os.Exit(code)
	case "env":
		for _, name := range args[1 : len(args)-1] {
			fmt.Printf("%s=%s\n", name, os.Getenv(name))
		}
	default:
		serve()
	}
}

func at(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

func check(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

func serve() {
	// First: as PID 1 of its container the app ignores a SIGTERM it does
	// not handle yet.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	var failing atomic.Bool
	failing.Store(os.Getenv("UNHEALTHY") == "1")
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("ERRORS") == "1" { // a bad revision: healthy, yet every answer an error
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"hostname": host, "app": os.Getenv("APP_NAME")})
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "failing", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /health/fail", func(w http.ResponseWriter, r *http.Request) { failing.Store(true) })
	mux.HandleFunc("POST /health/ok", func(w http.ResponseWriter, r *http.Request) { failing.Store(false) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintln(w, "slow", host)
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		out := os.Stdout
		if r.URL.Query().Get("to") == "stderr" {
			out = os.Stderr
		}
		fmt.Fprintln(out, r.URL.Query().Get("msg"))
	})
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		res, err := http.Get(os.Getenv("ECS_CONTAINER_METADATA_URI_V4") + r.URL.Query().Get("path"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
	})
	mux.HandleFunc("GET /lookup", func(w http.ResponseWriter, r *http.Request) {
		// What the container's resolver answers: ?name=&type=A|SRV, as
		// sorted "address" or "target:port" lines.
		name := r.URL.Query().Get("name")
		var out []string
		var err error
		if r.URL.Query().Get("type") == "SRV" {
			var srvs []*net.SRV
			_, srvs, err = net.DefaultResolver.LookupSRV(r.Context(), "", "", name)
			for _, s := range srvs {
				out = append(out, fmt.Sprintf("%s:%d", s.Target, s.Port))
			}
		} else {
			out, err = net.DefaultResolver.LookupHost(r.Context(), name)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		slices.Sort(out)
		fmt.Fprint(w, strings.Join(out, "\n"))
	})
	caller := &http.Client{Timeout: 15 * time.Second}
	mux.HandleFunc("GET /call", func(w http.ResponseWriter, r *http.Request) {
		res, err := caller.Get(r.URL.Query().Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		cfg, err := config.LoadDefaultConfig(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		me, err := sts.NewFromConfig(cfg).GetCallerIdentity(r.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"Account": *me.Account, "Arn": *me.Arn})
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(code) }()
	})
	srv := &http.Server{Addr: ":" + port(), Handler: mux}
	go func() {
		for range sig {
			if os.Getenv("IGNORE_SIGTERM") == "1" {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			srv.Shutdown(ctx)
			cancel()
			os.Exit(0)
		}
	}()
	if os.Getenv("BURN") == "1" {
		go burn()
	}
	if d, err := time.ParseDuration(os.Getenv("LISTEN_AFTER")); err == nil {
		time.Sleep(d) // an application that is slow to start
	}
	fmt.Println("testapp listening on :" + port())
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	select {} // shutting down: the signal handler exits
}

// spins is what burn has counted, so that its loop is not optimized away.
var spins atomic.Uint64

// burn spins forever on one CPU.
func burn() {
	for {
		spins.Add(1)
	}
}
