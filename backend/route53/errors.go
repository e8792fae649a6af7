package route53

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/awsproto"
)

// The Route 53 errors, with the SDK's types so that the wire codes are the
// ones the SDKs match; the server gives each the HTTP status of the model
// (NoSuchHostedZone 404, HostedZoneAlreadyExists 409, ...).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html#API_CreateHostedZone_Errors

func errInvalidInput(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidInput{}, format, args...)
}

func errNoSuchZone(id string) error {
	return awsproto.Modeled(&types.NoSuchHostedZone{}, "No hosted zone found with ID: %s", id)
}

func errNoSuchChange(id string) error {
	return awsproto.Modeled(&types.NoSuchChange{}, "A change with the specified change ID does not exist: %s", id)
}

func errNoSuchHealthCheck(id string) error {
	return awsproto.Modeled(&types.NoSuchHealthCheck{}, "A health check with id %s does not exist.", id)
}

// errChangeBatch carries every problem of a change batch, bracketed and
// comma-separated as AWS writes them in the message
// ("[Tried to create resource record set [name='a.example.com.', type='A'] but it already exists]").
func errChangeBatch(msgs []string) error {
	return awsproto.Modeled(&types.InvalidChangeBatch{}, "[%s]", strings.Join(msgs, ", "))
}

func errInvalidDomain(name string) error {
	return awsproto.Modeled(&types.InvalidDomainName{}, "%s is reserved by AWS!", name)
}
