package ssm

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
)

// LabelParameterVersion attaches labels to a version, the latest when
// none is given. A label belongs to one version at a time, so attaching
// it moves it; a version holds at most ten. Labels that break the naming
// rules come back in InvalidLabels.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html
func (b *Backend) LabelParameterVersion(ctx context.Context, in *ssmapi.LabelParameterVersionInput) (*ssmapi.LabelParameterVersionOutput, error) {
	if n := len(in.Labels); n < 1 || n > maxLabels {
		return nil, errValidation("1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxLabels)
	}
	out := &ssmapi.LabelParameterVersionOutput{InvalidLabels: []string{}}
	err := b.change(ctx, aws.ToString(in.Name), func(p *parameter) error {
		v := p.current()
		if in.ParameterVersion != nil {
			var err error
			if v, err = p.at(selector{Version: *in.ParameterVersion}); err != nil || *in.ParameterVersion < 1 {
				return errVersionNotFound(p.Name, *in.ParameterVersion)
			}
		}
		var add []string
		for _, l := range in.Labels {
			switch {
			case !validLabel(l):
				out.InvalidLabels = append(out.InvalidLabels, l)
			case !slices.Contains(v.Labels, l) && !slices.Contains(add, l):
				add = append(add, l)
			}
		}
		if len(v.Labels)+len(add) > maxLabels {
			return errLabelLimit()
		}
		for i := range p.Versions {
			p.Versions[i].Labels = slices.DeleteFunc(p.Versions[i].Labels, func(l string) bool { return slices.Contains(add, l) })
		}
		v.Labels = append(v.Labels, add...)
		out.ParameterVersion = v.Version
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnlabelParameterVersion removes labels from a version; those the
// version does not have come back in InvalidLabels.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UnlabelParameterVersion.html
func (b *Backend) UnlabelParameterVersion(ctx context.Context, in *ssmapi.UnlabelParameterVersionInput) (*ssmapi.UnlabelParameterVersionOutput, error) {
	if n := len(in.Labels); n < 1 || n > maxLabels {
		return nil, errValidation("1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", maxLabels)
	}
	if in.ParameterVersion == nil {
		return nil, errValidation("1 validation error detected: Value null at 'parameterVersion' failed to satisfy constraint: Member must not be null")
	}
	out := &ssmapi.UnlabelParameterVersionOutput{RemovedLabels: []string{}, InvalidLabels: []string{}}
	err := b.change(ctx, aws.ToString(in.Name), func(p *parameter) error {
		v, err := p.at(selector{Version: *in.ParameterVersion})
		if err != nil || *in.ParameterVersion < 1 {
			return errVersionNotFound(p.Name, *in.ParameterVersion)
		}
		for _, l := range in.Labels {
			if slices.Contains(v.Labels, l) {
				out.RemovedLabels = append(out.RemovedLabels, l)
			} else {
				out.InvalidLabels = append(out.InvalidLabels, l)
			}
		}
		v.Labels = slices.DeleteFunc(v.Labels, func(l string) bool { return slices.Contains(out.RemovedLabels, l) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
