package query

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
)

func TestDecode(t *testing.T) {
	form, _ := url.ParseQuery("Action=CreateRule&Version=2015-12-01&ListenerArn=arn%3Al&Priority=10" +
		"&Conditions.member.1.Field=path-pattern&Conditions.member.1.PathPatternConfig.Values.member.1=%2Fapi%2F%2A" +
		"&Conditions.member.1.PathPatternConfig.Values.member.2=%2Fv2%2F%2A" +
		"&Actions.member.1.Type=forward&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=tg1" +
		"&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=80" +
		"&Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=true" +
		"&Tags.member.1.Key=k&Tags.member.1.Value=v")
	var in elbv2.CreateRuleInput
	if err := Decode(form, &in); err != nil {
		t.Fatal(err)
	}
	if *in.Priority != 10 || *in.ListenerArn != "arn:l" || len(in.Conditions[0].PathPatternConfig.Values) != 2 ||
		*in.Actions[0].ForwardConfig.TargetGroups[0].Weight != 80 || !*in.Actions[0].ForwardConfig.TargetGroupStickinessConfig.Enabled ||
		in.Actions[0].Type != types.ActionTypeEnumForward || *in.Tags[0].Value != "v" {
		t.Fatalf("decoded %+v", in)
	}
	if in.Transforms != nil || in.Actions[0].RedirectConfig != nil {
		t.Fatal("members not in the form must stay nil")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, q := range []string{"Priority=ten", "Priority=99999999999", "Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=yes"} {
		form, _ := url.ParseQuery(q)
		var in elbv2.CreateRuleInput
		err := Decode(form, &in)
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != "ValidationError" {
			t.Errorf("Decode(%s) = %v, want ValidationError", q, err)
		}
	}
}

func TestWriteResponse(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out := &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []types.LoadBalancer{{
		LoadBalancerName: aws.String("a<b"), CreatedTime: &at, Type: types.LoadBalancerTypeEnumApplication, SecurityGroups: []string{"sg-1"},
	}}}
	w := httptest.NewRecorder()
	WriteResponse(w, "ns", "DescribeLoadBalancers", "req-1", out)
	want := `<DescribeLoadBalancersResponse xmlns="ns"><DescribeLoadBalancersResult><LoadBalancers><member>` +
		`<CreatedTime>2026-01-02T03:04:05.000Z</CreatedTime><LoadBalancerName>a&lt;b</LoadBalancerName>` +
		`<SecurityGroups><member>sg-1</member></SecurityGroups><Type>application</Type></member></LoadBalancers>` +
		`</DescribeLoadBalancersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>`
	if w.Body.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", w.Body.String(), want)
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, "ns", "req-2", awsproto.ClientError("TargetGroupNotFound", "One or more target groups not found"))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "<Type>Sender</Type><Code>TargetGroupNotFound</Code>") ||
		!strings.Contains(w.Body.String(), "<RequestId>req-2</RequestId>") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"Action=CreateRule&Priority=1&Conditions.member.1.Field=host-header&Conditions.member.1.Values.member.1=a.b",
		"Tags.member.1.Key=k&Tags.member.99999999.Key=x", "Priority=%zz", "Actions.member.0.Type=x", "a.b.c.d=1&&&=",
		"Conditions=&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=-1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		form, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		for _, v := range []any{&elbv2.CreateRuleInput{}, &elbv2.CreateLoadBalancerInput{}, &elbv2.ModifyTargetGroupAttributesInput{}} {
			err := Decode(form, v)
			var ae *awsproto.Error
			if err != nil && !errors.As(err, &ae) {
				t.Fatalf("Decode returned %T %v", err, err)
			}
		}
	})
}
