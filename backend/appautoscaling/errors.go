package appautoscaling

import (
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"berth/awsproto"
)

// The errors of the Application Auto Scaling API, worded as AWS words
// them where field reports quote it.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/CommonErrors.html

func errValidation(format string, args ...any) error {
	return awsproto.Modeled(&types.ValidationException{}, format, args...)
}

func errNotFound(format string, args ...any) error {
	return awsproto.Modeled(&types.ObjectNotFoundException{}, format, args...)
}

func errLimit(format string, args ...any) error {
	return awsproto.Modeled(&types.LimitExceededException{}, format, args...)
}

func errFailedAccess(format string, args ...any) error {
	return awsproto.Modeled(&types.FailedResourceAccessException{}, format, args...)
}

func errResourceNotFound(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, format, args...)
}

func errTooManyTags(format string, args ...any) error {
	return awsproto.Modeled(&types.TooManyTagsException{}, format, args...)
}

func errInvalidToken() error {
	return awsproto.Modeled(&types.InvalidNextTokenException{}, "The NextToken value is not valid.")
}

// errNoTarget is a policy or scheduled action put for a target that is
// not registered, as moto and users report it.
func errNoTarget(namespace, resourceID, dimension string) error {
	return errNotFound("No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", namespace, resourceID, dimension)
}

// errNoService is a target for an ECS service that does not exist, in the
// words the Terraform provider retries on ("ECS service doesn't exist",
// hashicorp/terraform-provider-aws, resource_aws_appautoscaling_target.go).
func errNoService(resourceID string) error {
	return errValidation("ECS service doesn't exist: %s", resourceID)
}
