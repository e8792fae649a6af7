package lb

import (
	"crypto/tls"
	"time"

	"berth/lb/balance"
	"berth/lb/health"
	"berth/lb/rules"
)

// Config is one immutable snapshot of everything the data plane serves.
// The control plane builds a new one on every change and hands it to
// Manager.Apply; nothing in it is modified afterwards.
type Config struct {
	LoadBalancers []LoadBalancer
	// TargetGroups are the groups that listeners forward to, by ARN.
	TargetGroups map[string]TargetGroup
}

// LoadBalancer is one ALB or NLB.
type LoadBalancer struct {
	ARN, Name, DNSName string
	// Type is "application" or "network".
	Type string
	// Address is the local address its listeners bind, one per load
	// balancer so that several can listen on the same port.
	Address     string
	IdleTimeout time.Duration // idle_timeout.timeout_seconds
	// XFFMode is routing.http.xff_header_processing.mode: append,
	// preserve or remove.
	XFFMode            string
	PreserveHost       bool // routing.http.preserve_host_header.enabled
	DropInvalidHeaders bool // routing.http.drop_invalid_header_fields.enabled
	TLSHeaders         bool // routing.http.x_amzn_tls_version_and_cipher_suite.enabled
	Listeners          []Listener
}

// idleTimeout is the load balancer's idle timeout, ALB's 60 s default
// when unset.
func (lb *LoadBalancer) idleTimeout() time.Duration {
	if lb.IdleTimeout == 0 {
		return 60 * time.Second
	}
	return lb.IdleTimeout
}

// Listener is one listener: a protocol on a port, and its rules.
type Listener struct {
	ARN      string
	Protocol string // HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP
	Port     int
	// Certificates of an HTTPS or TLS listener: the default first, then
	// those SNI may select. Each has its Leaf.
	Certificates []tls.Certificate
	// Rules are in evaluation order: by ascending priority, the default
	// rule last.
	Rules []Rule
	// IdleTimeout is a TCP listener's tcp.idle_timeout.seconds; zero is
	// NLB's default, 350 s, which TLS listeners always have.
	IdleTimeout time.Duration
	// Headers is an HTTP or HTTPS listener's header modification.
	Headers Headers
}

// Rule is a listener rule: when every condition matches, its action runs.
type Rule struct {
	ARN        string
	Conditions []rules.Condition
	Action     Action
}

// Action is what a rule does: its type's field is set.
type Action struct {
	// Type is forward, redirect, fixed-response, or an authenticate type,
	// which berth does not serve.
	Type     string
	Forward  *Forward
	Redirect *Redirect
	Fixed    *FixedResponse
}

// Forward sends the request to one of weighted target groups.
type Forward struct {
	Groups []WeightedGroup
	// Stickiness pins a client to the group it was first sent to, for this
	// long (AWSALBTG cookie); zero disables it.
	Stickiness time.Duration
}

// WeightedGroup is one target group of a forward action, weight 0–999.
type WeightedGroup struct {
	ARN    string
	Weight int
}

// Redirect is a redirect action; each part may hold #{protocol},
// #{host}, #{port}, #{path} and #{query}.
type Redirect struct {
	Protocol, Host, Port, Path, Query string
	StatusCode                        int // 301 or 302
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode        int
	ContentType, Body string
}

// TargetGroup is a target group with its targets and attributes.
type TargetGroup struct {
	ARN, Name string
	Protocol  string // HTTP, HTTPS, TCP, ...
	// Algorithm is load_balancing.algorithm.type.
	Algorithm           string
	SlowStart           time.Duration
	DeregistrationDelay time.Duration
	Stickiness          Stickiness
	// ProxyProtocol is proxy_protocol_v2.enabled: TCP flows to its
	// targets, and health checks, begin with a PROXY protocol v2 header;
	// each UDP datagram carries one.
	ProxyProtocol bool
	// HealthCheck is nil when health checks are disabled.
	HealthCheck *health.Config
	// Outlier, when set, ejects a target whose requests fail in a row for
	// a while (passive health checking, as ECS Service Connect's proxy
	// does); ELBv2 target groups have none.
	Outlier *balance.Outlier
	// ConnectTimeout bounds a connection to a target; zero is ALB's 10 s.
	ConnectTimeout time.Duration
	// RequestTimeout bounds the wait for a target's whole response to a
	// request, from when the request leaves for it (ECS Service Connect's
	// perRequestTimeout): a response not begun by then is answered 504, one
	// under way is cut short. Zero is none, as with ELBv2 target groups,
	// whose load balancer's idle timeout alone applies.
	RequestTimeout time.Duration
	Targets        []Target
}

// Stickiness is a target group's stickiness.* attributes.
type Stickiness struct {
	// Type is lb_cookie or app_cookie; "" when stickiness is off.
	Type       string
	Duration   time.Duration
	CookieName string // the application's cookie, for app_cookie
}

// Target is one registered target.
type Target struct {
	ID   string
	Port int
	// Host is the address requests go to: the IP of an ip target, the
	// container instance's address of an instance target; "" when berth
	// cannot reach it.
	Host string
	// DrainUntil is when a deregistered target's draining ends; zero while
	// it is registered.
	DrainUntil time.Time
	// Health is the last health reported for the target, which a target
	// new to the data plane (after berth restarted) starts with; initial
	// (the zero value) starts its checks afresh.
	Health health.Status
}

// HealthReport is a change of one target's health.
type HealthReport struct {
	TargetGroupARN string
	ID             string
	Port           int
	Status         health.Status
}
