package ssm

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
	"berth/backend"
	"berth/backend/ec2"
	"berth/sqlite"
)

var scope = backend.Scope{Account: "000000000000", Region: "us-east-1"}

func newBackend(tb testing.TB) (*Backend, context.Context) {
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	now := func() time.Time { return time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC) }
	return New(store, backend.Env{Clock: now, IDs: &backend.SequentialIDs{}}), backend.WithScope(context.Background(), scope)
}

func code(err error) string {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestValidName: the naming rules of (a name may use 1011 characters with
// the ARN before it)
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html#sysman-parameter-name-constraints
func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name, code string
	}{
		{"plain", ""},
		{"/a/b/c", ""},
		{"/a.b-c_d/E9", ""},
		{"a/b", "ValidationException"},       // a hierarchy must be fully qualified
		{"/a b", "ValidationException"},      // space
		{"/a/", "ValidationException"},       // trailing slash
		{"/a//b", "ValidationException"},     // empty level
		{"aws-thing", "ValidationException"}, // reserved prefix
		{"SSM.thing", "ValidationException"}, // reserved prefix, any case
		{"/ssm/x", "ValidationException"},    // reserved prefix of a path
		{"/aws/service/x", "AccessDeniedException"},
		{"/" + strings.Repeat("a/", 14) + "a", ""}, // 15 levels
		{"/" + strings.Repeat("a/", 15) + "a", "HierarchyLevelLimitExceededException"},
		{strings.Repeat("a", 1011-len("arn:aws:ssm:us-east-1:000000000000:parameter/")), ""},
		{strings.Repeat("a", 1012-len("arn:aws:ssm:us-east-1:000000000000:parameter/")), "ValidationException"},
		{"/" + strings.Repeat("a", 1011-len("arn:aws:ssm:us-east-1:000000000000:parameter/")), ""},
		{"", "ValidationException"},
	} {
		if got := code(validName(scope, c.name)); got != c.code {
			t.Errorf("validName(%.40q) = %q, want %q", c.name, got, c.code)
		}
	}
}

// TestParseSelector: name:version, name:label and ARNs, whose own scope
// wins; the ARN of /a/b ends parameter/a/b and that of plain
// parameter/plain.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
func TestParseSelector(t *testing.T) {
	other := backend.Scope{Account: scope.Account, Region: "eu-west-1"}
	public := backend.Scope{Account: "", Region: "eu-west-1"}
	for _, c := range []struct {
		ref  string
		want selector
		ok   bool
	}{
		{"/a/b", selector{Name: "/a/b", Scope: scope}, true},
		{"/a/b:3", selector{Name: "/a/b", Version: 3, Scope: scope}, true},
		{"plain:prod", selector{Name: "plain", Label: "prod", Scope: scope}, true},
		{"arn:aws:ssm:eu-west-1:" + scope.Account + ":parameter/a/b:2", selector{Name: "/a/b", Version: 2, Scope: other, ARN: true}, true},
		{"arn:aws:ssm:eu-west-1:" + scope.Account + ":parameter/plain", selector{Name: "plain", Scope: other, ARN: true}, true},
		{"arn:aws:ssm:eu-west-1::parameter/aws/service/x", selector{Name: "/aws/service/x", Scope: public, ARN: true}, true},
		// Another account's parameter is readable only when shared
		// through AWS RAM, which berth does not serve.
		// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html
		{"arn:aws:ssm:eu-west-1:111122223333:parameter/a/b", selector{}, false},
		{"arn:aws:ssm:us-east-1:111122223333:parameter/plain", selector{}, false},
		{"/a:0", selector{Name: "/a", Scope: scope}, false},
		{"/a:", selector{Name: "/a", Scope: scope}, false},
		{"arn:aws:s3:::bucket", selector{Name: "arn:aws:s3:::bucket", Scope: scope}, false},
	} {
		got, ok := parseSelector(c.ref, scope)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("parseSelector(%q) = %+v %v, want %+v %v", c.ref, got, ok, c.want, c.ok)
		}
	}
	if got := parameterArn(scope, "/a/b"); got != "arn:aws:ssm:us-east-1:000000000000:parameter/a/b" {
		t.Errorf("arn of /a/b = %s", got)
	}
	if got := parameterArn(scope, "plain"); got != "arn:aws:ssm:us-east-1:000000000000:parameter/plain" {
		t.Errorf("arn of plain = %s", got)
	}
}

// TestValidLabel: https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
func TestValidLabel(t *testing.T) {
	for label, want := range map[string]bool{
		"prod": true, "Release_1.2-a": true, "1st": false, "aws-x": false, "SSMx": false,
		"a/b": false, "a:b": false, "": false, strings.Repeat("x", 100): true, strings.Repeat("x", 101): false,
	} {
		if validLabel(label) != want {
			t.Errorf("validLabel(%q) = %v", label, !want)
		}
	}
}

func TestUnderPath(t *testing.T) {
	for _, c := range []struct {
		name, path string
		recursive  bool
		want       bool
	}{
		{"/a/b", "/a", false, true},
		{"/a/b/c", "/a", false, false},
		{"/a/b/c", "/a", true, true},
		{"/a/b/c", "/a/", true, true},
		{"/ab", "/a", true, false},
		{"/a", "/a", true, false},
		{"plain", "/", false, true},
		{"/a/b", "/", false, false},
	} {
		if got := underPath(c.name, c.path, c.recursive); got != c.want {
			t.Errorf("underPath(%q, %q, %v) = %v", c.name, c.path, c.recursive, got)
		}
	}
}

// TestFilters: keys, options and values as
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterStringFilter.html
// lists them.
func TestFilters(t *testing.T) {
	f := func(key, option string, values ...string) types.ParameterStringFilter {
		out := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			out.Option = aws.String(option)
		}
		return out
	}
	for _, c := range []struct {
		filter  types.ParameterStringFilter
		allowed []string
		code    string
	}{
		{f("Name", "BeginsWith", "/a"), describeKeys, ""},
		{f("Path", "", "/a"), describeKeys, ""},
		{f("Path", "Equals", "/a"), describeKeys, "InvalidFilterOption"},
		{f("Label", "", "prod"), describeKeys, "InvalidFilterKey"},
		{f("Name", "", "/a"), byPathKeys, "InvalidFilterKey"},
		{f("Type", "", "Number"), describeKeys, "InvalidFilterValue"},
		{f("Type", ""), describeKeys, "InvalidFilterValue"},
		{f("tag:team", ""), byPathKeys, ""},
		{f("Color", "", "x"), describeKeys, "InvalidFilterKey"},
	} {
		if got := code(checkFilters([]types.ParameterStringFilter{c.filter}, c.allowed)); got != c.code {
			t.Errorf("checkFilters(%s %v) = %q, want %q", *c.filter.Key, c.filter.Values, got, c.code)
		}
	}
	p := &parameter{Name: "/app/db/url", Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
		Versions: []version{{Version: 1, Type: types.ParameterTypeSecureString, KeyID: defaultKeyID, Tier: types.ParameterTierStandard, DataType: "text", Labels: []string{"prod"}}}}
	for _, c := range []struct {
		filter types.ParameterStringFilter
		want   bool
	}{
		{f("Name", "Equals", "/app/db/url"), true},
		{f("Name", "BeginsWith", "/app/d"), true},
		{f("Name", "Contains", "db"), true},
		{f("Name", "Equals", "/app"), false},
		{f("Path", "OneLevel", "/app"), false},
		{f("Path", "Recursive", "/app"), true},
		{f("Type", "", "SecureString", "String"), true},
		{f("KeyId", "", "alias/aws/ssm"), true},
		{f("Tier", "", "Advanced"), false},
		{f("DataType", "", "text"), true},
		{f("Label", "", "prod"), true},
		{f("tag:team", ""), true},
		{f("tag:team", "", "other"), false},
		{f("tag:owner", ""), false},
	} {
		if got := matches(p, p.current(), []types.ParameterStringFilter{c.filter}); got != c.want {
			t.Errorf("filter %s %v matched %v", *c.filter.Key, c.filter.Values, got)
		}
	}
}

// TestPublicParameters: every AMI a public parameter names is in EC2's
// catalogue, and the ECS recommended document has the keys
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
// shows, each also a parameter of its own.
func TestPublicParameters(t *testing.T) {
	images := map[string]bool{}
	for _, img := range ec2.PublicImages("eu-west-1") {
		images[*img.ImageId] = true
	}
	all := publicParameters("eu-west-1")
	for _, p := range all {
		if v := p.current(); v.DataType == dataTypeImage || strings.HasSuffix(p.Name, "/image_id") {
			if !images[v.Value] {
				t.Errorf("%s = %s, which EC2 does not know", p.Name, v.Value)
			}
		}
	}
	rec, ok := publicParameter("eu-west-1", "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended")
	if !ok {
		t.Fatal("no ECS AL2 recommended parameter")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(rec.current().Value), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ecs_agent_version", "ecs_runtime_version", "image_id", "image_name", "image_version", "os", "schema_version", "source_image_name"} {
		if doc[key] == nil {
			t.Errorf("recommended has no %s: %v", key, doc)
		}
		if _, ok := publicParameter("eu-west-1", rec.Name+"/"+key); !ok {
			t.Errorf("no parameter %s/%s", rec.Name, key)
		}
	}
	if !strings.HasPrefix(doc["image_name"].(string), "amzn2-ami-ecs-hvm-2.0.") || !strings.HasSuffix(doc["image_name"].(string), "-x86_64-ebs") {
		t.Errorf("image_name = %v", doc["image_name"])
	}
	if fb, ok := publicParameter("eu-west-1", "/aws/service/aws-for-fluent-bit/stable"); !ok || !strings.HasPrefix(fb.current().Value, "906394416424.dkr.ecr.eu-west-1.amazonaws.com/aws-for-fluent-bit:") {
		t.Errorf("fluent bit stable = %+v", fb)
	}
}

// TestVersionsAndLabels: versions count up; the oldest of 100 goes
// unless labeled; a label moves between versions.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
func TestVersionsAndLabels(t *testing.T) {
	b, ctx := newBackend(t)
	put := func(value string, overwrite bool) (*ssmapi.PutParameterOutput, error) {
		return b.PutParameter(ctx, &ssmapi.PutParameterInput{Name: aws.String("/v"), Value: aws.String(value), Type: types.ParameterTypeString, Overwrite: aws.Bool(overwrite)})
	}
	for i := 1; i <= 100; i++ {
		out, err := put("v", i > 1)
		if err != nil || out.Version != int64(i) {
			t.Fatalf("put %d: %v %v", i, out, err)
		}
	}
	if _, err := put("v", false); code(err) != "ParameterAlreadyExists" {
		t.Fatalf("put without overwrite: %v", err)
	}
	if _, err := b.LabelParameterVersion(ctx, &ssmapi.LabelParameterVersionInput{Name: aws.String("/v"), ParameterVersion: aws.Int64(2), Labels: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	if out, err := put("v101", true); err != nil || out.Version != 101 {
		t.Fatalf("put 101: %v %v", out, err) // version 1 goes
	}
	if _, err := put("v102", true); code(err) != "ParameterMaxVersionLimitExceeded" {
		t.Fatalf("put with labeled oldest: %v", err)
	}
	if _, err := b.LabelParameterVersion(ctx, &ssmapi.LabelParameterVersionInput{Name: aws.String("/v"), Labels: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	if out, err := put("v102", true); err != nil || out.Version != 102 {
		t.Fatalf("put after moving the label: %v %v", out, err)
	}
	if v, err := b.Value(ctx, scope, "/v:old"); err != nil || v != "v101" {
		t.Fatalf("Value(/v:old) = %q %v", v, err)
	}
	if _, err := b.Value(ctx, scope, "/v:2"); code(err) != "ParameterVersionNotFound" {
		t.Fatalf("Value(/v:2) = %v", err)
	}
	if _, err := b.Value(ctx, scope, "/nope"); code(err) != "ParameterNotFound" {
		t.Fatalf("Value(/nope) = %v", err)
	}
}

// BenchmarkValue measures what ECS pays per secret at task start: one
// SecureString read by ARN with a label selector.
func BenchmarkValue(b *testing.B) {
	bk, ctx := newBackend(b)
	for i := range 3 {
		if _, err := bk.PutParameter(ctx, &ssmapi.PutParameterInput{Name: aws.String("/app/secret"), Value: aws.String(strings.Repeat("s", 64)), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(i > 0)}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bk.LabelParameterVersion(ctx, &ssmapi.LabelParameterVersionInput{Name: aws.String("/app/secret"), ParameterVersion: aws.Int64(2), Labels: []string{"live"}}); err != nil {
		b.Fatal(err)
	}
	ref := parameterArn(scope, "/app/secret") + ":live"
	for b.Loop() {
		if _, err := bk.Value(ctx, backend.Scope{}, ref); err != nil {
			b.Fatal(err)
		}
	}
}
