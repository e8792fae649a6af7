package elbv2

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/backend/acm"
	"berth/sqlite"
)

// defaultSSLPolicy is the policy HTTPS and TLS listeners get when none is
// named.
const defaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// alpnPolicies are the ALPN policies of TLS listeners.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/create-tls-listener.html#alpn-policies
var alpnPolicies = []string{"HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"}

// listenerProtocols lists the listener protocols of each load balancer
// type in the order AWS names them when refusing another: "Listener
// protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'"
// (pulumi/pulumi-aws#1193) and 'HTTPS, HTTP' for ALBs (issue 19 of berth).
var listenerProtocols = map[types.LoadBalancerTypeEnum][]types.ProtocolEnum{
	types.LoadBalancerTypeEnumApplication: {types.ProtocolEnumHttps, types.ProtocolEnumHttp},
	types.LoadBalancerTypeEnumNetwork:     {types.ProtocolEnumTls, types.ProtocolEnumTcp, types.ProtocolEnumTcpUdp, types.ProtocolEnumUdp},
	types.LoadBalancerTypeEnumGateway:     {types.ProtocolEnumGeneve},
}

// errListenerProtocol refuses a listener protocol the load balancer type
// does not have, with ValidationError.
func errListenerProtocol(p types.ProtocolEnum, t types.LoadBalancerTypeEnum) error {
	names := make([]string, len(listenerProtocols[t]))
	for i, known := range listenerProtocols[t] {
		names[i] = string(known)
	}
	return errValidation("Listener protocol '%s' must be one of '%s'", p, strings.Join(names, ", "))
}

// iamServerCertificate matches the ARN of an IAM server certificate,
// arn:aws:iam::<account>:server-certificate/<path><name>.
var iamServerCertificate = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:server-certificate/.+`)

// requireCertificates checks that each certificate a listener is given
// exists: an ACM certificate must be in berth's ACM, in the ARN's own
// region and the caller's account, or AWS answers CertificateNotFound "Certificate
// '<arn>' not found" (400; API_CreateListener, API_AddListenerCertificates,
// and the many reports of that text, e.g. terraform-provider-aws#17505).
// berth's IAM keeps no server certificates, so an IAM server certificate
// ARN is taken as given; the listener serves a certificate berth's
// authority issues in its place.
func requireCertificates(tx *sqlite.Tx, s scope, certs []types.Certificate) error {
	for _, c := range certs {
		arn := aws.ToString(c.CertificateArn)
		if iamServerCertificate.MatchString(arn) {
			continue
		}
		if _, _, ok, err := acm.KeyPair(tx, s.Scope, arn); err != nil {
			return err
		} else if !ok {
			return awsproto.Modeled(&types.CertificateNotFoundException{}, "Certificate '%s' not found", arn)
		}
	}
	return nil
}

func listenerAttributes(p types.ProtocolEnum) []attribute {
	if isHTTP(p) {
		return httpListenerAttributes
	}
	if p == types.ProtocolEnumTcp {
		return tcpListenerAttributes
	}
	return nil
}

// childArn derives a listener or rule ARN from its parent's: the load
// balancer "loadbalancer/app/name/id" has listeners "listener/app/name/id/x"
// and those have rules "listener-rule/app/name/id/x/y".
func childArn(parent, from, to, id string) string {
	return strings.Replace(parent, ":"+from+"/", ":"+to+"/", 1) + "/" + id
}

// loadBalancerOf returns the load balancer ARN of a listener or rule ARN.
func loadBalancerOf(arn string) string {
	i := strings.Index(arn, ":listener")
	if i < 0 {
		return ""
	}
	rest := arn[i+1:]
	_, rest, _ = strings.Cut(rest, "/")
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		return ""
	}
	return arn[:i] + ":loadbalancer/" + strings.Join(parts[:3], "/")
}

// CreateListener creates a listener and its default rule.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
func (b *Backend) CreateListener(ctx context.Context, in *elbv2api.CreateListenerInput) (*elbv2api.CreateListenerOutput, error) {
	s := scopeOf(ctx)
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	var l types.Listener
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		lb, err := b.loadBalancer(tx, s, aws.ToString(in.LoadBalancerArn))
		if isNotFound(err) {
			return errLoadBalancerNotFound()
		}
		if err != nil {
			return err
		}
		if err := validListenerRequest(in.Protocol, in.Certificates, in.SslPolicy, in.MutualAuthentication); err != nil {
			return err
		}
		l = types.Listener{
			LoadBalancerArn:      lb.LoadBalancerArn,
			Port:                 in.Port,
			Protocol:             in.Protocol,
			Certificates:         in.Certificates,
			SslPolicy:            in.SslPolicy,
			AlpnPolicy:           in.AlpnPolicy,
			MutualAuthentication: in.MutualAuthentication,
		}
		if err := validListener(tx, s, lb, &l, ""); err != nil {
			return err
		}
		if err := requireCertificates(tx, s, l.Certificates); err != nil {
			return err
		}
		count, err := tx.Count(s.Query(kindListener, *lb.LoadBalancerArn))
		if err != nil {
			return err
		}
		if count >= 50 {
			return awsproto.Modeled(&types.TooManyListenersException{}, "You've reached the limit of 50 listeners per load balancer")
		}
		actions, tgs, err := b.validActions(tx, s, listenerContext{lb, l.Protocol}, in.DefaultActions)
		if err != nil {
			return err
		}
		l.DefaultActions = actions
		l.ListenerArn = aws.String(childArn(*lb.LoadBalancerArn, "loadbalancer", "listener", b.env.IDs.Hex(16)))
		if err := putListener(tx, s, l); err != nil {
			return err
		}
		def := types.Rule{
			RuleArn:    aws.String(childArn(*l.ListenerArn, "listener", "listener-rule", b.env.IDs.Hex(16))),
			Priority:   aws.String("default"),
			Conditions: []types.RuleCondition{},
			Actions:    actions,
			IsDefault:  aws.Bool(true),
		}
		if err := b.putRule(tx, s, *l.ListenerArn, def, nil, tgs); err != nil {
			return err
		}
		return setTags(tx, s, *l.ListenerArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateListenerOutput{Listeners: []types.Listener{l}}, nil
}

// validListener checks protocol, port, certificates and policies against
// the load balancer type and fills the defaults. self is the listener's own
// ARN when modifying it.
func validListener(tx *sqlite.Tx, s scope, lb types.LoadBalancer, l *types.Listener, self string) error {
	if lb.Type == types.LoadBalancerTypeEnumGateway {
		if l.Protocol != "" || l.Port != nil {
			return errValidation("Protocol and port cannot be specified for listeners of gateway load balancers")
		}
		return nil
	}
	if l.Protocol == "" {
		return errValidation("A listener protocol must be specified")
	}
	if !slices.Contains(listenerProtocols[lb.Type], l.Protocol) {
		return errListenerProtocol(l.Protocol, lb.Type)
	}
	if l.Port == nil || *l.Port < 1 || *l.Port > 65535 {
		return errValidation("A listener port between 1 and 65535 must be specified")
	}
	others, err := sqlite.ListAll[types.Listener](tx, s.Query(kindListener, *lb.LoadBalancerArn))
	if err != nil {
		return err
	}
	for _, o := range others {
		if *o.ListenerArn != self && aws.ToInt32(o.Port) == *l.Port {
			return awsproto.Modeled(&types.DuplicateListenerException{}, "A listener already exists on this port for this load balancer '%s'", *lb.LoadBalancerArn)
		}
	}
	if m := l.MutualAuthentication; m != nil && m.TrustStoreArn != nil {
		if err := trustStoreArn.check(*m.TrustStoreArn); err != nil {
			return err
		}
		if ok, err := tx.Exists(s.Key(kindTrustStore, *m.TrustStoreArn)); err != nil {
			return err
		} else if !ok {
			return errTrustStoreNotFound()
		}
	}
	secure := l.Protocol == types.ProtocolEnumHttps || l.Protocol == types.ProtocolEnumTls
	if !secure {
		l.Certificates, l.SslPolicy = nil, nil
		if len(l.AlpnPolicy) > 0 {
			return errValidation("An ALPN policy can only be specified for TLS listeners")
		}
		return nil
	}
	switch {
	case len(l.Certificates) == 0:
		return errValidation("A certificate must be specified for %s listeners", l.Protocol)
	case len(l.Certificates) > 1:
		// A listener takes one (default) certificate; others go through
		// AddListenerCertificates: "Up to '1' certificate ARNs can be
		// specified, but '2' were specified" (aws/aws-cdk#3757,
		// aws/aws-cdk#16509, where CloudFormation reports it as a
		// limit: TooManyCertificates).
		return awsproto.Modeled(&types.TooManyCertificatesException{}, "Up to '1' certificate ARNs can be specified, but '%d' were specified", len(l.Certificates))
	case !certificateArn.MatchString(aws.ToString(l.Certificates[0].CertificateArn)):
		// The text is berth's, worded as for the other ARNs.
		return errValidation("'%s' is not a valid certificate ARN", aws.ToString(l.Certificates[0].CertificateArn))
	}
	if l.SslPolicy == nil {
		l.SslPolicy = aws.String(defaultSSLPolicy)
	}
	for _, p := range l.AlpnPolicy {
		if l.Protocol != types.ProtocolEnumTls {
			return errValidation("An ALPN policy can only be specified for TLS listeners")
		}
		if !slices.Contains(alpnPolicies, p) {
			return awsproto.Modeled(&types.ALPNPolicyNotSupportedException{}, "ALPN policy '%s' not found", p)
		}
	}
	if !slices.ContainsFunc(sslPolicies, func(p types.SslPolicy) bool { return *p.Name == *l.SslPolicy }) {
		return awsproto.Modeled(&types.SSLPolicyNotFoundException{}, "SSL policy '%s' not found", *l.SslPolicy)
	}
	return nil
}

// certificateArn matches an ACM certificate or IAM server certificate ARN.
var certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/.+|iam::\d{12}:server-certificate/.+)$`)

// validListenerRequest checks what a CreateListener or ModifyListener
// request gives against the protocol the listener will have. Certificates
// and an SSL policy are for HTTPS and TLS listeners only: "A certificate
// cannot be specified for HTTP listeners" (awslabs/fargatecli#104); "An
// SSL policy cannot be specifed for HTTP listeners" (sic;
// theopensystemslab/planx-new#1051), "... for TCP listeners"
// (kubernetes-sigs/aws-load-balancer-controller#1661). IsDefault is not
// the caller's to set: "You cannot set the isDefault parameter for a
// certificate." (boto/boto3#1601). Mutual TLS is for HTTPS listeners, and
// verify mode needs a trust store (API_MutualAuthenticationAttributes);
// those two texts are berth's.
func validListenerRequest(protocol types.ProtocolEnum, certs []types.Certificate, sslPolicy *string, mutual *types.MutualAuthenticationAttributes) error {
	secure := protocol == types.ProtocolEnumHttps || protocol == types.ProtocolEnumTls
	if !secure && protocol != "" && len(certs) > 0 {
		return errValidation("A certificate cannot be specified for %s listeners", protocol)
	}
	if !secure && protocol != "" && sslPolicy != nil {
		return errValidation("An SSL policy cannot be specifed for %s listeners", protocol)
	}
	for _, c := range certs {
		if c.IsDefault != nil {
			return errValidation("You cannot set the isDefault parameter for a certificate.")
		}
	}
	if mutual == nil {
		return nil
	}
	mode := aws.ToString(mutual.Mode)
	if protocol != types.ProtocolEnumHttps && mode != "" && mode != "off" {
		return errValidation("Mutual authentication can only be configured on HTTPS listeners, not on %s listeners", protocol)
	}
	if mode == "verify" && aws.ToString(mutual.TrustStoreArn) == "" {
		return errValidation("A trust store ARN must be specified for mutual authentication in 'verify' mode")
	}
	return nil
}

// putListener stores a listener under its load balancer, indexed by port.
func putListener(tx *sqlite.Tx, s scope, l types.Listener) error {
	return tx.Put(s.Row(kindListener, *l.ListenerArn, *l.LoadBalancerArn, itoa(aws.ToInt32(l.Port))), l)
}

func (b *Backend) listener(tx *sqlite.Tx, s scope, arn string) (types.Listener, error) {
	var l types.Listener
	if err := listenerArn.check(arn); err != nil {
		return l, err
	}
	err := tx.Get(s.Key(kindListener, arn), &l)
	if isNotFound(err) {
		return l, errListenerNotFound()
	}
	return l, err
}

// DescribeListeners describes the listeners of a load balancer or the
// listeners named.
func (b *Backend) DescribeListeners(ctx context.Context, in *elbv2api.DescribeListenersInput) (*elbv2api.DescribeListenersOutput, error) {
	s := scopeOf(ctx)
	if (in.LoadBalancerArn == nil) == (len(in.ListenerArns) == 0) {
		return nil, errValidation("Either a load balancer ARN or listener ARNs must be specified, but not both")
	}
	out := &elbv2api.DescribeListenersOutput{Listeners: []types.Listener{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if in.LoadBalancerArn != nil {
			if _, err := b.loadBalancer(tx, s, *in.LoadBalancerArn); isNotFound(err) {
				return errLoadBalancerNotFound()
			} else if err != nil {
				return err
			}
			q, err := page(s.Query(kindListener, *in.LoadBalancerArn), in.Marker, in.PageSize, 400)
			if err != nil {
				return err
			}
			ls, next, err := sqlite.ListPage[types.Listener](tx, q, nil)
			out.Listeners = append(out.Listeners, ls...)
			out.NextMarker, err = marker(next, err)
			return err
		}
		for _, arn := range in.ListenerArns {
			l, err := b.listener(tx, s, arn)
			if err != nil {
				return err
			}
			out.Listeners = append(out.Listeners, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ModifyListener changes a listener's port, protocol, certificates, policy
// or default actions; members left out keep their values.
func (b *Backend) ModifyListener(ctx context.Context, in *elbv2api.ModifyListenerInput) (*elbv2api.ModifyListenerOutput, error) {
	s := scopeOf(ctx)
	var l types.Listener
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		var err error
		if l, err = b.listener(tx, s, aws.ToString(in.ListenerArn)); err != nil {
			return err
		}
		lb, err := b.loadBalancer(tx, s, *l.LoadBalancerArn)
		if err != nil {
			return err
		}
		if in.Port != nil {
			l.Port = in.Port
		}
		if in.Protocol != "" {
			l.Protocol = in.Protocol
		}
		if in.Certificates != nil {
			l.Certificates = in.Certificates
		}
		if in.SslPolicy != nil {
			l.SslPolicy = in.SslPolicy
		}
		if in.AlpnPolicy != nil {
			l.AlpnPolicy = in.AlpnPolicy
		}
		if in.MutualAuthentication != nil {
			l.MutualAuthentication = in.MutualAuthentication
		}
		if err := validListenerRequest(l.Protocol, in.Certificates, in.SslPolicy, in.MutualAuthentication); err != nil {
			return err
		}
		if err := validListener(tx, s, lb, &l, *l.ListenerArn); err != nil {
			return err
		}
		if in.Certificates != nil {
			if err := requireCertificates(tx, s, l.Certificates); err != nil {
				return err
			}
		}
		def, err := b.defaultRule(tx, s, *l.ListenerArn)
		if err != nil {
			return err
		}
		actions := l.DefaultActions
		if in.DefaultActions != nil {
			actions = in.DefaultActions
		}
		checked, tgs, err := b.validActions(tx, s, listenerContext{lb, l.Protocol}, actions)
		if err != nil {
			return err
		}
		old := def
		l.DefaultActions, def.Actions = checked, checked
		if err := putListener(tx, s, l); err != nil {
			return err
		}
		return b.putRule(tx, s, *l.ListenerArn, def, &old, tgs)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyListenerOutput{Listeners: []types.Listener{l}}, nil
}

// DeleteListener deletes a listener with its rules.
func (b *Backend) DeleteListener(ctx context.Context, in *elbv2api.DeleteListenerInput) (*elbv2api.DeleteListenerOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		l, err := b.listener(tx, s, aws.ToString(in.ListenerArn))
		if err != nil {
			return err
		}
		return b.deleteListener(tx, s, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteListenerOutput{}, nil
}

func (b *Backend) deleteListener(tx *sqlite.Tx, s scope, l types.Listener) error {
	rules, err := sqlite.ListAll[types.Rule](tx, s.Query(kindRule, *l.ListenerArn))
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := b.deleteRule(tx, s, *l.ListenerArn, r); err != nil {
			return err
		}
	}
	certs, err := sqlite.ListAll[types.Certificate](tx, s.Query(kindListenerCertificate, *l.ListenerArn))
	if err != nil {
		return err
	}
	for _, c := range certs {
		if err := tx.Delete(s.Key(kindListenerCertificate, *l.ListenerArn+" "+*c.CertificateArn)); err != nil {
			return err
		}
	}
	for _, k := range []string{kindListener, kindAttributes, kindTags} {
		if err := tx.Delete(s.Key(k, *l.ListenerArn)); err != nil {
			return err
		}
	}
	return nil
}

// listenerAttributeSet finds a listener's attributes.
func (b *Backend) listenerAttributeSet(arn *string) attributeSet {
	return func(tx *sqlite.Tx, s scope) (string, []attribute, error) {
		l, err := b.listener(tx, s, aws.ToString(arn))
		return aws.ToString(l.ListenerArn), listenerAttributes(l.Protocol), err
	}
}

func toListenerAttribute(kv keyValue) types.ListenerAttribute {
	return types.ListenerAttribute{Key: kv.Key, Value: kv.Value}
}

// DescribeListenerAttributes returns every attribute of the listener's
// protocol with its current value.
func (b *Backend) DescribeListenerAttributes(ctx context.Context, in *elbv2api.DescribeListenerAttributesInput) (*elbv2api.DescribeListenerAttributesOutput, error) {
	attrs, err := b.describeAttributes(ctx, b.listenerAttributeSet(in.ListenerArn))
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeListenerAttributesOutput{Attributes: convert(attrs, toListenerAttribute)}, nil
}

// ModifyListenerAttributes changes attributes and returns all of them.
func (b *Backend) ModifyListenerAttributes(ctx context.Context, in *elbv2api.ModifyListenerAttributesInput) (*elbv2api.ModifyListenerAttributesOutput, error) {
	change := convert(in.Attributes, func(a types.ListenerAttribute) keyValue { return keyValue{a.Key, a.Value} })
	attrs, err := b.modifyAttributes(ctx, b.listenerAttributeSet(in.ListenerArn), change, attributeRules{unknown: unknownAttribute("Listener")})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyListenerAttributesOutput{Attributes: convert(attrs, toListenerAttribute)}, nil
}

// AddListenerCertificates adds certificates to an HTTPS or TLS listener's
// certificate list (used by SNI).
func (b *Backend) AddListenerCertificates(ctx context.Context, in *elbv2api.AddListenerCertificatesInput) (*elbv2api.AddListenerCertificatesOutput, error) {
	s := scopeOf(ctx)
	if len(in.Certificates) == 0 {
		return nil, errValidation("Certificates must be specified")
	}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		l, err := b.listener(tx, s, aws.ToString(in.ListenerArn))
		if err != nil {
			return err
		}
		if l.Protocol != types.ProtocolEnumHttps && l.Protocol != types.ProtocolEnumTls {
			return errInvalidConfiguration("Certificates can only be added to HTTPS and TLS listeners")
		}
		for _, c := range in.Certificates {
			if c.IsDefault != nil { // boto/boto3#3727
				return errValidation("You cannot set the isDefault parameter for a certificate.")
			}
		}
		n, err := tx.Count(s.Query(kindListenerCertificate, *l.ListenerArn))
		if err != nil {
			return err
		}
		if n+len(in.Certificates) > 25 {
			return awsproto.Modeled(&types.TooManyCertificatesException{}, "You've reached the limit of 25 certificates per listener")
		}
		if err := requireCertificates(tx, s, in.Certificates); err != nil {
			return err
		}
		for _, c := range in.Certificates {
			c.IsDefault = aws.Bool(false)
			if err := tx.Put(s.Row(kindListenerCertificate, *l.ListenerArn+" "+*c.CertificateArn, *l.ListenerArn, ""), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.AddListenerCertificatesOutput{Certificates: convert(in.Certificates, func(c types.Certificate) types.Certificate {
		return types.Certificate{CertificateArn: c.CertificateArn, IsDefault: aws.Bool(false)}
	})}, nil
}

// RemoveListenerCertificates removes non-default certificates.
func (b *Backend) RemoveListenerCertificates(ctx context.Context, in *elbv2api.RemoveListenerCertificatesInput) (*elbv2api.RemoveListenerCertificatesOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		l, err := b.listener(tx, s, aws.ToString(in.ListenerArn))
		if err != nil {
			return err
		}
		for _, c := range in.Certificates {
			if len(l.Certificates) > 0 && aws.ToString(l.Certificates[0].CertificateArn) == aws.ToString(c.CertificateArn) {
				return errOperationNotPermitted("The default certificate of a listener cannot be removed")
			}
			if err := tx.Delete(s.Key(kindListenerCertificate, *l.ListenerArn+" "+aws.ToString(c.CertificateArn))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveListenerCertificatesOutput{}, nil
}

// DescribeListenerCertificates lists a listener's default certificate and
// the certificates added to it.
func (b *Backend) DescribeListenerCertificates(ctx context.Context, in *elbv2api.DescribeListenerCertificatesInput) (*elbv2api.DescribeListenerCertificatesOutput, error) {
	s := scopeOf(ctx)
	out := &elbv2api.DescribeListenerCertificatesOutput{Certificates: []types.Certificate{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		l, err := b.listener(tx, s, aws.ToString(in.ListenerArn))
		if err != nil {
			return err
		}
		for _, c := range l.Certificates {
			out.Certificates = append(out.Certificates, types.Certificate{CertificateArn: c.CertificateArn, IsDefault: aws.Bool(true)})
		}
		extra, err := sqlite.ListAll[types.Certificate](tx, s.Query(kindListenerCertificate, *l.ListenerArn))
		out.Certificates = append(out.Certificates, extra...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
