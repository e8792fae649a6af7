package autoscaling

import (
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/awsproto"
)

// Auto Scaling's errors: its modeled faults, and ValidationError (400) for
// a request it refuses, as in the common errors
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html).

func errValidation(format string, args ...any) error {
	return awsproto.ClientError("ValidationError", format, args...)
}

func errAlreadyExists(format string, args ...any) error {
	return awsproto.Modeled(&types.AlreadyExistsFault{}, format, args...)
}

func errInUse(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceInUseFault{}, format, args...)
}

func errActivityInProgress(format string, args ...any) error {
	return awsproto.Modeled(&types.ScalingActivityInProgressFault{}, format, args...)
}

func errLimit(format string, args ...any) error {
	return awsproto.Modeled(&types.LimitExceededFault{}, format, args...)
}

func errBadToken() error {
	return awsproto.Modeled(&types.InvalidNextToken{}, "The token is not valid.")
}

// errNoGroup is Auto Scaling's answer for a group name that names nothing.
func errNoGroup(name string) error {
	return errValidation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

// required refuses a request that leaves out a member the API reference
// marks as required, as AWS does: ValidationError, "Value null at
// 'member' failed to satisfy constraint: Member must not be null" (see
// the Required marks in, e.g.,
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html).
// members are the input's field names; a nil pointer or a nil list is
// left out.
func required(in any, members ...string) error {
	v := reflect.ValueOf(in).Elem()
	for _, m := range members {
		f := v.FieldByName(m)
		if (f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice) && f.IsNil() {
			return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null",
				strings.ToLower(m[:1])+m[1:])
		}
	}
	return nil
}
