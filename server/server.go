// Package server is berth's HTTP entry: it authenticates and scopes each
// request, finds its service and operation, decodes the input with the
// service's wire protocol, calls the backend and writes the result or the
// error in that protocol. Handlers (backend methods) never see HTTP.
package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/awsproto/json11"
	"berth/awsproto/query"
	"berth/awsproto/restxml"
	"berth/awsproto/rpcv2cbor"
	"berth/awsproto/sigv4"
	"berth/backend"
	acmbackend "berth/backend/acm"
	aasbackend "berth/backend/appautoscaling"
	asbackend "berth/backend/autoscaling"
	cwbackend "berth/backend/cloudwatch"
	ec2backend "berth/backend/ec2"
	ecrbackend "berth/backend/ecr"
	ecsbackend "berth/backend/ecs"
	elbv2backend "berth/backend/elbv2"
	iambackend "berth/backend/iam"
	logsbackend "berth/backend/logs"
	r53backend "berth/backend/route53"
	smbackend "berth/backend/secretsmanager"
	sdbackend "berth/backend/servicediscovery"
	ssmbackend "berth/backend/ssm"
	stsbackend "berth/backend/sts"
)

// Config says how requests are authenticated and scoped.
type Config struct {
	// DefaultAccount and DefaultRegion scope requests that carry no
	// signature, and accounts of access keys not in Accounts.
	DefaultAccount string
	DefaultRegion  string
	// Accounts maps access key ids to account ids.
	Accounts map[string]string
	// Secrets maps access key ids to secret keys. When VerifySignatures is
	// set, every API request and reset must carry a current signature by
	// one of these keys (or by temporary credentials STS issued).
	Secrets          map[string]string
	VerifySignatures bool
	// Clock is the time signatures are checked against; nil is time.Now.
	Clock func() time.Time
	// Instance is the berth instance id that /_berth/health reports: the
	// value of the berth.instance label on what it creates.
	Instance string
	// Registry is the host:port of berth's image registry, which
	// /_berth/health reports.
	Registry string
	// DNS is the host:port of berth's DNS server ("" for none), which
	// /_berth/health reports.
	DNS string
}

// Backends are the services berth serves.
type Backends struct {
	ECS   *ecsbackend.Backend
	ELBv2 *elbv2backend.Backend
	ACM   *acmbackend.Backend
	ECR   *ecrbackend.Backend
	EC2   *ec2backend.Backend
	IAM   *iambackend.Backend
	// AutoScaling is EC2 Auto Scaling.
	AutoScaling *asbackend.Backend
	// AppAutoScaling is Application Auto Scaling (ECS services).
	AppAutoScaling *aasbackend.Backend
	Logs           *logsbackend.Backend
	// CloudWatch is CloudWatch metrics.
	CloudWatch *cwbackend.Backend
	// SSM is Systems Manager Parameter Store.
	SSM            *ssmbackend.Backend
	SecretsManager *smbackend.Backend
	// ServiceDiscovery is AWS Cloud Map.
	ServiceDiscovery *sdbackend.Backend
	// Route53 is Amazon Route 53's DNS API.
	Route53 *r53backend.Backend
	// STS also vouches for the temporary credentials it issued.
	STS *stsbackend.Backend
	// CA is the PEM of berth's certificate authority, served at
	// /_berth/ca.pem.
	CA []byte
	// Reset wipes every resource and what runs for them: POST
	// /_berth/reset, and /moto-api/reset for suites written for moto.
	Reset func(context.Context) error
}

// Server is the HTTP handler for every AWS API berth speaks.
type Server struct {
	cfg   Config
	ids   backend.IDs
	log   zerolog.Logger
	json  map[string]jsonService  // by X-Amz-Target prefix
	query map[string]queryService // by SigV4 signing name
	cbor  map[string]jsonService  // Smithy RPC v2 CBOR, by service name
	rest  []restService           // REST-XML services, by path prefix
	sts   *stsbackend.Backend
	hosts func(context.Context) ([]elbv2backend.Host, error)
	ca    []byte
	reset func(context.Context) error
}

// jsonService is a service of the AWS JSON 1.1 or 1.0 protocol, or of
// Smithy RPC v2 CBOR.
type jsonService struct {
	name  string // as logged
	codec json11.Codec
	table
	// queryErrors, for a service that also speaks the query protocol
	// (awsQueryCompatible), maps the query error codes its backend
	// returns to the error shape names the JSON and CBOR protocols carry
	// in __type; the query code goes in the X-Amzn-Query-Error header.
	queryErrors map[string]string
}

// cloudWatchErrors are CloudWatch's query error codes and their shape
// names, from the service model.
var cloudWatchErrors = map[string]string{
	"InvalidParameterValue":       "InvalidParameterValueException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"MissingParameter":            "MissingRequiredParameterException",
	"InvalidNextToken":            "InvalidNextToken",
	"InternalServiceError":        "InternalServiceFault",
	"LimitExceeded":               "LimitExceededFault",
	"ResourceNotFound":            "ResourceNotFound",
	"InvalidFormat":               "InvalidFormatFault",
}

// restService is a service of the REST-XML protocol, whose requests are
// told by the API version that starts their paths (/2013-04-01/ for
// Route 53).
type restService struct {
	name     string // its SigV4 signing name, as logged
	prefix   string // the path prefix of its operations
	bindings *restxml.Service
	invalid  string // its error code for input that does not decode
	table
}

// queryService is a service of the AWS query protocol.
type queryService struct {
	name    string // its SigV4 signing name, as logged
	version string // the API version its requests carry
	xmlns   string // "" for the EC2 dialect
	table
}

// New returns a server for the backends.
func New(cfg Config, b Backends, ids backend.IDs, log zerolog.Logger) *Server {
	// CloudWatch answers in three protocols: the aws CLI and boto3 send
	// AWS JSON 1.0, aws-sdk-go-v2 Smithy RPC v2 CBOR, older SDKs (and
	// the Terraform provider's) the query protocol.
	cloudWatch := newTable(&cloudwatch.Client{}, b.CloudWatch, validator{queryFault("InvalidParameterValue"), modelConstraints["monitoring"]})
	cloudWatchJSON := jsonService{"monitoring", json11.Codec{KeepCase: true, JSON10: true}, cloudWatch, cloudWatchErrors}
	return &Server{
		cfg: cfg,
		ids: ids,
		log: log,
		json: map[string]jsonService{
			"AmazonEC2ContainerServiceV20141113":   {"ecs", json11.Codec{}, newTable(&ecs.Client{}, b.ECS, validator{coralFault("InvalidParameterException"), modelConstraints["ecs"]}), nil},
			"CertificateManager":                   {"acm", json11.Codec{KeepCase: true}, newTable(&acm.Client{}, b.ACM, validator{coralFault("ValidationException"), modelConstraints["acm"]}), nil},
			"AmazonEC2ContainerRegistry_V20150921": {"ecr", json11.Codec{KeepCaseOf: []reflect.Type{reflect.TypeFor[ecrtypes.Tag]()}}, newTable(&ecr.Client{}, b.ECR, validator{coralFault("InvalidParameterException"), modelConstraints["ecr"]}), nil},
			"Logs_20140328":                        {"logs", json11.Codec{}, newTable(&cloudwatchlogs.Client{}, b.Logs, validator{coralFault("InvalidParameterException"), modelConstraints["logs"]}), nil},
			"AmazonSSM":                            {"ssm", json11.Codec{KeepCase: true}, newTable(&ssm.Client{}, b.SSM, validator{except(coralFault("ValidationException"), "type"), modelConstraints["ssm"]}), nil},
			"secretsmanager":                       {"secretsmanager", json11.Codec{KeepCase: true}, newTable(&secretsmanager.Client{}, b.SecretsManager, validator{coralFault("ValidationException"), modelConstraints["secretsmanager"]}), nil},
			"GraniteServiceVersion20100801":        cloudWatchJSON,
			// Cloud Map refuses input failing the model's constraints with
			// InvalidInput in the common validation's words ("1 validation
			// error detected: Value null at 'id' failed to satisfy
			// constraint: Member must not be null ... Error Code:
			// InvalidInput", https://github.com/aws/aws-sdk-java/issues/1973).
			"Route53AutoNaming_v20170314": {"servicediscovery", json11.Codec{KeepCase: true}, newTable(&servicediscovery.Client{}, b.ServiceDiscovery, validator{coralFault("InvalidInput"), modelConstraints["servicediscovery"]}), nil},
			"AnyScaleFrontendService":     {"application-autoscaling", json11.Codec{KeepCase: true}, newTable(&applicationautoscaling.Client{}, b.AppAutoScaling, validator{coralFault("ValidationException"), modelConstraints["application-autoscaling"]}), nil},
		},
		cbor: map[string]jsonService{
			"GraniteServiceVersion20100801": cloudWatchJSON,
		},
		rest: []restService{
			// Route 53 checks its inputs' constraints in the backend,
			// with its own InvalidInput messages.
			{"route53", "/2013-04-01/", restxml.Route53(), "InvalidInput", newTable(&route53.Client{}, b.Route53, validator{})},
		},
		query: map[string]queryService{
			// EC2 is no service of AWS's common input validation: each
			// member has its own error (InvalidInstanceType, ...), which
			// the backend gives.
			"ec2":                  {"ec2", "2016-11-15", "", newTable(&ec2.Client{}, b.EC2, validator{})},
			"autoscaling":          {"autoscaling", "2011-01-01", "http://autoscaling.amazonaws.com/doc/2011-01-01/", newTable(&autoscaling.Client{}, b.AutoScaling, validator{coralFault("ValidationError"), modelConstraints["autoscaling"]})},
			"elasticloadbalancing": {"elasticloadbalancing", "2015-12-01", "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", newTable(&elasticloadbalancingv2.Client{}, b.ELBv2, validator{coralFault("ValidationError"), modelConstraints["elasticloadbalancing"]})},
			"iam":                  {"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/", newTable(&iam.Client{}, b.IAM, validator{coralFault("ValidationError"), modelConstraints["iam"]})},
			"sts":                  {"sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/", newTable(&sts.Client{}, b.STS, validator{coralFault("ValidationError"), modelConstraints["sts"]})},
			"monitoring":           {"monitoring", "2010-08-01", "http://monitoring.amazonaws.com/doc/2010-08-01/", cloudWatch},
		},
		sts:   b.STS,
		hosts: b.ELBv2.Hosts,
		ca:    b.CA,
		reset: b.Reset,
	}
}

// maxBody bounds request bodies. The largest request berth serves is an
// ECR PutImage, whose manifest ECR takes up to 4 MiB
// (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html);
// escaped in JSON it stays well within this. Larger bodies are
// RequestEntityTooLargeException, 413, as in the common errors
// (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html).
const maxBody = 16 << 20

// request is one API call in flight.
type request struct {
	id        string
	service   string
	operation string
	status    int
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &request{id: s.requestID()}
	defer func() {
		ev := s.log.Info()
		if req.status >= 500 {
			ev = s.log.Error()
		}
		ev.Str("request_id", req.id).Str("service", req.service).Str("operation", req.operation).
			Int("status", req.status).Dur("latency", time.Since(start)).Msg("request")
	}()
	if strings.HasPrefix(r.URL.Path, "/_berth/") || strings.HasPrefix(r.URL.Path, "/moto-api/") {
		req.service = "berth"
		if crossSite(r) {
			req.status = http.StatusForbidden
			http.Error(w, "berth refuses requests from web pages of other sites", req.status)
			return
		}
	}
	if r.URL.Path == "/_berth/health" {
		req.service, req.operation, req.status = "berth", "health", http.StatusOK
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","instance":%q,"registry":%q,"dns":%q}`, s.cfg.Instance, s.cfg.Registry, s.cfg.DNS)
		return
	}
	if r.URL.Path == "/_berth/ca.pem" {
		req.service, req.operation, req.status = "berth", "ca", http.StatusOK
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(s.ca)
		return
	}
	if r.URL.Path == "/_berth/hosts" {
		req.service, req.operation = "berth", "hosts"
		s.serveHosts(w, r, req)
		return
	}
	if r.URL.Path == "/_berth/reset" || r.URL.Path == "/moto-api/reset" {
		req.service, req.operation = "berth", "reset"
		s.serveReset(w, r, req)
		return
	}
	if r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		s.serveCBOR(w, r, req)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, req, target)
		return
	}
	for i := range s.rest {
		if strings.HasPrefix(r.URL.Path, s.rest[i].prefix) {
			s.serveREST(w, r, req, &s.rest[i])
			return
		}
	}
	s.serveQuery(w, r, req)
}

// serveHosts answers with an /etc/hosts line per load balancer: its local
// address and DNS name.
func (s *Server) serveHosts(w http.ResponseWriter, r *http.Request, req *request) {
	hosts, err := s.hosts(r.Context())
	if err != nil {
		req.status = http.StatusInternalServerError
		http.Error(w, err.Error(), req.status)
		return
	}
	req.status = http.StatusOK
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, h := range hosts {
		fmt.Fprintf(w, "%s\t%s\n", h.Address, h.DNSName)
	}
}

// serveReset wipes berth's state on POST.
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request, req *request) {
	switch {
	case r.Method != http.MethodPost:
		req.status = http.StatusMethodNotAllowed
		http.Error(w, "POST to reset", req.status)
		return
	case s.reset == nil:
		req.status = http.StatusNotImplemented
		http.Error(w, "this berth cannot reset", req.status)
		return
	}
	if s.cfg.VerifySignatures {
		// A reset wipes every account: with verification on it takes a
		// signature as an API call does (any signing name and region).
		if _, _, err := s.authenticate(r, protocolJSON); err != nil {
			req.status = s.writeJSONError(w, req, jsonService{}, err)
			return
		}
	}
	if err := s.reset(r.Context()); err != nil {
		s.log.Error().Err(err).Msg("reset")
		req.status = http.StatusInternalServerError
		http.Error(w, err.Error(), req.status)
		return
	}
	req.status = http.StatusOK
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"status":"ok"}`)
}

func (s *Server) requestID() string { return backend.NewUUID(s.ids) }

// caller is who sent a request: its scope, and the signing name and
// access key of its signature ("" when unsigned).
type caller struct {
	scope              backend.Scope
	service, accessKey string
}

// context returns ctx carrying the caller's scope and access key.
func (c caller) context(ctx context.Context) context.Context {
	return backend.WithCaller(backend.WithScope(ctx, c.scope), c.accessKey)
}

// protocol is a wire protocol, for the errors whose code differs by
// protocol.
type protocol int

const (
	protocolJSON protocol = iota
	protocolQuery
)

// missingSignature is the error for an unsigned request when signatures
// are verified: MissingAuthenticationToken, 403, in the query protocol's
// common errors
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html);
// JSON services name their exceptions with the Exception suffix on the
// wire, as the SDKs' error deserializers expect.
func missingSignature(p protocol) *awsproto.Error {
	code := "MissingAuthenticationToken"
	if p == protocolJSON {
		code += "Exception"
	}
	return awsproto.StatusError(http.StatusForbidden, code, "Request is missing Authentication Token")
}

// unknownKey is the error for a signature by an access key berth does not
// know: InvalidClientTokenId in the query protocol
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html),
// UnrecognizedClientException in JSON services
// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html); both 403.
func unknownKey(p protocol) *awsproto.Error {
	if p == protocolJSON {
		return awsproto.StatusError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return awsproto.StatusError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// authenticate reads the body and the signature and returns the caller.
// Requests without a signature get the default account and region, unless
// signatures are verified, when they are refused; temporary credentials
// from STS get the account they were issued in.
func (s *Server) authenticate(r *http.Request, p protocol) ([]byte, caller, error) {
	body, c, err := s.authenticateRaw(r, p)
	if err != nil {
		return body, c, err
	}
	body, err = decompress(r, body)
	return body, c, err
}

// tooLarge is the error for a body over maxBody.
func tooLarge() *awsproto.Error {
	return awsproto.StatusError(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "The request body exceeds %d bytes.", maxBody)
}

// authenticateRaw is authenticate on the body as sent.
func (s *Server) authenticateRaw(r *http.Request, p protocol) ([]byte, caller, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, s.anonymous(), err
	}
	c, err := s.verify(r, body, p)
	return body, c, err
}

// readBody reads the request's body, up to maxBody.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBody {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, awsproto.SerializationError("could not read the request body: %v", err)
	}
	if len(body) > maxBody {
		return nil, tooLarge()
	}
	return body, nil
}

// anonymous is the caller of an unsigned request.
func (s *Server) anonymous() caller {
	return caller{scope: backend.Scope{Account: s.cfg.DefaultAccount, Region: s.cfg.DefaultRegion}}
}

// validRegion reports whether region can be an AWS region's name: lower
// case letters, digits and hyphens (us-east-1, us-gov-west-1), as it goes
// into the ARNs of what the caller creates.
func validRegion(region string) bool {
	if region == "" || len(region) > 32 {
		return false
	}
	for _, c := range []byte(region) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// badRegion is the error for a credential scope whose region is no
// region's name: AWS answers SignatureDoesNotMatch
// (https://github.com/versity/versitygw/issues/192) or, in JSON services,
// InvalidSignatureException
// (https://github.com/aws/aws-sdk-js-v3/issues/5576), 403, "Credential
// should be scoped to a valid region".
func badRegion(p protocol, region string) *awsproto.Error {
	code := "SignatureDoesNotMatch"
	if p == protocolJSON {
		code = "InvalidSignatureException"
	}
	return awsproto.StatusError(http.StatusForbidden, code, "Credential should be scoped to a valid region, not '%s'.", region)
}

// verify checks the signature of a request whose body (as sent) is body
// and returns its caller.
func (s *Server) verify(r *http.Request, body []byte, p protocol) (caller, error) {
	c := s.anonymous()
	cred, signed, err := sigv4.Parse(r)
	if err != nil {
		return c, err
	}
	if !signed {
		if s.cfg.VerifySignatures {
			return c, missingSignature(p)
		}
		return c, nil
	}
	if !validRegion(cred.Region) {
		return c, badRegion(p, cred.Region)
	}
	c.service, c.accessKey = cred.Service, cred.AccessKey
	account, ok := s.cfg.Accounts[cred.AccessKey]
	secret, known := s.cfg.Secrets[cred.AccessKey]
	token := "" // the session token temporary credentials must carry
	if s.sts != nil {
		if tempAccount, tempSecret, tempToken, temporary, err := s.sts.Lookup(r.Context(), cred.AccessKey); err != nil {
			return c, err
		} else if temporary {
			account, ok, secret, token, known = tempAccount, true, tempSecret, tempToken, true
		}
	}
	if s.cfg.VerifySignatures {
		if !known {
			return c, unknownKey(p)
		}
		// Temporary credentials need their session token, a long-term key
		// none: AWS answers a missing, wrong or spare token as an invalid one.
		if subtle.ConstantTimeCompare([]byte(token), []byte(sessionToken(r, cred))) != 1 {
			return c, unknownKey(p)
		}
		now := time.Now
		if s.cfg.Clock != nil {
			now = s.cfg.Clock
		}
		if err := sigv4.Verify(r, body, cred, secret, now()); err != nil {
			return c, err
		}
	}
	if ok {
		c.scope.Account = account
	}
	c.scope.Region = cred.Region
	return c, nil
}

// crossSite reports whether a web browser sent r for a page of another
// site or origin (the Fetch metadata of
// https://www.w3.org/TR/fetch-metadata/, or an Origin header naming
// another host): the SDKs, the CLI and Terraform send neither, and
// without --verify-signatures any page a developer visits could
// otherwise drive berth.
func crossSite(r *http.Request) bool {
	switch strings.ToLower(r.Header.Get("Sec-Fetch-Site")) {
	case "cross-site", "same-site":
		return true
	}
	if origins := r.Header.Values("Origin"); len(origins) > 0 {
		u, err := url.Parse(origins[0])
		return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
	}
	return false
}

// crossSiteError is the error for a request crossSite refuses: access
// denied, 403, in the service's protocol.
func crossSiteError(p protocol) *awsproto.Error {
	code := "AccessDenied"
	if p == protocolJSON {
		code = "AccessDeniedException"
	}
	return awsproto.StatusError(http.StatusForbidden, code, "berth refuses requests from web pages of other sites (Sec-Fetch-Site or Origin).")
}

// decompress undoes a request's Content-Encoding gzip, which the SDKs
// apply to the operations modelled with request compression (CloudWatch
// PutMetricData) after signing the compressed body
// (https://smithy.io/2.0/spec/behavior-traits.html#requestcompression-trait).
// The result is bounded as bodies are.
func decompress(r *http.Request, body []byte) ([]byte, error) {
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, awsproto.SerializationError("the gzip request body is malformed: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxBody+1))
	if err != nil {
		return nil, awsproto.SerializationError("the gzip request body is malformed: %v", err)
	}
	if len(out) > maxBody {
		return nil, tooLarge()
	}
	return out, nil
}

// sessionToken is the session token a request carries with its
// signature: the X-Amz-Security-Token header, or the parameter of a
// presigned request
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
func sessionToken(r *http.Request, c sigv4.Credential) string {
	if c.Presigned {
		return r.URL.Query().Get("X-Amz-Security-Token")
	}
	return r.Header.Get("X-Amz-Security-Token")
}

// serveJSON serves an AWS JSON 1.1 request (ECS, ACM), or JSON 1.0
// (CloudWatch).
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, req *request, target string) {
	// The service, from the target, comes first: every error, even of the
	// signature or the body, is answered in its protocol.
	prefix, name, _ := strings.Cut(target, ".")
	svc, known := s.json[prefix]
	req.service, req.operation = svc.name, name
	fail := func(err error) { req.status = s.writeJSONError(w, req, svc, err) }
	switch {
	case crossSite(r):
		fail(crossSiteError(protocolJSON))
		return
	// AWS JSON 1.0 and 1.1 requests are POST / (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
	case r.URL.Path != "/":
		fail(awsproto.StatusError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s at path %s", target, r.URL.Path))
		return
	case r.Method != http.MethodPost:
		fail(awsproto.StatusError(http.StatusMethodNotAllowed, "UnknownOperationException", "The HTTP method %s is not supported.", r.Method))
		return
	}
	body, who, err := s.authenticate(r, protocolJSON)
	if err != nil {
		fail(err)
		return
	}
	if !known {
		fail(awsproto.ClientError("UnknownOperationException", "Unknown operation %s", target))
		return
	}
	op, ok := svc.ops[name]
	if !ok {
		if svc.known[name] {
			fail(awsproto.ClientError("UnsupportedFeatureException", "berth does not support the %s operation %s.", strings.ToUpper(svc.name), name))
		} else {
			fail(awsproto.ClientError("UnknownOperationException", "Unknown operation %s", target))
		}
		return
	}
	out, err := s.invoke(who.context(r.Context()), op, func(v any) error { return svc.codec.Decode(body, v) })
	if err != nil {
		fail(err)
		return
	}
	req.status = http.StatusOK
	svc.codec.WriteResponse(w, req.id, out)
}

// validUTF8 reports whether every name and value of a form is UTF-8.
func validUTF8(form url.Values) bool {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// serveQuery serves an AWS query request (ELBv2, IAM, STS, Auto Scaling, and EC2 in its
// dialect), routed by its signing name or, unsigned, by its API version.
// The service is found first, from the credential scope or else the
// Version parameter, so that every error, even of the signature or the
// body, is answered in its format and namespace.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, req *request) {
	svc := s.query["elasticloadbalancing"]
	fail := func(err error) { req.status = s.writeQueryError(w, req, svc, err) }
	cred, signed, _ := sigv4.Parse(r) // its error comes from verify, in the service's format
	named, byName := s.query[cred.Service]
	urlForm, urlErr := query.ParseForm(r.URL.RawQuery)
	switch {
	case byName:
		svc = named
	case urlErr == nil:
		svc = s.queryVersion(svc, urlForm.Get("Version"))
	}
	if crossSite(r) {
		fail(crossSiteError(protocolQuery))
		return
	}
	raw, err := readBody(r)
	if err != nil {
		fail(err)
		return
	}
	body, err := decompress(r, raw)
	if err != nil {
		fail(err)
		return
	}
	form, formErr := query.ParseForm(string(body))
	if formErr == nil && !byName && !signed {
		svc = s.queryVersion(svc, form.Get("Version"))
	}
	who, err := s.verify(r, raw, protocolQuery)
	if err != nil {
		fail(err)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		fail(awsproto.StatusError(http.StatusMethodNotAllowed, "InvalidAction", "The HTTP method %s is not supported.", r.Method))
		return
	}
	if formErr == nil {
		formErr = urlErr
	}
	if formErr != nil {
		fail(awsproto.ClientError("MalformedQueryString", "The request is not a valid form: %v", formErr))
		return
	}
	for k, v := range urlForm {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	// Parameters are UTF-8, percent-encoded byte by byte (SigV4's
	// canonical request: "extended UTF-8 characters must be in the form
	// %XY%ZA%BC",
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html);
	// other bytes would be stored as they came and answered as U+FFFD.
	if !validUTF8(form) {
		fail(awsproto.ClientError("MalformedQueryString", "The request body is not a valid form: not valid UTF-8"))
		return
	}
	if !byName && !signed {
		svc = s.queryVersion(svc, form.Get("Version"))
	}
	action := form.Get("Action")
	if action == "" {
		fail(awsproto.ClientError("MissingAction", "The request must contain the parameter Action."))
		return
	}
	req.service, req.operation = svc.name, action
	op, ok := svc.ops[action]
	switch {
	case !ok && svc.known[action]:
		fail(awsproto.ClientError("OperationNotPermitted", "berth does not support the %s action %s.", svc.name, action))
		return
	case !ok || form.Get("Version") != svc.version:
		fail(awsproto.ClientError("InvalidAction", "Could not find operation %s for version %s.", action, form.Get("Version")))
		return
	}
	decode := func(v any) error { return query.Decode(form, v) }
	if svc.xmlns == "" {
		decode = func(v any) error { return query.DecodeEC2(form, v) }
	}
	out, err := s.invoke(who.context(r.Context()), op, decode)
	if err != nil {
		fail(err)
		return
	}
	req.status = http.StatusOK
	if svc.xmlns == "" {
		query.WriteEC2Response(w, action, req.id, out)
		return
	}
	query.WriteResponse(w, svc.xmlns, action, req.id, out)
}

// queryVersion is the query service whose API version is version, or def.
func (s *Server) queryVersion(def queryService, version string) queryService {
	for _, q := range s.query {
		if version != "" && q.version == version {
			return q
		}
	}
	return def
}

// invoke calls op, turning a panic into an error so that a bug answers one
// request with a server fault instead of taking berth down.
func (s *Server) invoke(ctx context.Context, op operation, decode func(any) error) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Msg("operation panicked")
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return op.call(ctx, decode)
}

// apiError returns err as an *awsproto.Error, mapping anything unexpected to
// the protocol's internal error (logged, since it is a bug or an outage).
func (s *Server) apiError(req *request, err error, internalCode string) *awsproto.Error {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.Canceled) {
		return awsproto.ClientError("RequestCanceled", "The request was canceled.")
	}
	s.log.Error().Err(err).Str("request_id", req.id).Str("operation", req.operation).Msg("internal error")
	return &awsproto.Error{Code: internalCode, Message: "berth hit an internal error; see its log for request " + req.id, Status: http.StatusInternalServerError}
}

func (s *Server) writeJSONError(w http.ResponseWriter, req *request, svc jsonService, err error) int {
	ae := s.apiError(req, err, "ServerException")
	typ := svc.errorType(w, ae)
	svc.codec.WriteError(w, req.id, &awsproto.Error{Code: typ, Message: ae.Message, Status: ae.Status, Sender: ae.Sender, Fields: ae.Fields})
	return ae.Status
}

// errorType is the __type of an error of the service; for a service that
// also speaks the query protocol it sets the X-Amzn-Query-Error header
// with the query code and fault, which the SDKs report as the error's code.
func (svc jsonService) errorType(w http.ResponseWriter, ae *awsproto.Error) string {
	if svc.queryErrors == nil {
		return ae.Code
	}
	fault := "Sender"
	if !ae.Sender {
		fault = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", ae.Code+";"+fault)
	if typ, ok := svc.queryErrors[ae.Code]; ok {
		return typ
	}
	return ae.Code
}

// serveCBOR serves a Smithy RPC v2 CBOR request (CloudWatch from
// aws-sdk-go-v2): POST /service/{service}/operation/{operation}
// (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
func (s *Server) serveCBOR(w http.ResponseWriter, r *http.Request, req *request) {
	var svc jsonService
	fail := func(err error) {
		ae := s.apiError(req, err, "InternalFailure")
		rpcv2cbor.WriteError(w, req.id, svc.errorType(w, ae), ae)
		req.status = ae.Status
	}
	// The service, from the path, comes first: every error, even of the
	// signature or the body, is answered with its error shapes.
	rest, found := strings.CutPrefix(r.URL.Path, "/service/")
	service, name, _ := strings.Cut(rest, "/operation/")
	svc, ok := s.cbor[service]
	req.service, req.operation = svc.name, name
	switch {
	case crossSite(r):
		fail(crossSiteError(protocolJSON))
		return
	case !found || !ok || strings.Contains(name, "/"):
		fail(awsproto.StatusError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s", r.URL.Path))
		return
	case r.Method != http.MethodPost:
		fail(awsproto.StatusError(http.StatusMethodNotAllowed, "UnknownOperationException", "The HTTP method %s is not supported.", r.Method))
		return
	}
	body, who, err := s.authenticate(r, protocolJSON)
	if err != nil {
		fail(err)
		return
	}
	op, ok := svc.ops[name]
	if !ok {
		if svc.known[name] {
			fail(awsproto.ClientError("UnsupportedFeatureException", "berth does not support the %s operation %s.", strings.ToUpper(svc.name), name))
		} else {
			fail(awsproto.StatusError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s", r.URL.Path))
		}
		return
	}
	out, err := s.invoke(who.context(r.Context()), op, func(v any) error { return rpcv2cbor.Decode(body, v) })
	if err != nil {
		fail(err)
		return
	}
	req.status = http.StatusOK
	rpcv2cbor.WriteResponse(w, req.id, out)
}

func (s *Server) writeQueryError(w http.ResponseWriter, req *request, svc queryService, err error) int {
	ae := s.apiError(req, err, "InternalFailure")
	if svc.xmlns == "" {
		query.WriteEC2Error(w, req.id, ae)
	} else {
		query.WriteError(w, svc.xmlns, req.id, ae)
	}
	return ae.Status
}

// serveREST serves a REST-XML request (Route 53): the operation is the one
// whose method and URI pattern match.
// https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, req *request, svc *restService) {
	req.service = svc.name
	fail := func(err error) {
		ae := s.apiError(req, err, "InternalFailure")
		restxml.WriteError(w, svc.bindings, req.id, ae)
		req.status = ae.Status
		if st, ok := svc.bindings.Errors[ae.Code]; ok && ae.Status == http.StatusBadRequest {
			req.status = st
		}
	}
	if crossSite(r) {
		fail(crossSiteError(protocolQuery))
		return
	}
	body, who, err := s.authenticate(r, protocolQuery)
	if err != nil {
		fail(err)
		return
	}
	bound, labels, found, allowed := svc.bindings.Match(r.Method, r.URL.EscapedPath())
	switch {
	case !found && allowed:
		fail(awsproto.StatusError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The HTTP method %s is not allowed for %s.", r.Method, r.URL.Path))
		return
	case !found:
		fail(awsproto.StatusError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.Path))
		return
	}
	req.operation = bound.Name
	op, ok := svc.ops[bound.Name]
	if !ok {
		fail(awsproto.ClientError("UnsupportedFeatureException", "berth does not support the Route 53 operation %s.", bound.Name))
		return
	}
	q, err := query.ParseForm(r.URL.RawQuery)
	if err != nil {
		fail(awsproto.ClientError(svc.invalid, "The query string is not valid: %v", err))
		return
	}
	decode := func(v any) error {
		return restxml.Decode(restxml.Request{Op: bound, Labels: labels, Query: q, Header: r.Header, Body: body, Invalid: svc.invalid}, v)
	}
	out, err := s.invoke(who.context(r.Context()), op, decode)
	if err != nil {
		fail(err)
		return
	}
	req.status = bound.Status
	restxml.WriteResponse(w, svc.bindings, bound, req.id, out)
}
