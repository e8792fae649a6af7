package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestNoServerFaults calls every served operation with empty and odd
// inputs: each must answer with a client error or success, never a 500
// (which is what a nil dereference on a missing member would become).
func TestNoServerFaults(t *testing.T) {
	s := newTestServer(t)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for _, body := range []string{`{}`, `{"cluster":"default","service":"x","taskDefinition":"x","tasks":["x"],"services":["x"],"containerInstances":["x"],"resourceArn":"x","tags":[{}],"attributes":[{}],"taskSets":["x"]}`,
		`{"CertificateArn":"x","DomainName":"","Certificate":"eA==","PrivateKey":"eA==","Tags":[{}],"SubjectAlternativeNames":[""]}`} {
		for prefix, svc := range s.json {
			for op := range svc.ops {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("X-Amz-Target", prefix+"."+op)
				if w := serve(req); w.Code >= 500 {
					t.Errorf("%s %s %s: %d %s", svc.name, op, body, w.Code, w.Body)
				}
			}
		}
	}
	for _, extra := range []url.Values{{}, {
		"LoadBalancerArn": {"x"}, "TargetGroupArn": {"x"}, "ListenerArn": {"x"}, "RuleArn": {"x"}, "TrustStoreArn": {"x"},
		"ResourceArns.member.1": {"x"}, "Names.member.1": {"x"}, "Targets.member.1.Id": {"x"}, "Actions.member.1.Type": {"forward"},
		"Conditions.member.1.Field": {"host-header"}, "DefaultActions.member.1.Type": {"redirect"}, "Attributes.member.1.Key": {"x"},
		"RulePriorities.member.1.Priority": {"1"}, "Tags.member.1.Key": {"k"}, "Protocol": {"HTTP"}, "Port": {"80"},
	}} {
		for op := range s.elbv2.ops {
			form := url.Values{"Action": {op}, "Version": {elbv2Version}}
			for k, v := range extra {
				form[k] = v
			}
			req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if w := serve(req); w.Code >= 500 {
				t.Errorf("ELBv2 %s %v: %d %s", op, extra, w.Code, w.Body)
			}
		}
	}
}
