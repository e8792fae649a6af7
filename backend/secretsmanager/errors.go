package secretsmanager

import (
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/awsproto"
	"berth/backend"
)

// The errors of the Secrets Manager API, worded as AWS words them.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html

func errNotFound() error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "Secrets Manager can't find the specified secret.")
}

func errNoStage(stage string) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

func errNoVersion(id string) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "Secrets Manager can't find the specified secret value for VersionId: %s", id)
}

func errMarkedDeleted() error {
	return awsproto.Modeled(&types.InvalidRequestException{}, "You can't perform this operation on the secret because it was marked for deletion.")
}

func errInvalidRequest(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidRequestException{}, format, args...)
}

func errInvalidParameter(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidParameterException{}, format, args...)
}

// errValidation is the input validation error of AWS's common request
// validation, which Secrets Manager answers for malformed members, as
// users report it ("ValidationException: Invalid name. Must be a valid
// name ...": https://github.com/anomalyco/sst/issues/3795).
func errValidation(format string, args ...any) error {
	return awsproto.ClientError("ValidationException", format, args...)
}

func errExists(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceExistsException{}, format, args...)
}

func errMalformedPolicy(format string, args ...any) error {
	return awsproto.Modeled(&types.MalformedPolicyDocumentException{}, format, args...)
}

func errLimit(format string, args ...any) error {
	return awsproto.Modeled(&types.LimitExceededException{}, format, args...)
}

func errInvalidNextToken() error {
	return awsproto.Modeled(&types.InvalidNextTokenException{}, "The NextToken value is not valid.")
}

// errCrossAccount refuses a secret of another account than the caller's,
// in the words of IAM's denials (AccessDeniedException, which Secrets
// Manager's model does not list, so it is not modeled).
func errCrossAccount(s backend.Scope, id string) error {
	return awsproto.ClientError("AccessDeniedException",
		"User: arn:aws:iam::%s:root is not authorized to access resource: %s because no resource-based policy allows it (berth grants no cross-account access).", s.Account, id)
}
