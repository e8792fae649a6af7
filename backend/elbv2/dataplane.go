package elbv2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/acm"
	"berth/lb"
	"berth/lb/health"
	"berth/lb/rules"
	"berth/sqlite"
)

// The ELBv2 side of the data plane: the backend compiles what the store
// says into lb.Config snapshots, hands each to the data plane, and keeps
// the listener failures the data plane reports, in memory, for
// DescribeLoadBalancers (target health is kept with the targets: health.go).

// DataPlane is what serves the load balancers: *lb.Manager.
type DataPlane interface {
	// Apply serves cfg and returns, by listener ARN, the listeners that
	// could not be bound.
	Apply(cfg lb.Config) map[string]error
}

// Placement says where the data plane's sockets and targets are.
type Placement struct {
	// Network holds the local addresses load balancers get, one each.
	Network netip.Prefix
	// Resolve returns the address of an EC2 instance target, or "" when
	// berth cannot reach it.
	Resolve func(instanceID string) string
	// Names, when set, learns the load balancers' DNS names and
	// addresses after each publication: berth's DNS server.
	Names func([]Host)
}

// update runs fn in a write transaction and, when it commits, tells the
// publisher that the configuration may have changed.
func (b *Backend) update(ctx context.Context, fn func(*sqlite.Tx) error) error {
	err := b.store.Update(ctx, fn)
	if err == nil {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return err
}

// Reset forgets what the data plane reported, for a store that was wiped,
// and has the publisher serve what the store now says.
func (b *Backend) Reset() {
	b.mu.Lock()
	b.failed = nil
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// listenerFailure returns why a listener of the load balancer could not be
// bound, if one could not.
func (b *Backend) listenerFailure(lbArn string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed[lbArn]
}

// Publish keeps the data plane serving what the store says until ctx
// ends: at once, after every change, and when a draining target's delay
// ends.
func (b *Backend) Publish(ctx context.Context, dp DataPlane, p Placement, log zerolog.Logger) {
	backend.Republish(ctx, b.wake, b.env.Clock, func(ctx context.Context) (time.Time, error) {
		next, err := b.publish(ctx, dp, p)
		if p.Names != nil {
			if hosts, err := b.Hosts(ctx); err == nil {
				p.Names(hosts)
			}
		}
		return next, err
	}, log)
}

// publish applies one snapshot and returns when the next draining target
// ends (zero if none drains).
//
// The snapshot is built in a read transaction, so API writes never wait
// for it: compiling every load balancer (and parsing their certificates,
// which keyPairs keeps between snapshots) happens beside them. What a
// snapshot finds missing (a new load balancer's address, the certificate
// berth issues it) is made afterwards in a short write of its own, and the
// snapshot built again.
func (b *Backend) publish(ctx context.Context, dp DataPlane, p Placement) (time.Time, error) {
	var cfg lb.Config
	var next time.Time
	for {
		var missing needs
		err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
			cfg, next, err = b.snapshot(tx, p, &missing)
			return err
		})
		if err != nil {
			return time.Time{}, err
		}
		if missing.none() {
			break
		}
		if err := b.provide(ctx, p, missing); err != nil {
			return time.Time{}, err
		}
	}
	b.keyPairs.snapshotDone()
	owner := map[string]string{} // listener ARN → load balancer ARN
	for _, l := range cfg.LoadBalancers {
		for _, lc := range l.Listeners {
			owner[lc.ARN] = l.ARN
		}
	}
	failed := map[string]string{}
	for arn, err := range dp.Apply(cfg) {
		failed[owner[arn]] = err.Error()
	}
	b.mu.Lock()
	b.failed = failed
	b.mu.Unlock()
	return next, nil
}

// needs are what a snapshot found missing: load balancers without an
// address, and those whose listener needs the certificate berth issues
// for their DNS name.
type needs struct {
	addresses    []sqlite.Key          // of the load balancers
	certificates map[sqlite.Key]string // load balancer → its DNS name
}

func (n needs) none() bool { return len(n.addresses) == 0 && len(n.certificates) == 0 }

// provide allocates the addresses and issues the certificates a snapshot
// found missing. Keys are drawn before the write, which only stores them.
func (b *Backend) provide(ctx context.Context, p Placement, n needs) error {
	type pair struct{ Cert, Key []byte }
	issued := map[sqlite.Key]pair{}
	for lbKey, dnsName := range n.certificates {
		cert, chain, key, err := b.ca.Issue([]string{strings.ToLower(dnsName)}, "EC_prime256v1", b.env.Clock())
		if err != nil {
			return err
		}
		issued[lbKey] = pair{append(cert, chain...), key}
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, k := range n.addresses {
			if ok, err := tx.Exists(k); err != nil || !ok { // deleted since
				if err != nil {
					return err
				}
				continue
			}
			if _, err := allocateAddress(tx, p.Network, k.ID); err != nil {
				return err
			}
		}
		for lbKey, pair := range issued {
			key := sqlite.Key{Kind: kindIssuedCertificate, ID: lbKey.ID}
			exists, err := tx.Exists(lbKey)
			if err != nil {
				return err
			}
			if ok, err := tx.Exists(key); err != nil || ok || !exists {
				if err != nil {
					return err
				}
				continue
			}
			if err := tx.Put(sqlite.Row{Key: key}, pair); err != nil {
				return err
			}
		}
		return nil
	})
}

// snapshot compiles every active load balancer, in every scope, with its
// listeners, rules and target groups, noting in missing what it lacks.
func (b *Backend) snapshot(tx *sqlite.Tx, p Placement, missing *needs) (lb.Config, time.Time, error) {
	cfg := lb.Config{TargetGroups: map[string]lb.TargetGroup{}}
	var next time.Time
	lbs, err := sqlite.ScanAll[types.LoadBalancer](tx, kindLoadBalancer, "")
	if err != nil {
		return cfg, next, err
	}
	for _, k := range lbs {
		s := scope{backend.Scope{Account: k.Key.Account, Region: k.Key.Region}}
		l := k.Value
		if l.Type == types.LoadBalancerTypeEnumGateway {
			continue
		}
		address, err := lookupAddress(tx, *l.LoadBalancerArn)
		if err != nil {
			return cfg, next, err
		}
		if address == "" {
			missing.addresses = append(missing.addresses, k.Key)
			continue
		}
		attrs, err := attributeMap(tx, s, *l.LoadBalancerArn, lbAttributes(l.Type))
		if err != nil {
			return cfg, next, err
		}
		idle, _ := strconv.Atoi(attrs["idle_timeout.timeout_seconds"])
		out := lb.LoadBalancer{
			ARN: *l.LoadBalancerArn, Name: aws.ToString(l.LoadBalancerName), DNSName: aws.ToString(l.DNSName),
			Type: string(l.Type), Address: address, IdleTimeout: time.Duration(idle) * time.Second,
			XFFMode:            attrs["routing.http.xff_header_processing.mode"],
			PreserveHost:       attrs["routing.http.preserve_host_header.enabled"] == "true",
			DropInvalidHeaders: attrs["routing.http.drop_invalid_header_fields.enabled"] == "true",
			TLSHeaders:         attrs["routing.http.x_amzn_tls_version_and_cipher_suite.enabled"] == "true",
		}
		listeners, err := sqlite.ListAll[types.Listener](tx, s.Query(kindListener, *l.LoadBalancerArn))
		if err != nil {
			return cfg, next, err
		}
		for _, lc := range listeners {
			compiled, err := b.compileListener(tx, s, lc, &cfg, p.Resolve, &next)
			if err != nil {
				return cfg, next, err
			}
			if lc.Protocol == types.ProtocolEnumHttps || lc.Protocol == types.ProtocolEnumTls {
				if compiled.Certificates, err = b.certificates(tx, s, lc, out.DNSName, missing); err != nil {
					return cfg, next, err
				}
			}
			out.Listeners = append(out.Listeners, compiled)
		}
		cfg.LoadBalancers = append(cfg.LoadBalancers, out)
	}
	return cfg, next, nil
}

// compileListener compiles a listener's rules, by priority with the
// default last, and adds the target groups they forward to.
func (b *Backend) compileListener(tx *sqlite.Tx, s scope, l types.Listener, cfg *lb.Config, resolve func(string) string, next *time.Time) (lb.Listener, error) {
	out := lb.Listener{ARN: *l.ListenerArn, Protocol: string(l.Protocol), Port: int(aws.ToInt32(l.Port))}
	attrs, err := attributeMap(tx, s, *l.ListenerArn, listenerAttributes(l.Protocol))
	if err != nil {
		return out, err
	}
	if idle, err := strconv.Atoi(attrs["tcp.idle_timeout.seconds"]); err == nil {
		out.IdleTimeout = time.Duration(idle) * time.Second
	}
	if isHTTP(l.Protocol) {
		out.Headers = headers(attrs)
	}
	stored, err := sqlite.ListAll[types.Rule](tx, s.Query(kindRule, *l.ListenerArn))
	if err != nil {
		return out, err
	}
	sort.SliceStable(stored, func(i, j int) bool { return priority(stored[i]) < priority(stored[j]) })
	for _, r := range stored {
		rule := lb.Rule{ARN: aws.ToString(r.RuleArn), Conditions: conditions(r.Conditions), Action: action(r.Actions)}
		if f := rule.Action.Forward; f != nil {
			for _, g := range f.Groups {
				if _, done := cfg.TargetGroups[g.ARN]; done {
					continue
				}
				tg, err := b.compileTargetGroup(tx, s, g.ARN, resolve, next)
				if err != nil {
					return out, err
				}
				cfg.TargetGroups[g.ARN] = tg
			}
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

// Certificates berth issued for load balancers' DNS names, by load
// balancer ARN: the certificate of a listener that has no usable one.
const kindIssuedCertificate = "elbv2/issued-certificate"

// certificates returns what an HTTPS or TLS listener serves: its default
// certificate, then those added for SNI. A certificate that is not in
// berth's ACM cannot be served; in the default's place the listener
// serves a certificate for the load balancer's DNS name that berth's
// authority issued.
func (b *Backend) certificates(tx *sqlite.Tx, s scope, l types.Listener, dnsName string, missing *needs) ([]tls.Certificate, error) {
	var arns []string
	for _, c := range l.Certificates {
		arns = append(arns, aws.ToString(c.CertificateArn))
	}
	added, err := sqlite.ListAll[types.Certificate](tx, s.Query(kindListenerCertificate, *l.ListenerArn))
	if err != nil {
		return nil, err
	}
	for _, c := range added {
		arns = append(arns, aws.ToString(c.CertificateArn))
	}
	var out []tls.Certificate
	for i, arn := range arns {
		cert, key, ok, err := acm.KeyPair(tx, s.Scope, arn)
		if err != nil {
			return nil, err
		}
		if ok {
			if pair, err := b.keyPairs.parse(arn, cert, key); err == nil {
				out = append(out, pair)
				continue
			}
		}
		if i == 0 {
			pair, found, err := b.issued(tx, *l.LoadBalancerArn)
			if err != nil {
				return nil, err
			}
			if !found {
				if missing.certificates == nil {
					missing.certificates = map[sqlite.Key]string{}
				}
				missing.certificates[s.Key(kindLoadBalancer, *l.LoadBalancerArn)] = dnsName
				continue
			}
			out = append(out, pair)
		}
	}
	return out, nil
}

// issued returns the certificate berth issued for a load balancer's DNS
// name; found is false before it has issued one.
func (b *Backend) issued(tx *sqlite.Tx, lbArn string) (pair tls.Certificate, found bool, err error) {
	var stored struct{ Cert, Key []byte }
	err = tx.Get(sqlite.Key{Kind: kindIssuedCertificate, ID: lbArn}, &stored)
	if isNotFound(err) {
		return pair, false, nil
	}
	if err != nil {
		return pair, false, err
	}
	pair, err = b.keyPairs.parse(lbArn, stored.Cert, stored.Key)
	return pair, err == nil, err
}

// priority orders rules: by number, the default rule last.
func priority(r types.Rule) int {
	if aws.ToBool(r.IsDefault) {
		return 1 << 30
	}
	n, _ := strconv.Atoi(aws.ToString(r.Priority))
	return n
}

// conditions converts a rule's conditions, in either of their forms (the
// Values shorthand or the per-field configs).
func conditions(in []types.RuleCondition) []rules.Condition {
	var out []rules.Condition
	for _, c := range in {
		rc := rules.Condition{Field: aws.ToString(c.Field), Values: c.Values}
		switch {
		case c.HostHeaderConfig != nil && len(c.HostHeaderConfig.Values) > 0:
			rc.Values = c.HostHeaderConfig.Values
		case c.PathPatternConfig != nil && len(c.PathPatternConfig.Values) > 0:
			rc.Values = c.PathPatternConfig.Values
		case c.HttpHeaderConfig != nil:
			rc.Header, rc.Values = aws.ToString(c.HttpHeaderConfig.HttpHeaderName), c.HttpHeaderConfig.Values
		case c.HttpRequestMethodConfig != nil:
			rc.Values = c.HttpRequestMethodConfig.Values
		case c.QueryStringConfig != nil:
			for _, kv := range c.QueryStringConfig.Values {
				rc.Query = append(rc.Query, rules.KeyValue{Key: aws.ToString(kv.Key), Value: aws.ToString(kv.Value)})
			}
		case c.SourceIpConfig != nil:
			rc.Values = c.SourceIpConfig.Values
		}
		if rc.Field == "source-ip" {
			for _, v := range rc.Values {
				if p, err := netip.ParsePrefix(v); err == nil {
					rc.Networks = append(rc.Networks, p)
				}
			}
		}
		out = append(out, rc)
	}
	return out
}

// action compiles the action that ends a rule: its last by order. An
// authenticate action before it is what berth answers with instead.
func action(in []types.Action) lb.Action {
	sorted := slices.Clone(in)
	sort.SliceStable(sorted, func(i, j int) bool { return aws.ToInt32(sorted[i].Order) < aws.ToInt32(sorted[j].Order) })
	for _, a := range sorted {
		switch a.Type {
		case types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumAuthenticateCognito, types.ActionTypeEnumJwtValidation:
			return lb.Action{Type: string(a.Type)}
		case types.ActionTypeEnumForward:
			f := &lb.Forward{}
			if fc := a.ForwardConfig; fc != nil && len(fc.TargetGroups) > 0 {
				for _, t := range fc.TargetGroups {
					w := 1
					if t.Weight != nil {
						w = int(*t.Weight)
					}
					f.Groups = append(f.Groups, lb.WeightedGroup{ARN: aws.ToString(t.TargetGroupArn), Weight: w})
				}
				if st := fc.TargetGroupStickinessConfig; st != nil && aws.ToBool(st.Enabled) {
					f.Stickiness = time.Duration(aws.ToInt32(st.DurationSeconds)) * time.Second
				}
			} else {
				f.Groups = []lb.WeightedGroup{{ARN: aws.ToString(a.TargetGroupArn), Weight: 1}}
			}
			return lb.Action{Type: "forward", Forward: f}
		case types.ActionTypeEnumRedirect:
			rc := a.RedirectConfig
			code := 301
			if rc.StatusCode == types.RedirectActionStatusCodeEnumHttp302 {
				code = 302
			}
			return lb.Action{Type: "redirect", Redirect: &lb.Redirect{
				Protocol: aws.ToString(rc.Protocol), Host: aws.ToString(rc.Host), Port: aws.ToString(rc.Port),
				Path: aws.ToString(rc.Path), Query: aws.ToString(rc.Query), StatusCode: code,
			}}
		case types.ActionTypeEnumFixedResponse:
			fc := a.FixedResponseConfig
			code, _ := strconv.Atoi(aws.ToString(fc.StatusCode))
			return lb.Action{Type: "fixed-response", Fixed: &lb.FixedResponse{
				StatusCode: code, ContentType: aws.ToString(fc.ContentType), Body: aws.ToString(fc.MessageBody),
			}}
		}
	}
	return lb.Action{Type: "fixed-response", Fixed: &lb.FixedResponse{StatusCode: 503}}
}

// compileTargetGroup compiles a target group, its attributes and its
// targets that are registered or still draining.
func (b *Backend) compileTargetGroup(tx *sqlite.Tx, s scope, arn string, resolve func(string) string, next *time.Time) (lb.TargetGroup, error) {
	tg, err := b.targetGroup(tx, s, arn)
	if err != nil {
		return lb.TargetGroup{}, err
	}
	attrs, err := attributeMap(tx, s, arn, tgAttributes(tg))
	if err != nil {
		return lb.TargetGroup{}, err
	}
	seconds := func(key string) time.Duration {
		n, _ := strconv.Atoi(attrs[key])
		return time.Duration(n) * time.Second
	}
	out := lb.TargetGroup{
		ARN: arn, Name: aws.ToString(tg.TargetGroupName), Protocol: string(tg.Protocol),
		Algorithm: attrs["load_balancing.algorithm.type"], SlowStart: seconds("slow_start.duration_seconds"),
		DeregistrationDelay: seconds("deregistration_delay.timeout_seconds"),
		ProxyProtocol:       attrs["proxy_protocol_v2.enabled"] == "true",
	}
	if attrs["stickiness.enabled"] == "true" {
		out.Stickiness = lb.Stickiness{Type: attrs["stickiness.type"], Duration: seconds("stickiness.lb_cookie.duration_seconds")}
		if out.Stickiness.Type == "app_cookie" {
			out.Stickiness.Duration = seconds("stickiness.app_cookie.duration_seconds")
			out.Stickiness.CookieName = attrs["stickiness.app_cookie.cookie_name"]
		}
	}
	if aws.ToBool(tg.HealthCheckEnabled) {
		hc := &health.Config{
			Protocol: string(tg.HealthCheckProtocol), Port: aws.ToString(tg.HealthCheckPort), Path: aws.ToString(tg.HealthCheckPath),
			Interval:           time.Duration(aws.ToInt32(tg.HealthCheckIntervalSeconds)) * time.Second,
			Timeout:            time.Duration(aws.ToInt32(tg.HealthCheckTimeoutSeconds)) * time.Second,
			HealthyThreshold:   int(aws.ToInt32(tg.HealthyThresholdCount)),
			UnhealthyThreshold: int(aws.ToInt32(tg.UnhealthyThresholdCount)),
		}
		if tg.Matcher != nil {
			hc.Matcher = aws.ToString(tg.Matcher.HttpCode)
		}
		if hc.Path == "" {
			hc.Path = "/"
		}
		out.HealthCheck = hc
	}
	targets, err := sqlite.ListAll[target](tx, s.Query(kindTarget, arn))
	if err != nil {
		return out, err
	}
	now := b.env.Clock()
	for _, t := range targets {
		if t.gone(now) {
			continue
		}
		lt := lb.Target{ID: t.Id, Port: int(t.Port), Health: t.lastHealth()}
		switch tg.TargetType {
		case types.TargetTypeEnumIp:
			lt.Host = t.Id
		case types.TargetTypeEnumInstance:
			if resolve != nil {
				lt.Host = resolve(t.Id)
			}
		}
		if t.DrainUntil != nil {
			lt.DrainUntil = *t.DrainUntil
			if next.IsZero() || t.DrainUntil.Before(*next) {
				*next = *t.DrainUntil
			}
		}
		out.Targets = append(out.Targets, lt)
	}
	return out, nil
}

// Local addresses of load balancers: each gets its own, kept for its
// life, so that its DNS name always resolves to it.
const kindAddress = "elbv2/address"

// lookupAddress returns the load balancer's local address, "" before it
// has one.
func lookupAddress(tx *sqlite.Tx, lbArn string) (string, error) {
	var addr string
	err := tx.Get(sqlite.Key{Kind: kindAddress, ID: lbArn}, &addr)
	if errors.Is(err, sqlite.ErrNotFound) {
		return "", nil
	}
	return addr, err
}

// allocateAddress returns the load balancer's local address, allocating
// the next free one of network on first use.
func allocateAddress(tx *sqlite.Tx, network netip.Prefix, lbArn string) (string, error) {
	key := sqlite.Key{Kind: kindAddress, ID: lbArn}
	var addr string
	err := tx.Get(key, &addr)
	if err == nil || !errors.Is(err, sqlite.ErrNotFound) {
		return addr, err
	}
	last := sqlite.Key{Kind: kindAddress, ID: "last " + network.String()}
	ip := network.Masked().Addr()
	if err := tx.Get(last, &addr); err == nil {
		ip, _ = netip.ParseAddr(addr)
	} else if !errors.Is(err, sqlite.ErrNotFound) {
		return "", err
	}
	for ip = ip.Next(); ip.Is4() && (ip.As4()[3] == 0 || ip.As4()[3] == 255); ip = ip.Next() {
	}
	if !network.Contains(ip) {
		return "", fmt.Errorf("no address of %s is left for load balancer %s", network, lbArn)
	}
	addr = ip.String()
	if err := tx.Put(sqlite.Row{Key: last}, addr); err != nil {
		return "", err
	}
	return addr, tx.Put(sqlite.Row{Key: key}, addr)
}

// Host is a load balancer's DNS name and the local address it answers on.
type Host struct {
	Address, DNSName string
}

// Hosts lists the local address of every load balancer, in every scope,
// as /etc/hosts would map them.
func (b *Backend) Hosts(ctx context.Context) ([]Host, error) {
	var out []Host
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		lbs, err := sqlite.ScanAll[types.LoadBalancer](tx, kindLoadBalancer, "")
		if err != nil {
			return err
		}
		for _, k := range lbs {
			var addr string
			if err := tx.Get(sqlite.Key{Kind: kindAddress, ID: *k.Value.LoadBalancerArn}, &addr); err != nil {
				continue // not published yet
			}
			out = append(out, Host{Address: addr, DNSName: strings.ToLower(aws.ToString(k.Value.DNSName))})
		}
		return nil
	})
	return out, err
}

// responseHeaders are the response headers a listener attribute adds, by
// attribute.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
var responseHeaders = []struct{ attribute, header string }{
	{"routing.http.response.strict_transport_security.header_value", "Strict-Transport-Security"},
	{"routing.http.response.access_control_allow_origin.header_value", "Access-Control-Allow-Origin"},
	{"routing.http.response.access_control_allow_methods.header_value", "Access-Control-Allow-Methods"},
	{"routing.http.response.access_control_allow_headers.header_value", "Access-Control-Allow-Headers"},
	{"routing.http.response.access_control_allow_credentials.header_value", "Access-Control-Allow-Credentials"},
	{"routing.http.response.access_control_expose_headers.header_value", "Access-Control-Expose-Headers"},
	{"routing.http.response.access_control_max_age.header_value", "Access-Control-Max-Age"},
	{"routing.http.response.content_security_policy.header_value", "Content-Security-Policy"},
	{"routing.http.response.x_content_type_options.header_value", "X-Content-Type-Options"},
	{"routing.http.response.x_frame_options.header_value", "X-Frame-Options"},
}

// headers is the header modification of an HTTP listener's attributes.
func headers(attrs map[string]string) lb.Headers {
	h := lb.Headers{
		OmitServer:     attrs["routing.http.response.server.enabled"] == "false",
		TLSVersion:     attrs["routing.http.request.x_amzn_tls_version.header_name"],
		TLSCipherSuite: attrs["routing.http.request.x_amzn_tls_cipher_suite.header_name"],
	}
	for _, r := range responseHeaders {
		if v := attrs[r.attribute]; v != "" {
			h.Response = append(h.Response, lb.Header{Name: r.header, Value: v})
		}
	}
	return h
}
