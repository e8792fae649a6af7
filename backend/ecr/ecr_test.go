package ecr

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"berth/awsproto"
)

// wantCode checks that err is the ECR error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *awsproto.Error
	if !asError(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestRepositories(t *testing.T) {
	r := newTestRegistry(t)
	b, ctx := r.b, r.ctx
	_, err := b.CreateRepository(ctx, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String("app")})
	wantCode(t, err, "RepositoryAlreadyExistsException")
	_, err = b.CreateRepository(ctx, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String("Bad_Name")})
	wantCode(t, err, "InvalidParameterException")
	out, err := b.DescribeRepositories(ctx, &ecrapi.DescribeRepositoriesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(out.Repositories) != 1 || out.NextToken == nil || *out.Repositories[0].RepositoryUri != b.Host+"/000000000000/us-east-1/app" ||
		*out.Repositories[0].RepositoryArn != "arn:aws:ecr:us-east-1:000000000000:repository/app" {
		t.Fatalf("DescribeRepositories = %+v %v", out, err)
	}
	_, err = b.DescribeRepositories(ctx, &ecrapi.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
	wantCode(t, err, "RepositoryNotFoundException")

	_, err = b.GetRepositoryPolicy(ctx, &ecrapi.GetRepositoryPolicyInput{RepositoryName: aws.String("app")})
	wantCode(t, err, "RepositoryPolicyNotFoundException")
	policy := `{"Version":"2012-10-17","Statement":[]}`
	if _, err := b.SetRepositoryPolicy(ctx, &ecrapi.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetRepositoryPolicy(ctx, &ecrapi.GetRepositoryPolicyInput{RepositoryName: aws.String("app")}); err != nil || *got.PolicyText != policy {
		t.Fatalf("GetRepositoryPolicy = %+v %v", got, err)
	}
	_, err = b.PutLifecyclePolicy(ctx, &ecrapi.PutLifecyclePolicyInput{RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String("{not json")})
	wantCode(t, err, "InvalidParameterException")
	_, err = b.DeleteLifecyclePolicy(ctx, &ecrapi.DeleteLifecyclePolicyInput{RepositoryName: aws.String("app")})
	wantCode(t, err, "LifecyclePolicyNotFoundException")

	arn := aws.String("arn:aws:ecr:us-east-1:000000000000:repository/app")
	if _, err := b.TagResource(ctx, &ecrapi.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := b.ListTagsForResource(ctx, &ecrapi.ListTagsForResourceInput{ResourceArn: arn}); err != nil || len(tags.Tags) != 1 {
		t.Fatalf("ListTagsForResource = %+v %v", tags, err)
	}

	// Images: two tags on one manifest, listed one id per tag; deleted by
	// tag, then by digest.
	config := r.push("app", []byte("{}"))
	manifest := manifestOf(config)
	want(t, r.do("PUT", "app/manifests/v1", manifest, "Content-Type", mediaOCIManifest), http.StatusCreated)
	if _, err := b.PutImage(ctx, &ecrapi.PutImageInput{RepositoryName: aws.String("app"), ImageTag: aws.String("v2"), ImageManifest: aws.String(string(manifest))}); err != nil {
		t.Fatal(err)
	}
	_, err = b.PutImage(ctx, &ecrapi.PutImageInput{RepositoryName: aws.String("app"), ImageTag: aws.String("v2"), ImageManifest: aws.String(string(manifest))})
	wantCode(t, err, "ImageAlreadyExistsException")
	_, err = b.PutImage(ctx, &ecrapi.PutImageInput{RepositoryName: aws.String("app"), ImageTag: aws.String("v3"), ImageManifest: aws.String(string(manifestOf(config, []byte("absent"))))})
	wantCode(t, err, "LayersNotFoundException")
	ids, err := b.ListImages(ctx, &ecrapi.ListImagesInput{RepositoryName: aws.String("app")})
	if err != nil || len(ids.ImageIds) != 2 {
		t.Fatalf("ListImages = %+v %v", ids, err)
	}
	got, err := b.BatchGetImage(ctx, &ecrapi.BatchGetImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v2")}, {ImageTag: aws.String("gone")}}})
	if err != nil || len(got.Images) != 1 || *got.Images[0].ImageManifest != string(manifest) || len(got.Failures) != 1 ||
		got.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound {
		t.Fatalf("BatchGetImage = %+v %v", got, err)
	}
	_, err = b.DeleteRepository(ctx, &ecrapi.DeleteRepositoryInput{RepositoryName: aws.String("app")})
	wantCode(t, err, "RepositoryNotEmptyException")
	del, err := b.BatchDeleteImage(ctx, &ecrapi.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(del.ImageIds) != 1 {
		t.Fatalf("BatchDeleteImage by tag = %+v %v", del, err)
	}
	want(t, r.do("GET", "app/manifests/v2", nil), http.StatusOK)
	if _, err := b.DeleteRepository(ctx, &ecrapi.DeleteRepositoryInput{RepositoryName: aws.String("app"), Force: true}); err != nil {
		t.Fatal(err)
	}
	wantError(t, r.do("GET", "app/manifests/v2", nil), http.StatusNotFound, "NAME_UNKNOWN")
}
