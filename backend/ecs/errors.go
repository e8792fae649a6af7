package ecs

import (
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
)

// The errors the ECS API Reference documents, with the messages ECS sends.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html

func errClusterNotFound() error {
	return awsproto.Modeled(&types.ClusterNotFoundException{}, "Cluster not found.")
}

func errServiceNotFound() error {
	return awsproto.Modeled(&types.ServiceNotFoundException{}, "Service not found.")
}

func errServiceNotActive() error {
	return awsproto.Modeled(&types.ServiceNotActiveException{}, "Service was not ACTIVE.")
}

func errInvalidParameter(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidParameterException{}, format, args...)
}

func errClient(format string, args ...any) error {
	return awsproto.Modeled(&types.ClientException{}, format, args...)
}

func errResourceNotFound(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, format, args...)
}

func errResourceInUse(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceInUseException{}, format, args...)
}

func errTaskSetNotFound() error {
	return awsproto.Modeled(&types.TaskSetNotFoundException{}, "The specified task set wasn't found.")
}

func errTargetNotFound(format string, args ...any) error {
	return awsproto.Modeled(&types.TargetNotFoundException{}, format, args...)
}

func errAttributeLimit() error {
	return awsproto.Modeled(&types.AttributeLimitExceededException{}, "You can apply up to 10 custom attributes for each resource.")
}
