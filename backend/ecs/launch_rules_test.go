package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestResolvedLaunchType: the launch type named wins; else a strategy
// (the request's, else the cluster's default) with a Fargate provider is
// FARGATE; else EC2.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-capacityProviderStrategy
func TestResolvedLaunchType(t *testing.T) {
	fargate := []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}}
	asg := []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("my-asg")}}
	for _, tc := range []struct {
		lt            types.LaunchType
		strategy, def []types.CapacityProviderStrategyItem
		want          types.LaunchType
	}{
		{types.LaunchTypeExternal, fargate, fargate, types.LaunchTypeExternal},
		{"", fargate, nil, types.LaunchTypeFargate},
		{"", nil, fargate, types.LaunchTypeFargate},
		{"", asg, fargate, types.LaunchTypeEc2},
		{"", nil, nil, types.LaunchTypeEc2},
	} {
		if got := resolvedLaunchType(tc.lt, tc.strategy, tc.def); got != tc.want {
			t.Errorf("resolvedLaunchType(%q, %v, %v) = %s, want %s", tc.lt, tc.strategy, tc.def, got, tc.want)
		}
	}
}

// TestValidStrategies follows API_PlacementStrategy's field rules.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementStrategy.html
func TestValidStrategies(t *testing.T) {
	ps := func(typ types.PlacementStrategyType, field *string) []types.PlacementStrategy {
		return []types.PlacementStrategy{{Type: typ, Field: field}}
	}
	for _, ok := range [][]types.PlacementStrategy{
		ps(types.PlacementStrategyTypeRandom, nil),
		ps(types.PlacementStrategyTypeSpread, aws.String("instanceId")),
		ps(types.PlacementStrategyTypeSpread, aws.String("host")),
		ps(types.PlacementStrategyTypeSpread, aws.String("attribute:ecs.availability-zone")),
		ps(types.PlacementStrategyTypeBinpack, aws.String("cpu")),
		ps(types.PlacementStrategyTypeBinpack, aws.String("memory")),
	} {
		if err := validStrategies(ok); err != nil {
			t.Errorf("%+v refused: %v", ok[0], err)
		}
	}
	for _, bad := range [][]types.PlacementStrategy{
		ps(types.PlacementStrategyTypeRandom, aws.String("")),
		ps(types.PlacementStrategyTypeSpread, nil),
		ps(types.PlacementStrategyTypeSpread, aws.String("attribute:")),
		ps(types.PlacementStrategyTypeBinpack, aws.String("instanceId")),
		ps("first-fit", nil),
	} {
		if err := validStrategies(bad); err == nil {
			t.Errorf("%+v taken", bad[0])
		}
	}
}

// TestValidAttribute follows API_Attribute's name and value rules.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attribute.html
func TestValidAttribute(t *testing.T) {
	attr := func(name string, value *string) types.Attribute {
		return types.Attribute{Name: aws.String(name), Value: value}
	}
	for _, ok := range []types.Attribute{
		attr("ecs.capability.docker-remote-api.1.17", nil),
		attr(`a/b\c_d-e.f`, aws.String(`x@y:z 1/2\3`)),
	} {
		if err := validAttribute(ok); err != nil {
			t.Errorf("%s=%v refused: %v", *ok.Name, aws.ToString(ok.Value), err)
		}
	}
	for _, bad := range []types.Attribute{
		attr("a b", nil), attr("a@b", nil), attr("a:b", nil),
		attr("stack", aws.String("")), attr("stack", aws.String(" prod")), attr("stack", aws.String("prod ")), attr("stack", aws.String("a#b")),
	} {
		if err := validAttribute(bad); err == nil {
			t.Errorf("%s=%q taken", *bad.Name, aws.ToString(bad.Value))
		}
	}
}
