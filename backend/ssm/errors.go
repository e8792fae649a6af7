package ssm

import (
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
)

// The Parameter Store errors, with the SDK's types so that the wire codes
// are the ones the SDKs match.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html#API_PutParameter_Errors

func errValidation(format string, args ...any) error {
	return awsproto.Modeled(&types.ValidationException{}, format, args...)
}

// errNotFound is GetParameter's error for a name it does not know, with
// the empty message AWS sends ("An error occurred (ParameterNotFound) when
// calling the GetParameter operation: ", awslabs/aws-simple-cicd#10).
func errNotFound() error { return awsproto.Modeled(&types.ParameterNotFound{}, "") }

// errNotFoundNamed is the error of the operations that name the parameter
// in it (DeleteParameter, LabelParameterVersion, GetParameterHistory).
func errNotFoundNamed(name string) error {
	return awsproto.Modeled(&types.ParameterNotFound{}, "Parameter %s not found.", name)
}

func errVersionNotFound(name string, version int64) error {
	return awsproto.Modeled(&types.ParameterVersionNotFound{},
		"Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
}

func errAlreadyExists() error {
	return awsproto.Modeled(&types.ParameterAlreadyExists{},
		"The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
}

func errNextToken() error {
	return awsproto.Modeled(&types.InvalidNextToken{}, "The nextToken is not valid.")
}

func errResourceID() error {
	return awsproto.Modeled(&types.InvalidResourceId{}, "The resource ID is not valid. Verify that you entered the correct ID and try again.")
}

// errRange is the error of a number outside its bounds, as the API's
// input validation words it.
func errRange(value int32, field string, low, high int32) error {
	if value < low {
		return errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", value, field, low)
	}
	return errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", value, field, high)
}
