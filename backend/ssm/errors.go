package ssm

import (
	"strings"

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

func errLabelNotFound(name, label string) error {
	return awsproto.Modeled(&types.ParameterVersionNotFound{},
		"Systems Manager could not find label %s of %s. Verify the label and try again.", label, name)
}

func errReserved(name string) error {
	return awsproto.Modeled(&types.AccessDeniedException{}, "No access to reserved parameter name: %s.", name)
}

func errHierarchy() error {
	return awsproto.Modeled(&types.HierarchyLevelLimitExceededException{},
		"A hierarchy can have a maximum of %d levels. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html", maxHierarchy)
}

func errMaxVersions(name string, oldest int64) error {
	return awsproto.Modeled(&types.ParameterMaxVersionLimitExceeded{},
		"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, oldest)
}

func errLabelLimit() error {
	return awsproto.Modeled(&types.ParameterVersionLabelLimitExceeded{},
		"A parameter version can have maximum %d labels.Move one or more labels to another version and try again.", maxLabels)
}

func errKeyID(id string) error {
	return awsproto.Modeled(&types.InvalidKeyId{}, "Invalid keyId %s", id)
}

func errType(t types.ParameterType) error {
	return awsproto.Modeled(&types.UnsupportedParameterType{}, "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", t)
}

func errAllowedPattern(pattern string) error {
	return awsproto.Modeled(&types.InvalidAllowedPatternException{}, "The allowed pattern %s is not valid.", pattern)
}

// errPatternMismatch refuses a value its AllowedPattern does not match,
// without the value, which may be a SecureString's: AWS's words are
// "Parameter value, cannot be validated against allowedPattern: \d{1,4}".
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-walk-hierarchies.html
func errPatternMismatch(pattern string) error {
	return awsproto.Modeled(&types.ParameterPatternMismatchException{},
		"Parameter value, cannot be validated against allowedPattern: %s", pattern)
}

func errTooManyTags() error {
	return awsproto.Modeled(&types.TooManyTagsError{}, "The Targets parameter includes too many tags. Remove one or more tags and try the command again.")
}

func errResourceType() error {
	return awsproto.Modeled(&types.InvalidResourceType{}, "The resource type is not valid. Berth serves the tags of parameters only.")
}

func errFilterKey(key string, allowed []string) error {
	return awsproto.Modeled(&types.InvalidFilterKey{}, "The following filter key is not valid: %s. Valid filter keys include: [%s].", key, strings.Join(allowed, ", "))
}

func errFilterDuplicated(key string) error {
	return awsproto.Modeled(&types.InvalidFilterKey{}, "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
}

func errFilterValuesMissing(key string) error {
	return awsproto.Modeled(&types.InvalidFilterValue{}, "The following filter values are missing : null for filter key %s.", key)
}

func errFilterOption(option string, valid []string) error {
	return awsproto.Modeled(&types.InvalidFilterOption{}, "The following filter option is not valid: %s. Valid options include: [%s].", option, strings.Join(valid, ", "))
}

func errFilterValue(value string, valid []string) error {
	return awsproto.Modeled(&types.InvalidFilterValue{}, "The following filter value is not valid: %s. Valid values include: [%s].", value, strings.Join(valid, ", "))
}
