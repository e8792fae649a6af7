package servicediscovery

import (
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/awsproto"
)

// The errors of the Cloud Map API: each operation's reference lists the
// ones it returns, all HTTP 400.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_Operations.html

func errInvalid(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidInput{}, format, args...)
}

func errNamespaceNotFound(id string) error {
	return awsproto.Modeled(&types.NamespaceNotFound{}, "Namespace not found: %s", id)
}

func errServiceNotFound(id string) error {
	return awsproto.Modeled(&types.ServiceNotFound{}, "Service not found: %s", id)
}

func errInstanceNotFound(id string) error {
	return awsproto.Modeled(&types.InstanceNotFound{}, "Instance not found: %s", id)
}

func errOperationNotFound(id string) error {
	return awsproto.Modeled(&types.OperationNotFound{}, "Operation not found: %s", id)
}

// errNamespaceExists names the namespace that has the name, and the
// CreatorRequestId that created it, as the exception's shape does
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html).
func errNamespaceExists(n namespace) error {
	return awsproto.Modeled(&types.NamespaceAlreadyExists{}, "Namespace with name %s already exists", n.Name).
		With("NamespaceId", n.ID).With("CreatorRequestId", n.CreatorRequestID)
}

// errServiceExists names the service that has the name, as the
// exception's shape does
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html).
func errServiceExists(v service) error {
	return awsproto.Modeled(&types.ServiceAlreadyExists{}, "Service with name %s already exists", v.Name).
		With("ServiceId", v.ID).With("ServiceArn", v.ARN).With("CreatorRequestId", v.CreatorRequestID)
}

func errInUse(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceInUse{}, format, args...)
}

func errResourceNotFound(arn string) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "Resource not found: %s", arn)
}

func errTooManyTags(resource string) error {
	return awsproto.Modeled(&types.TooManyTagsException{}, "A resource can have at most %d tags.", maxTags).With("ResourceName", resource)
}

func errCustomHealthNotFound(id string) error {
	return awsproto.Modeled(&types.CustomHealthNotFound{}, "Custom health check not found for service %s", id)
}

func errAttributesLimit() error {
	return awsproto.Modeled(&types.ServiceAttributesLimitExceededException{}, "A service can have at most %d attributes.", maxServiceAttributes)
}
