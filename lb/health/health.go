// Package health runs the active health checks of target group targets
// and turns their results into the states and reason codes that
// DescribeTargetHealth reports.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
package health

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"berth/lb/balance"
	"berth/lb/proxyproto"
)

// Config is a target group's health check settings.
type Config struct {
	Protocol           string // HTTP, HTTPS or TCP
	Port               string // "traffic-port" or a port number
	Path               string
	Matcher            string // HTTP codes: "200", "200-299", "200,202"
	Interval, Timeout  time.Duration
	HealthyThreshold   int
	UnhealthyThreshold int
	// ProxyProtocol sends a PROXY protocol v2 header, of the LOCAL
	// command, ahead of each check, as NLB does for a target group with
	// proxy_protocol_v2.enabled: a target that expects the header would
	// fail checks without it.
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#proxy-protocol
	ProxyProtocol bool
}

// Reason codes, as the ELBv2 API spells them.
const (
	RegistrationInProgress = "Elb.RegistrationInProgress"
	InitialHealthChecking  = "Elb.InitialHealthChecking"
	ResponseCodeMismatch   = "Target.ResponseCodeMismatch"
	Timeout                = "Target.Timeout"
	FailedHealthChecks     = "Target.FailedHealthChecks"
)

// Status is a target's health with its reason code and description (both
// empty when healthy).
type Status struct {
	Health              balance.Health
	Reason, Description string
}

// Result is the outcome of one probe: passed, or why not.
type Result struct {
	Passed              bool
	Reason, Description string
}

// Checker checks one target.
type Checker struct {
	Config Config
	// Host and TrafficPort are where the target receives traffic; the
	// probe goes to Host and the configured port. With no Host (berth
	// cannot reach the target) every probe times out.
	Host        string
	TrafficPort int
	Target      *balance.Target
	Now         func() time.Time
	// Report hears every change of the target's status.
	Report func(Status)
	// Known is the status the target had when berth last ran, if it was
	// past its initial checks: it starts there, as a load balancer that
	// kept running would, instead of registering again.
	Known Status

	status        Status
	reported      bool
	passes, fails int
	client        *http.Client
}

// initialRetry is how soon a new target's failed first check is tried
// again, within its first interval.
const initialRetry = 250 * time.Millisecond

// Run reports the target as registering, then probes it at once and every
// interval until ctx ends. A new target whose first check fails, such as a
// task registered a moment before its server listens, is checked again
// every initialRetry until the first interval ends; those retries can
// make it healthy but add no failures, so a target that never passes
// turns unhealthy as it would without them.
func (c *Checker) Run(ctx context.Context) {
	if c.Known.Health != balance.Initial {
		c.status, c.reported = c.Known, true // the owner knows it already
		c.Target.SetHealth(c.Known.Health, c.Now())
	} else {
		c.set(Status{Health: balance.Initial, Reason: RegistrationInProgress, Description: "Target registration is in progress"})
	}
	// A new connection for every check, as ALB opens; target
	// certificates are not verified.
	c.client = &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
			DialContext: c.dial},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	began := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r := c.probe(ctx)
		firstInterval := c.status.Health == balance.Initial && time.Since(began) < c.Config.Interval
		if r.Passed || !firstInterval || c.fails == 0 {
			c.Observe(r)
		}
		wait := c.Config.Interval
		if !r.Passed && firstInterval {
			wait = min(initialRetry, c.Config.Interval-time.Since(began))
		}
		timer.Reset(wait)
	}
}

// Status is the target's status as the checker last set it. Read it only
// while Run is not running.
func (c *Checker) Status() Status { return c.status }

// Observe moves the target's status by one probe result: a new target is
// healthy after one passed check and unhealthy after the unhealthy
// threshold of failed ones; afterwards it takes the healthy threshold of
// consecutive passes, or the unhealthy threshold of consecutive failures,
// to change.
func (c *Checker) Observe(r Result) {
	if r.Passed {
		c.passes, c.fails = c.passes+1, 0
	} else {
		c.passes, c.fails = 0, c.fails+1
	}
	failed := Status{Health: balance.Unhealthy, Reason: r.Reason, Description: r.Description}
	switch c.status.Health {
	case balance.Initial:
		switch {
		case r.Passed:
			c.set(Status{Health: balance.Healthy})
		case c.fails >= c.Config.UnhealthyThreshold:
			c.set(failed)
		default:
			c.set(Status{Health: balance.Initial, Reason: InitialHealthChecking, Description: "Initial health checks in progress"})
		}
	case balance.Healthy:
		if c.fails >= c.Config.UnhealthyThreshold {
			c.set(failed)
		}
	case balance.Unhealthy:
		switch {
		case c.passes >= c.Config.HealthyThreshold:
			c.set(Status{Health: balance.Healthy})
		case !r.Passed:
			c.set(failed) // the latest failure's reason
		}
	}
}

// set moves the checker to s and reports it. The status is recorded only
// once reported, so a check that a panic ends here (in the clock, say)
// resumes from the status its owner last heard and reports s again,
// rather than believing a report it never made.
func (c *Checker) set(s Status) {
	if s == c.status && c.reported {
		return
	}
	c.Target.SetHealth(s.Health, c.Now())
	if c.Report != nil {
		c.Report(s)
	}
	c.status, c.reported = s, true
}

// probe checks the target once, within the timeout.
func (c *Checker) probe(ctx context.Context) Result {
	if c.Host == "" {
		return Result{Reason: Timeout, Description: "Request timed out"}
	}
	port := c.TrafficPort
	if p, err := strconv.Atoi(c.Config.Port); err == nil {
		port = p
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, c.Config.Timeout)
	defer cancel()
	if c.Config.Protocol == "TCP" {
		conn, err := c.dial(ctx, "tcp", addr)
		if err != nil {
			return failure(ctx, err)
		}
		conn.Close()
		return Result{Passed: true}
	}
	scheme := "http"
	if c.Config.Protocol == "HTTPS" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+c.Config.Path, nil)
	if err != nil {
		return Result{Reason: FailedHealthChecks, Description: "Health checks failed"}
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := c.client.Do(req)
	if err != nil {
		return failure(ctx, err)
	}
	resp.Body.Close()
	if !Matches(c.Config.Matcher, resp.StatusCode) {
		return Result{Reason: ResponseCodeMismatch, Description: fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)}
	}
	return Result{Passed: true}
}

// dial connects for a check, and sends the PROXY protocol header first
// when the target group has it.
func (c *Checker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil || !c.Config.ProxyProtocol {
		return conn, err
	}
	if _, err := conn.Write(proxyproto.Local()); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func failure(ctx context.Context, err error) Result {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return Result{Reason: Timeout, Description: "Request timed out"}
	}
	return Result{Reason: FailedHealthChecks, Description: "Health checks failed"}
}

// Matches reports whether code is in matcher: codes and ranges separated
// by commas, such as "200", "200,202" or "200-299".
func Matches(matcher string, code int) bool {
	for _, part := range strings.Split(matcher, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := strconv.Atoi(lo)
		b, errB := a, errA
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA == nil && errB == nil && code >= a && code <= b {
			return true
		}
	}
	return false
}
