package query

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"berth/awsproto"
)

// TestParseFormBounds: forms are refused before they are built when they
// have more than MaxParams parameters or a key of more than
// MaxKeySegments segments.
func TestParseFormBounds(t *testing.T) {
	if _, err := ParseForm("Action=X&" + strings.Repeat("a.", MaxKeySegments-1) + "a=1"); err != nil {
		t.Errorf("%d segments: %v", MaxKeySegments, err)
	}
	for name, s := range map[string]string{
		"deep key":   strings.Repeat("a.", MaxKeySegments) + "a=1",
		"many":       strings.Repeat("a=&", MaxParams),
		"bad escape": "a=%zz",
	} {
		if _, err := ParseForm(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestDecodeListBound: a list of more than awsproto.MaxItems members is a
// ValidationError.
func TestDecodeListBound(t *testing.T) {
	// Beyond what ParseForm takes (MaxParams), as the decoder's own bound.
	form := url.Values{"Action": {"DescribeLoadBalancers"}}
	for i := 1; i <= awsproto.MaxItems+1; i++ {
		form.Set(fmt.Sprintf("Names.member.%d", i), "n")
	}
	var in elbv2.DescribeLoadBalancersInput
	var ae *awsproto.Error
	if err := Decode(form, &in); !errors.As(err, &ae) || ae.Code != "ValidationError" {
		t.Fatalf("Decode = %v, want ValidationError", err)
	}
	delete(form, fmt.Sprintf("Names.member.%d", awsproto.MaxItems+1))
	if err := Decode(form, &in); err != nil || len(in.Names) != awsproto.MaxItems {
		t.Fatalf("Decode = %v, %d names", err, len(in.Names))
	}
}

// TestDecimalNumbers: a query number is decimal (or NaN and Infinity, as
// the Smithy query protocol writes them), not one of Go's other number
// forms, which AWS would not read as numbers (hostile review: 1_0 was
// read as 10).
func TestDecimalNumbers(t *testing.T) {
	var f float64
	for s, ok := range map[string]bool{"10": true, "-1.5": true, ".5": true, "1e3": true, "2.": true, "Infinity": true, "NaN": true,
		"1_0": false, "0x1p4": false, "Inf": false, "+Inf": false, "1e": false, "": false} {
		err := scalar(reflect.ValueOf(&f).Elem(), "Value", s)
		if (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}
