package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// sdkConfig is an aws-sdk-go-v2 configuration for the server at url,
// signing with the access key and secret, without retries.
func sdkConfig(url, accessKey, secret string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
}

// TestClusterQueryBoundsOnTheWire: a cluster query expression over ECS's
// 2000 characters (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementConstraint.html),
// in a ListContainerInstances filter or a memberOf constraint, is an
// InvalidParameterException
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListContainerInstances.html#API_ListContainerInstances_Errors),
// and berth keeps serving. A megabyte of "(" used to exhaust the parser's
// stack and kill the process.
func TestClusterQueryBoundsOnTheWire(t *testing.T) {
	ts := httptest.NewServer(newTestServer(t))
	defer ts.Close()
	ctx := context.Background()
	client := ecs.NewFromConfig(sdkConfig(ts.URL, "AKIDEXAMPLE", "secret"))
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	for name, expr := range map[string]string{
		"a megabyte of (": strings.Repeat("(", 1<<20),
		"2001 characters": "attribute:a == " + strings.Repeat("x", 2001-len("attribute:a == ")),
		"nested 200 deep": strings.Repeat("(", 200) + "attribute:a exists" + strings.Repeat(")", 200),
	} {
		_, err := client.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("c"), Filter: aws.String(expr)})
		var invalid *types.InvalidParameterException
		if !errors.As(err, &invalid) {
			t.Errorf("ListContainerInstances with a filter of %s: %v, want InvalidParameterException", name, err)
		}
		_, err = client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"),
			PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String(expr)}}})
		if !errors.As(err, &invalid) {
			t.Errorf("RunTask with a memberOf of %s: %v, want InvalidParameterException", name, err)
		}
	}
	if _, err := client.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("c"), Filter: aws.String("attribute:a exists")}); err != nil {
		t.Errorf("a valid filter after the refused ones: %v", err)
	}
}
