package query

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/awsproto"
)

// ec2Operations are the EC2 operations berth serves.
var ec2Operations = []string{
	"CreateVpc", "DescribeVpcs", "DeleteVpc", "ModifyVpcAttribute", "DescribeVpcAttribute",
	"CreateSubnet", "DescribeSubnets", "DeleteSubnet", "ModifySubnetAttribute",
	"CreateSecurityGroup", "DescribeSecurityGroups", "DeleteSecurityGroup", "DescribeSecurityGroupRules",
	"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
	"CreateInternetGateway", "AttachInternetGateway", "DetachInternetGateway", "DeleteInternetGateway", "DescribeInternetGateways",
	"CreateRouteTable", "DescribeRouteTables", "DeleteRouteTable", "CreateRoute", "DeleteRoute", "ReplaceRoute",
	"AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation",
	"CreateTags", "DeleteTags", "DescribeTags",
	"DescribeAvailabilityZones", "DescribeRegions", "DescribeAccountAttributes", "DescribeNetworkAcls", "DescribeNetworkInterfaces",
	"AllocateAddress", "DescribeAddresses", "ReleaseAddress", "CreateNatGateway", "DescribeNatGateways", "DeleteNatGateway",
	"RunInstances", "DescribeInstances", "TerminateInstances",
	"DescribeAddressesAttribute", "ModifyAddressAttribute", "ResetAddressAttribute", "DescribeInstanceTypes", "DescribeInstanceTypeOfferings",
	"CreateNetworkAcl", "DeleteNetworkAcl", "CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclAssociation",
	"DescribeImages", "DescribeVolumes", "DescribeInstanceAttribute", "ModifyInstanceAttribute", "ModifyInstanceMetadataOptions",
	"ModifyInstanceMaintenanceOptions", "DescribeInstanceCreditSpecifications", "ModifyInstanceCreditSpecification", "DescribeInstanceStatus",
	"StopInstances", "StartInstances", "RebootInstances",
	"CreateLaunchTemplate", "CreateLaunchTemplateVersion", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions",
	"ModifyLaunchTemplate", "DeleteLaunchTemplate", "DeleteLaunchTemplateVersions", "AssociateAddress", "DisassociateAddress", "GetInstanceUefiData", "ModifyVolume", "DescribeVolumesModifications",
}

// TestEC2RoundTrip sends every operation berth serves, with every member
// of its input set, through the SDK's EC2 client: berth must decode the
// input the SDK serialised, and the SDK must read back every member of an
// output berth encoded.
func TestEC2RoundTrip(t *testing.T) {
	var want, got any
	var reply any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		in := reflect.New(reflect.TypeOf(want).Elem())
		if err := DecodeEC2(r.PostForm, in.Interface()); err != nil {
			WriteEC2Error(w, "req", err.(*awsproto.Error))
			return
		}
		got = in.Interface()
		WriteEC2Response(w, r.PostForm.Get("Action"), "req", reply)
	}))
	defer srv.Close()
	client := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}})
	for _, op := range ec2Operations {
		m := reflect.ValueOf(client).MethodByName(op)
		if !m.IsValid() {
			t.Fatalf("no operation %s", op)
		}
		in := reflect.New(m.Type().In(1).Elem())
		fill(in.Elem(), 0)
		out := reflect.New(m.Type().Out(0).Elem())
		fill(out.Elem(), 0)
		want, reply, got = in.Interface(), out.Interface(), nil
		res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
		if err, _ := res[1].Interface().(error); err != nil {
			t.Errorf("%s: %v", op, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the decoded input differs", op)
			diff(t, op+"Input", reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem())
		}
		diff(t, op+"Output", res[0].Elem(), out.Elem())
	}
}

// fill sets every member of v, recursively, to a value of its type.
func fill(v reflect.Value, depth int) {
	t := v.Type()
	switch {
	case depth > 7:
	case awsproto.IsTime(t):
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	case t.Kind() == reflect.Pointer:
		if depth >= 6 && t.Elem().Kind() == reflect.Struct {
			break // its members would be left out: an empty struct does not go over the wire
		}
		p := reflect.New(t.Elem())
		fill(p.Elem(), depth+1)
		if t.Elem().Kind() == reflect.Struct && p.Elem().IsZero() {
			break // all its members were cut off: it would not go over the wire either
		}
		v.Set(p)
	case t.Kind() == reflect.Struct:
		for _, f := range awsproto.Fields(t) {
			fill(v.Field(f.Index), depth+1)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		v.SetBytes([]byte("blob"))
	case t.Kind() == reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case t.Kind() == reflect.String:
		v.SetString("s-" + t.Name())
	case t.Kind() == reflect.Bool:
		v.SetBool(true)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		v.SetInt(7)
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		v.SetFloat(1.5)
	}
}

// diff reports the members of got that differ from want, by path.
func diff(t *testing.T, path string, got, want reflect.Value) {
	t.Helper()
	switch {
	case want.Kind() == reflect.Pointer:
		if got.IsNil() != want.IsNil() {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		if !want.IsNil() {
			diff(t, path, got.Elem(), want.Elem())
		}
	case want.Kind() == reflect.Struct && !awsproto.IsTime(want.Type()):
		for _, f := range awsproto.Fields(want.Type()) {
			diff(t, path+"."+f.GoName, got.Field(f.Index), want.Field(f.Index))
		}
	case want.Kind() == reflect.Slice && want.Type().Elem().Kind() != reflect.Uint8:
		if got.Len() != want.Len() {
			t.Errorf("%s: %d items, want %d", path, got.Len(), want.Len())
			return
		}
		for i := range want.Len() {
			diff(t, path, got.Index(i), want.Index(i))
		}
	case !reflect.DeepEqual(got.Interface(), want.Interface()):
		t.Errorf("%s: got %v, want %v", path, got, want)
	}
}
