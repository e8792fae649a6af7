// Package server is berth's HTTP entry: it authenticates and scopes each
// request, finds its service and operation, decodes the input with the
// service's wire protocol, calls the backend and writes the result or the
// error in that protocol. Handlers (backend methods) never see HTTP.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/awsproto/json11"
	"berth/awsproto/query"
	"berth/awsproto/sigv4"
	"berth/backend"
	acmbackend "berth/backend/acm"
	ecsbackend "berth/backend/ecs"
	elbv2backend "berth/backend/elbv2"
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
	// set, only these keys are accepted and signatures are checked.
	Secrets          map[string]string
	VerifySignatures bool
	// Instance is the berth instance id that /_berth/health reports: the
	// value of the berth.instance label on what it creates.
	Instance string
}

// Backends are the services berth serves.
type Backends struct {
	ECS   *ecsbackend.Backend
	ELBv2 *elbv2backend.Backend
	ACM   *acmbackend.Backend
	// CA is the PEM of berth's certificate authority, served at
	// /_berth/ca.pem.
	CA []byte
}

// Server is the HTTP handler for every AWS API berth speaks.
type Server struct {
	cfg   Config
	ids   backend.IDs
	log   zerolog.Logger
	json  map[string]jsonService // by X-Amz-Target prefix
	elbv2 table
	hosts func(context.Context) ([]elbv2backend.Host, error)
	ca    []byte
}

// jsonService is a service of the AWS JSON 1.1 protocol.
type jsonService struct {
	name  string // as logged
	codec json11.Codec
	table
}

// New returns a server for the backends.
func New(cfg Config, b Backends, ids backend.IDs, log zerolog.Logger) *Server {
	return &Server{
		cfg: cfg,
		ids: ids,
		log: log,
		json: map[string]jsonService{
			"AmazonEC2ContainerServiceV20141113": {"ecs", json11.Codec{}, newTable(&ecs.Client{}, b.ECS)},
			"CertificateManager":                 {"acm", json11.Codec{KeepCase: true}, newTable(&acm.Client{}, b.ACM)},
		},
		elbv2: newTable(&elasticloadbalancingv2.Client{}, b.ELBv2),
		hosts: b.ELBv2.Hosts,
		ca:    b.CA,
	}
}

const (
	// elbv2Version is the API version ELBv2 query requests carry.
	elbv2Version = "2015-12-01"
	elbv2XMLNS   = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	// maxBody bounds request bodies; AWS APIs take far less.
	maxBody = 16 << 20
)

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
	if r.URL.Path == "/_berth/health" {
		req.service, req.operation, req.status = "berth", "health", http.StatusOK
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","instance":%q}`, s.cfg.Instance)
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
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, req, target)
		return
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

func (s *Server) requestID() string {
	h := s.ids.Hex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// authenticate reads the body and the signature and returns the request's
// scope. Requests without a signature get the default account and region.
func (s *Server) authenticate(r *http.Request) ([]byte, backend.Scope, error) {
	sc := backend.Scope{Account: s.cfg.DefaultAccount, Region: s.cfg.DefaultRegion}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, sc, awsproto.ClientError("SerializationException", "could not read the request body: %v", err)
	}
	if len(body) > maxBody {
		return nil, sc, awsproto.StatusError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body exceeds %d bytes", maxBody)
	}
	cred, signed, err := sigv4.Parse(r)
	if err != nil || !signed {
		return body, sc, err
	}
	if s.cfg.VerifySignatures {
		secret, ok := s.cfg.Secrets[cred.AccessKey]
		if !ok {
			return body, sc, awsproto.StatusError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		if err := sigv4.Verify(r, body, cred, secret); err != nil {
			return body, sc, err
		}
	}
	if acct, ok := s.cfg.Accounts[cred.AccessKey]; ok {
		sc.Account = acct
	}
	sc.Region = cred.Region
	return body, sc, nil
}

// serveJSON serves an AWS JSON 1.1 request (ECS, ACM).
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, req *request, target string) {
	fail := func(err error) { req.status = s.writeJSONError(w, req, err) }
	body, sc, err := s.authenticate(r)
	if err != nil {
		fail(err)
		return
	}
	prefix, name, _ := strings.Cut(target, ".")
	svc, ok := s.json[prefix]
	if !ok {
		fail(awsproto.ClientError("UnknownOperationException", "Unknown operation %s", target))
		return
	}
	req.service, req.operation = svc.name, name
	op, ok := svc.ops[name]
	if !ok {
		if svc.known[name] {
			fail(awsproto.ClientError("UnsupportedFeatureException", "berth does not support the %s operation %s.", strings.ToUpper(svc.name), name))
		} else {
			fail(awsproto.ClientError("UnknownOperationException", "Unknown operation %s", target))
		}
		return
	}
	out, err := s.invoke(backend.WithScope(r.Context(), sc), op, func(v any) error { return svc.codec.Decode(body, v) })
	if err != nil {
		fail(err)
		return
	}
	req.status = http.StatusOK
	svc.codec.WriteResponse(w, req.id, out)
}

// serveQuery serves an AWS query request (ELBv2).
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, req *request) {
	fail := func(err error) { req.status = s.writeQueryError(w, req, err) }
	body, sc, err := s.authenticate(r)
	if err != nil {
		fail(err)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		fail(awsproto.StatusError(http.StatusMethodNotAllowed, "InvalidAction", "The HTTP method %s is not supported.", r.Method))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail(awsproto.ClientError("MalformedQueryString", "The request body is not a valid form: %v", err))
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	if action == "" {
		fail(awsproto.ClientError("MissingAction", "The request must contain the parameter Action."))
		return
	}
	req.service, req.operation = "elasticloadbalancing", action
	op, ok := s.elbv2.ops[action]
	switch {
	case !ok && s.elbv2.known[action]:
		fail(awsproto.ClientError("OperationNotPermitted", "berth does not support the ELBv2 action %s.", action))
		return
	case !ok:
		fail(awsproto.ClientError("InvalidAction", "Could not find operation %s for version %s.", action, form.Get("Version")))
		return
	case form.Get("Version") != elbv2Version:
		fail(awsproto.ClientError("InvalidAction", "Could not find operation %s for version %s.", action, form.Get("Version")))
		return
	}
	out, err := s.invoke(backend.WithScope(r.Context(), sc), op, func(v any) error { return query.Decode(form, v) })
	if err != nil {
		fail(err)
		return
	}
	req.status = http.StatusOK
	query.WriteResponse(w, elbv2XMLNS, action, req.id, out)
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

func (s *Server) writeJSONError(w http.ResponseWriter, req *request, err error) int {
	ae := s.apiError(req, err, "ServerException")
	json11.WriteError(w, req.id, ae)
	return ae.Status
}

func (s *Server) writeQueryError(w http.ResponseWriter, req *request, err error) int {
	ae := s.apiError(req, err, "InternalFailure")
	query.WriteError(w, elbv2XMLNS, req.id, ae)
	return ae.Status
}
