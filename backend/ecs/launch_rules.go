package ecs

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Rules that RunTask, StartTask, CreateService, UpdateService and
// CreateTaskSet share about where tasks run and how they are placed.

// ECS's quotas on the lists of a task launch.
const (
	// maxPlacementStrategies: "You can specify a maximum of 5 strategy
	// rules for each service" (API_CreateService, placementStrategy), and
	// as many for a task (API_RunTask).
	maxPlacementStrategies = 5
	// maxCapacityProviders: "A capacity provider strategy can contain a
	// maximum of 20 capacity providers" (API_RunTask and API_CreateService,
	// capacityProviderStrategy; older references said 6).
	maxCapacityProviders = 20
	// maxReferenceID bounds RunTask's and StartTask's referenceId, as
	// EventBridge Scheduler, which passes it to RunTask, documents it
	// (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_EcsParameters.html).
	maxReferenceID = 1024
)

// resolvedLaunchType is the launch type a request's tasks get: the one
// named; else that of its capacity provider strategy, or of the cluster's
// default one; else EC2 (API_RunTask, launchType and
// capacityProviderStrategy). A strategy with a Fargate provider is
// FARGATE; one of Auto Scaling group providers is EC2.
func resolvedLaunchType(lt types.LaunchType, strategy, clusterDefault []types.CapacityProviderStrategyItem) types.LaunchType {
	if lt != "" {
		return lt
	}
	if len(strategy) == 0 {
		strategy = clusterDefault
	}
	if slices.ContainsFunc(strategy, func(item types.CapacityProviderStrategyItem) bool {
		return slices.Contains(fargateProviders, aws.ToString(item.CapacityProvider))
	}) {
		return types.LaunchTypeFargate
	}
	return types.LaunchTypeEc2
}

// validLaunch checks what only Fargate tasks take against the launch
// type they resolve to: a platform version, refused for EC2 in ECS's
// words (a field report: https://github.com/aws/amazon-ecs-cli/issues/1047),
// and a public IP, refused off Fargate in ECS's words (field reports:
// https://github.com/hashicorp/waypoint/issues/643 for EC2,
// https://github.com/aws/aws-cdk/issues/13348 for an EC2 capacity
// provider).
func validLaunch(lt types.LaunchType, platformVersion *string, nc *types.NetworkConfiguration) error {
	if lt == types.LaunchTypeEc2 && platformVersion != nil {
		return errInvalidParameter("The platform version must be null when specifying an EC2 launch type.")
	}
	if lt != types.LaunchTypeFargate && nc != nil && nc.AwsvpcConfiguration != nil && nc.AwsvpcConfiguration.AssignPublicIp == types.AssignPublicIpEnabled {
		return errInvalidParameter("Assign public IP is not supported for this launch type.")
	}
	return nil
}

// validLaunchLists checks the sizes of a launch's lists: placement
// strategies, capacity providers and the reference id.
func validLaunchLists(strategies []types.PlacementStrategy, providers []types.CapacityProviderStrategyItem, referenceID *string) error {
	if err := validStrategies(strategies); err != nil {
		return err
	}
	if err := validCapacityProviderCount(providers); err != nil {
		return err
	}
	// The wording is berth's: ECS's is not on record.
	if len(aws.ToString(referenceID)) > maxReferenceID {
		return errInvalidParameter("referenceId must be at most %d characters.", maxReferenceID)
	}
	return nil
}

// validCapacityProviderCount bounds a capacity provider strategy, in
// berth's words (ECS's are not on record).
func validCapacityProviderCount(providers []types.CapacityProviderStrategyItem) error {
	if len(providers) > maxCapacityProviders {
		return errInvalidParameter("capacityProviderStrategy can have at most %d items.", maxCapacityProviders)
	}
	return nil
}

// validStrategies checks placement strategies as API_PlacementStrategy
// describes them: at most 5; random takes no field; spread one of
// instanceId, host or attribute:<name>; binpack cpu or memory (ECS
// accepts those in any case and returns them in lower case, which
// Terraform's provider allows for). The messages are berth's: ECS's are
// not on record.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementStrategy.html
func validStrategies(strategies []types.PlacementStrategy) error {
	if len(strategies) > maxPlacementStrategies {
		return errInvalidParameter("placementStrategy can have at most %d items.", maxPlacementStrategies)
	}
	for _, ps := range strategies {
		field := aws.ToString(ps.Field)
		switch ps.Type {
		case types.PlacementStrategyTypeRandom:
			// A field, even empty, is refused: Terraform's provider had to
			// stop sending "" for it
			// (https://github.com/hashicorp/terraform-provider-aws/pull/6176).
			if ps.Field != nil {
				return errInvalidParameter("The random placement strategy does not take a field.")
			}
		case types.PlacementStrategyTypeSpread:
			name, attr := strings.CutPrefix(field, "attribute:")
			if !(attr && name != "") && !strings.EqualFold(field, "instanceId") && !strings.EqualFold(field, "host") {
				return errInvalidParameter("Invalid field for the spread placement strategy: %q. Valid fields are instanceId, host or attribute:<name>.", field)
			}
		case types.PlacementStrategyTypeBinpack:
			if !strings.EqualFold(field, "cpu") && !strings.EqualFold(field, "memory") {
				return errInvalidParameter("Invalid field for the binpack placement strategy: %q. Valid fields are cpu and memory.", field)
			}
		default:
			return errInvalidParameter("Invalid placement strategy type: %s. Valid types are random, spread and binpack.", ps.Type)
		}
	}
	return nil
}

// validDaemon checks a service with the DAEMON scheduling strategy (or
// one being updated): no desired count and no placement strategies, in
// ECS's words (field reports: https://github.com/fabfuel/ecs-deploy/issues/59
// and https://github.com/kayac/ecspresso/pull/402); neither the
// CODE_DEPLOY nor the EXTERNAL deployment controller (API_CreateService,
// schedulingStrategy; berth's words).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-schedulingStrategy
func validDaemon(desired *int32, strategies []types.PlacementStrategy, controller *types.DeploymentController) error {
	if desired != nil {
		return errInvalidParameter("The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again")
	}
	if len(strategies) > 0 {
		return errInvalidParameter("The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again")
	}
	if controller != nil && (controller.Type == types.DeploymentControllerTypeCodeDeploy || controller.Type == types.DeploymentControllerTypeExternal) {
		return errInvalidParameter("The daemon scheduling strategy does not support the %s deployment controller. Use the ECS deployment controller and try again.", controller.Type)
	}
	return nil
}
