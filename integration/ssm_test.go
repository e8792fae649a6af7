package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// TestParameterStore puts, reads, versions, labels, tags, describes and
// deletes parameters with the SDK, checking the values and errors of
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
func TestParameterStore(t *testing.T) {
	ctx, c := setup(t)
	p := c.ssm
	arn := func(name string) string { return "arn:aws:ssm:" + c.region + ":000000000000:parameter" + name }

	put := try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db.internal"), Type: types.ParameterTypeString,
		Description: aws.String("database host"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).must(t)
	if put.Version != 1 || put.Tier != types.ParameterTierStandard {
		t.Fatalf("PutParameter = %+v", put)
	}
	_, err := p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("x"), Type: types.ParameterTypeString})
	wantErr[*types.ParameterAlreadyExists](t, err)
	_, err = p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("x"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	if e := wantErr[*types.ValidationException](t, err); !strings.Contains(e.ErrorMessage(), "tags and overwrite can't be used together") {
		t.Fatalf("tags with overwrite: %v", e)
	}
	put = try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db2.internal"), Overwrite: aws.Bool(true)})).must(t)
	if put.Version != 2 {
		t.Fatalf("overwrite = %+v", put)
	}
	try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String("s3cret"), Type: types.ParameterTypeSecureString})).must(t)
	try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/hosts"), Value: aws.String("a,b,c"), Type: types.ParameterTypeStringList})).must(t)
	try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("plain"), Value: aws.String("flat"), Type: types.ParameterTypeString})).must(t)

	// GetParameter, by name, version, label and ARN.
	got := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host")})).must(t).Parameter
	if aws.ToString(got.Value) != "db2.internal" || got.Version != 2 || aws.ToString(got.ARN) != arn("/app/db/host") || aws.ToString(got.DataType) != "text" || got.LastModifiedDate == nil || got.Selector != nil {
		t.Fatalf("GetParameter = %+v", got)
	}
	got = try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host:1")})).must(t).Parameter
	if aws.ToString(got.Value) != "db.internal" || got.Version != 1 || aws.ToString(got.Selector) != ":1" {
		t.Fatalf("GetParameter(:1) = %+v", got)
	}
	got = try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn("/plain"))})).must(t).Parameter
	if aws.ToString(got.Value) != "flat" || aws.ToString(got.ARN) != arn("/plain") {
		t.Fatalf("GetParameter(ARN of plain) = %+v", got)
	}
	_, err = p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/nope")})
	wantErr[*types.ParameterNotFound](t, err)
	_, err = p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host:9")})
	wantErr[*types.ParameterVersionNotFound](t, err)

	// A SecureString reads as opaque base64 unless decrypted.
	secret := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})).must(t).Parameter
	if raw, err := base64.StdEncoding.DecodeString(aws.ToString(secret.Value)); err != nil || strings.Contains(string(raw), "s3cret") || aws.ToString(secret.Value) == "s3cret" {
		t.Fatalf("SecureString without decryption = %q", aws.ToString(secret.Value))
	}
	secret = try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})).must(t).Parameter
	if aws.ToString(secret.Value) != "s3cret" || secret.Type != types.ParameterTypeSecureString {
		t.Fatalf("SecureString decrypted = %+v", secret)
	}

	// Labels: one moves between versions; bad ones come back.
	label := try(p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), ParameterVersion: aws.Int64(1), Labels: []string{"prod", "1bad", "awsx"}})).must(t)
	if label.ParameterVersion != 1 || !slices.Equal(label.InvalidLabels, []string{"1bad", "awsx"}) {
		t.Fatalf("LabelParameterVersion = %+v", label)
	}
	if v := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host:prod")})).must(t).Parameter; aws.ToString(v.Value) != "db.internal" || aws.ToString(v.Selector) != ":prod" {
		t.Fatalf("GetParameter(:prod) = %+v", v)
	}
	try(p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), Labels: []string{"prod"}})).must(t)
	_, err = p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	wantErr[*types.ParameterVersionNotFound](t, err)
	_, err = p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ghost"), Labels: []string{"x"}})
	wantErr[*types.ParameterNotFound](t, err)
	var ten []string
	for i := range 9 {
		ten = append(ten, fmt.Sprint("l", i))
	}
	try(p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), Labels: ten})).must(t)
	_, err = p.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db/host"), Labels: []string{"eleventh"}})
	wantErr[*types.ParameterVersionLabelLimitExceeded](t, err)
	unlabel := try(p.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/app/db/host"), ParameterVersion: aws.Int64(2), Labels: append(ten, "nope")})).must(t)
	if len(unlabel.RemovedLabels) != 9 || !slices.Equal(unlabel.InvalidLabels, []string{"nope"}) {
		t.Fatalf("UnlabelParameterVersion = %+v", unlabel)
	}
	history := try(p.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/host")})).must(t).Parameters
	if len(history) != 2 || len(history[0].Labels) != 0 || !slices.Equal(history[1].Labels, []string{"prod"}) || aws.ToString(history[1].Description) != "database host" {
		t.Fatalf("GetParameterHistory = %+v", history)
	}
	page := try(p.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/host"), MaxResults: aws.Int32(1)})).must(t)
	if len(page.Parameters) != 1 || page.NextToken == nil {
		t.Fatalf("GetParameterHistory page = %+v", page)
	}
	_, err = p.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/ghost")})
	wantErr[*types.ParameterNotFound](t, err)

	// GetParameters: what it cannot serve comes back as invalid.
	many := try(p.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/db/host", "/app/ghost", "/app/db/host:5", "/app/db/password"}, WithDecryption: aws.Bool(true)})).must(t)
	if len(many.Parameters) != 2 || !slices.Equal(many.InvalidParameters, []string{"/app/ghost", "/app/db/host:5"}) || aws.ToString(many.Parameters[1].Value) != "s3cret" {
		t.Fatalf("GetParameters = %+v", many)
	}

	// GetParametersByPath, one level and recursive, filtered and paged.
	names := func(ps []types.Parameter) (out []string) {
		for _, p := range ps {
			out = append(out, *p.Name)
		}
		return out
	}
	one := try(p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app")})).must(t).Parameters
	if !slices.Equal(names(one), []string{"/app/hosts"}) {
		t.Fatalf("GetParametersByPath(/app) = %v", names(one))
	}
	var all []string
	for pages := ssm.NewGetParametersByPathPaginator(p, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true), MaxResults: aws.Int32(1)}); pages.HasMorePages(); {
		all = append(all, names(try(pages.NextPage(ctx)).must(t).Parameters)...)
	}
	if !slices.Equal(all, []string{"/app/db/host", "/app/db/password", "/app/hosts"}) {
		t.Fatalf("GetParametersByPath(/app, recursive) = %v", all)
	}
	secure := try(p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}})).must(t).Parameters
	if !slices.Equal(names(secure), []string{"/app/db/password"}) {
		t.Fatalf("GetParametersByPath(Type=SecureString) = %v", names(secure))
	}
	// A Label filter returns the labeled version.
	prod := try(p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"prod"}}}})).must(t).Parameters
	if len(prod) != 1 || *prod[0].Name != "/app/db/host" || prod[0].Version != 2 {
		t.Fatalf("GetParametersByPath(Label=prod) = %+v", prod)
	}
	_, err = p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), MaxResults: aws.Int32(11)})
	wantErr[*types.ValidationException](t, err)
	_, err = p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}})
	wantErr[*types.InvalidFilterKey](t, err)
	_, err = p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), NextToken: aws.String("!!")})
	wantErr[*types.InvalidNextToken](t, err)

	// DescribeParameters with both kinds of filters.
	meta := func(in *ssm.DescribeParametersInput) (out []string) {
		t.Helper()
		for pages := ssm.NewDescribeParametersPaginator(p, in); pages.HasMorePages(); {
			for _, m := range try(pages.NextPage(ctx)).must(t).Parameters {
				out = append(out, *m.Name)
			}
		}
		return out
	}
	if got := meta(&ssm.DescribeParametersInput{MaxResults: aws.Int32(2)}); !slices.Equal(got, []string{"/app/db/host", "/app/db/password", "/app/hosts", "plain"}) {
		t.Fatalf("DescribeParameters = %v", got)
	}
	for _, c := range []struct {
		filter types.ParameterStringFilter
		want   []string
	}{
		{types.ParameterStringFilter{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/app/db"}}, []string{"/app/db/host", "/app/db/password"}},
		{types.ParameterStringFilter{Key: aws.String("Path"), Option: aws.String("OneLevel"), Values: []string{"/app"}}, []string{"/app/hosts"}},
		{types.ParameterStringFilter{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/app"}}, []string{"/app/db/host", "/app/db/password", "/app/hosts"}},
		{types.ParameterStringFilter{Key: aws.String("Type"), Values: []string{"StringList"}}, []string{"/app/hosts"}},
		{types.ParameterStringFilter{Key: aws.String("KeyId"), Values: []string{"alias/aws/ssm"}}, []string{"/app/db/password"}},
		{types.ParameterStringFilter{Key: aws.String("Tier"), Values: []string{"Standard"}}, []string{"/app/db/host", "/app/db/password", "/app/hosts", "plain"}},
		{types.ParameterStringFilter{Key: aws.String("DataType"), Values: []string{"text"}}, []string{"/app/db/host", "/app/db/password", "/app/hosts", "plain"}},
		{types.ParameterStringFilter{Key: aws.String("tag:team"), Values: []string{"core"}}, []string{"/app/db/host"}},
	} {
		if got := meta(&ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{c.filter}}); !slices.Equal(got, c.want) {
			t.Errorf("DescribeParameters(%s %v) = %v, want %v", *c.filter.Key, c.filter.Values, got, c.want)
		}
	}
	if got := meta(&ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"pla"}}}}); !slices.Equal(got, []string{"plain"}) {
		t.Errorf("DescribeParameters(Filters Name) = %v", got)
	}
	_, err = p.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"prod"}}}})
	wantErr[*types.InvalidFilterKey](t, err)
	_, err = p.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Number"}}}})
	wantErr[*types.InvalidFilterValue](t, err)
	_, err = p.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Equals"), Values: []string{"/app"}}}})
	wantErr[*types.InvalidFilterOption](t, err)
	_, err = p.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Values: []string{"/aws/service"}}}})
	wantErr[*types.ValidationException](t, err)
	_, err = p.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(51)})
	wantErr[*types.ValidationException](t, err)

	// Tags.
	try(p.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/hosts"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team"), Value: aws.String("web")}}})).must(t)
	try(p.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/hosts"), TagKeys: []string{"team"}})).must(t)
	tags := try(p.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/hosts")})).must(t).TagList
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "env" || aws.ToString(tags[0].Value) != "dev" {
		t.Fatalf("ListTagsForResource = %+v", tags)
	}
	_, err = p.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/ghost"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantErr[*types.InvalidResourceId](t, err)
	_, err = p.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/ghost")})
	wantErr[*types.InvalidResourceId](t, err)

	// Deletion.
	try(p.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("plain")})).must(t)
	_, err = p.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("plain")})
	wantErr[*types.ParameterNotFound](t, err)
	deleted := try(p.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/app/hosts", "/app/ghost"}})).must(t)
	if !slices.Equal(deleted.DeletedParameters, []string{"/app/hosts"}) || !slices.Equal(deleted.InvalidParameters, []string{"/app/ghost"}) {
		t.Fatalf("DeleteParameters = %+v", deleted)
	}
}

// TestPutParameterRules: what PutParameter refuses, with the codes of
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html#API_PutParameter_Errors
func TestPutParameterRules(t *testing.T) {
	ctx, c := setup(t)
	p := c.ssm
	put := func(in ssm.PutParameterInput) error {
		if in.Type == "" && !aws.ToBool(in.Overwrite) {
			in.Type = types.ParameterTypeString
		}
		if in.Value == nil {
			in.Value = aws.String("v")
		}
		_, err := p.PutParameter(ctx, &in)
		return err
	}
	deep := "/" + strings.Repeat("a/", 15) + "a"
	wantErr[*types.HierarchyLevelLimitExceededException](t, put(ssm.PutParameterInput{Name: aws.String(deep)}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("awsthing")}))
	wantErr[*types.AccessDeniedException](t, put(ssm.PutParameterInput{Name: aws.String("/aws/service/mine")}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("a/b")}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/has space")}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String(strings.Repeat("n", 1012))}))
	// AWS's words name the pattern, never the value (a SecureString's is a
	// secret).
	// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-walk-hierarchies.html
	mismatch := wantErr[*types.ParameterPatternMismatchException](t, put(ssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("abc"), AllowedPattern: aws.String(`\d+`)}))
	if got := mismatch.ErrorMessage(); got != `Parameter value, cannot be validated against allowedPattern: \d+` {
		t.Fatalf("message %q", got)
	}
	if err := put(ssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("42"), AllowedPattern: aws.String(`\d+`)}); err != nil {
		t.Fatal(err)
	}
	// The pattern stays with the parameter.
	wantErr[*types.ParameterPatternMismatchException](t, put(ssm.PutParameterInput{Name: aws.String("/num"), Value: aws.String("x"), Overwrite: aws.Bool(true)}))
	wantErr[*types.UnsupportedParameterType](t, put(ssm.PutParameterInput{Name: aws.String("/t"), Type: "Number"}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/dt"), DataType: aws.String("AWS:EC2:IMAGE")}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/ami"), DataType: aws.String("aws:ec2:image"), Value: aws.String("not-an-ami")}))
	if err := put(ssm.PutParameterInput{Name: aws.String("/ami"), DataType: aws.String("aws:ec2:image"), Value: aws.String("ami-0123456789abcdef0")}); err != nil {
		t.Fatal(err)
	}
	wantErr[*types.InvalidKeyId](t, put(ssm.PutParameterInput{Name: aws.String("/k"), Type: types.ParameterTypeSecureString, KeyId: aws.String("not-a-key")}))
	big := strings.Repeat("x", 4097)
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(big)}))
	out := try(p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(big), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering})).must(t)
	if out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("Intelligent-Tiering of 4097 bytes = %s", out.Tier)
	}
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String("small"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard}))
	wantErr[*types.ValidationException](t, put(ssm.PutParameterInput{Name: aws.String("/huge"), Value: aws.String(strings.Repeat("x", 8193)), Tier: types.ParameterTierAdvanced}))
	if err := put(ssm.PutParameterInput{Name: aws.String("/adv"), Value: aws.String(strings.Repeat("x", 8192)), Tier: types.ParameterTierAdvanced}); err != nil {
		t.Fatal(err)
	}
}

// TestPublicParameters reads the AWS public parameters ECS stacks use and
// looks up the AMIs they name with DescribeImages.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
func TestPublicParameters(t *testing.T) {
	ctx, c := setup(t)
	p := c.ssm
	const ecsAL2 = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"
	rec := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ecsAL2)})).must(t).Parameter
	var doc struct {
		ImageID         string `json:"image_id"`
		ImageName       string `json:"image_name"`
		AgentVersion    string `json:"ecs_agent_version"`
		RuntimeVersion  string `json:"ecs_runtime_version"`
		OS              string `json:"os"`
		SchemaVersion   int    `json:"schema_version"`
		SourceImageName string `json:"source_image_name"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(rec.Value)), &doc); err != nil || doc.OS != "Amazon Linux 2" || doc.SchemaVersion != 1 || doc.AgentVersion == "" || doc.SourceImageName == "" {
		t.Fatalf("%s = %s (%v)", ecsAL2, aws.ToString(rec.Value), err)
	}
	if aws.ToString(rec.ARN) != "arn:aws:ssm:"+c.region+"::parameter"+ecsAL2 {
		t.Fatalf("ARN = %s", aws.ToString(rec.ARN))
	}
	imageID := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ecsAL2 + "/image_id")})).must(t).Parameter
	if aws.ToString(imageID.Value) != doc.ImageID {
		t.Fatalf("image_id = %s, document says %s", aws.ToString(imageID.Value), doc.ImageID)
	}
	children := try(p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(ecsAL2)})).must(t).Parameters
	if len(children) != 8 {
		t.Fatalf("children of %s = %+v", ecsAL2, children)
	}

	var amis []string
	for _, name := range []string{
		ecsAL2 + "/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id",
	} {
		amis = append(amis, aws.ToString(try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})).must(t).Parameter.Value))
	}
	latest := try(p.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/ami-amazon-linux-latest")})).must(t)
	for _, l := range latest.Parameters {
		if aws.ToString(l.DataType) != "aws:ec2:image" {
			t.Errorf("%s has data type %s", *l.Name, aws.ToString(l.DataType))
		}
		amis = append(amis, aws.ToString(l.Value))
	}
	some := try(p.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64", "/aws/service/ami-amazon-linux-latest/no-such-image",
	}})).must(t)
	if len(some.Parameters) != 3 || !slices.Equal(some.InvalidParameters, []string{"/aws/service/ami-amazon-linux-latest/no-such-image"}) {
		t.Fatalf("GetParameters(latest AMIs) = %+v", some)
	}
	slices.Sort(amis)
	amis = slices.Compact(amis)
	images := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: amis})).must(t).Images
	if len(images) != len(amis) {
		t.Fatalf("DescribeImages(%v) = %d images", amis, len(images))
	}
	for _, img := range images {
		if aws.ToString(img.ImageOwnerAlias) != "amazon" || img.Architecture == "" || aws.ToString(img.Name) == "" {
			t.Errorf("image %+v", img)
		}
	}

	fb := try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/aws-for-fluent-bit/stable")})).must(t).Parameter
	if !strings.HasPrefix(aws.ToString(fb.Value), "906394416424.dkr.ecr."+c.region+".amazonaws.com/aws-for-fluent-bit:") {
		t.Fatalf("fluent bit stable = %s", aws.ToString(fb.Value))
	}
	try(p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/aws-for-fluent-bit/latest")})).must(t)
	_, err := p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(ecsAL2), Value: aws.String("x"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	wantErr[*types.AccessDeniedException](t, err)
	_, err = p.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(ecsAL2)})
	wantErr[*types.ParameterNotFound](t, err)
}

// TestParameterStoreCLI drives Parameter Store with the aws CLI.
func TestParameterStoreCLI(t *testing.T) {
	_, c := setup(t)
	awscli := cli{t: t, url: shared.url, region: c.region}
	var put struct {
		Version int64
		Tier    string
	}
	awscli.run(&put, "ssm", "put-parameter", "--name", "/cli/db/password", "--value", "hunter2", "--type", "SecureString", "--tags", "Key=team,Value=core")
	if put.Version != 1 || put.Tier != "Standard" {
		t.Fatalf("put-parameter = %+v", put)
	}
	awscli.run(nil, "ssm", "put-parameter", "--name", "/cli/db/password", "--value", "hunter3", "--type", "SecureString", "--overwrite")
	awscli.run(nil, "ssm", "put-parameter", "--name", "/cli/app/port", "--value", "8080", "--type", "String")
	awscli.fails("ParameterAlreadyExists", "ssm", "put-parameter", "--name", "/cli/app/port", "--value", "1", "--type", "String")
	awscli.fails("ValidationException", "ssm", "put-parameter", "--name", "/cli/app/port", "--value", "1", "--overwrite", "--tags", "Key=a,Value=b")

	if v := awscli.output("ssm", "get-parameter", "--name", "/cli/db/password", "--with-decryption", "--query", "Parameter.Value", "--output", "text"); v != "hunter3" {
		t.Fatalf("get-parameter --with-decryption = %q", v)
	}
	if v := awscli.output("ssm", "get-parameter", "--name", "/cli/db/password", "--query", "Parameter.Value", "--output", "text"); v == "hunter3" {
		t.Fatal("get-parameter without decryption shows the value")
	}
	awscli.fails("ParameterNotFound", "ssm", "get-parameter", "--name", "/cli/ghost")
	awscli.fails("ParameterVersionNotFound", "ssm", "get-parameter", "--name", "/cli/app/port:4")

	var byPath struct {
		Parameters []struct{ Name, Value string }
	}
	awscli.run(&byPath, "ssm", "get-parameters-by-path", "--path", "/cli", "--recursive", "--with-decryption")
	if len(byPath.Parameters) != 2 || byPath.Parameters[0].Name != "/cli/app/port" || byPath.Parameters[1].Value != "hunter3" {
		t.Fatalf("get-parameters-by-path = %+v", byPath)
	}

	var label struct {
		InvalidLabels    []string
		ParameterVersion int64
	}
	awscli.run(&label, "ssm", "label-parameter-version", "--name", "/cli/db/password", "--parameter-version", "1", "--labels", "previous", "aws-bad")
	if label.ParameterVersion != 1 || !slices.Equal(label.InvalidLabels, []string{"aws-bad"}) {
		t.Fatalf("label-parameter-version = %+v", label)
	}
	if v := awscli.output("ssm", "get-parameter", "--name", "/cli/db/password:previous", "--with-decryption", "--query", "Parameter.Value", "--output", "text"); v != "hunter2" {
		t.Fatalf("get-parameter :previous = %q", v)
	}

	var described struct {
		Parameters []struct{ Name, Type, KeyId string }
	}
	awscli.run(&described, "ssm", "describe-parameters", "--parameter-filters", "Key=Type,Values=SecureString", "Key=tag:team,Values=core")
	if len(described.Parameters) != 1 || described.Parameters[0].Name != "/cli/db/password" || described.Parameters[0].KeyId != "alias/aws/ssm" {
		t.Fatalf("describe-parameters = %+v", described)
	}
	awscli.fails("InvalidFilterKey", "ssm", "describe-parameters", "--parameter-filters", "Key=Label,Values=x")

	if v := awscli.output("ssm", "get-parameter", "--name", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id", "--query", "Parameter.Value", "--output", "text"); !strings.HasPrefix(v, "ami-") {
		t.Fatalf("public ECS AMI = %q", v)
	} else if name := awscli.output("ec2", "describe-images", "--image-ids", v, "--query", "Images[0].Name", "--output", "text"); !strings.HasPrefix(name, "al2023-ami-ecs-hvm-") {
		t.Fatalf("describe-images %s = %q", v, name)
	}

	awscli.run(nil, "ssm", "delete-parameter", "--name", "/cli/app/port")
	awscli.fails("ParameterNotFound", "ssm", "delete-parameter", "--name", "/cli/app/port")
}
