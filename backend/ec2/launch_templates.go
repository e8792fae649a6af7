package ec2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Launch templates hold the parameters of RunInstances under a name, in
// numbered, immutable versions; one version is the default. RunInstances
// (and Auto Scaling) launch from a template's version, the request's own
// parameters overriding the template's.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-templates.html

// Launch template errors, as EC2 returns them.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
func errTemplateNameTaken(name string) error {
	return awsproto.ClientError("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
}

func errTemplateNameMalformed() error {
	return awsproto.ClientError("InvalidLaunchTemplateName.MalformedException",
		"A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
}

func errTemplateNameNotFound() error {
	return awsproto.ClientError("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
}

func errTemplateIDMalformed(id string) error {
	return awsproto.ClientError("InvalidLaunchTemplateId.Malformed",
		"The specified ID for the launch template (%s) is not valid. Launch template IDs start with 'lt-' followed by 17 hexadecimal characters.", id)
}

func errVersionNotFound(version, template string) error {
	return awsproto.ClientError("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s.", version, template)
}

var (
	templateName = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)
	templateID   = regexp.MustCompile(`^lt-[0-9a-f]{17}$`)
)

// LaunchTemplateVersion resolves a launch template, by id or by name, and
// one of its versions (a number, $Latest, or $Default; "" is $Default)
// in scope s to that version: the template's id and name, the version's
// number, and its launch data. It returns the errors
// DescribeLaunchTemplateVersions would. Auto Scaling calls it to launch a
// group's instances.
func (b *Backend) LaunchTemplateVersion(ctx context.Context, s backend.Scope, id, name, version string) (*types.LaunchTemplateVersion, error) {
	var v types.LaunchTemplateVersion
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		t, err := findTemplate(tx, s, id, name)
		if err != nil {
			return err
		}
		v, err = templateVersion(tx, s, t, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// findTemplate finds a template by id or by name: one of them, not both.
func findTemplate(tx *sqlite.Tx, s backend.Scope, id, name string) (types.LaunchTemplate, error) {
	var t types.LaunchTemplate
	switch {
	case id != "" && name != "":
		return t, awsproto.ClientError("InvalidParameterCombination", "You must specify either the launch template ID or the launch template name in the request, but not both.")
	case id != "":
		if !templateID.MatchString(id) {
			return t, errTemplateIDMalformed(id)
		}
		return t, get(tx, s, kindLaunchTemplate, id, &t)
	case name != "":
		q := s.Query(kindLaunchTemplate, "")
		q.Name = name
		found, err := sqlite.ListAll[types.LaunchTemplate](tx, q)
		if err != nil {
			return t, err
		}
		if len(found) == 0 {
			return t, errTemplateNameNotFound()
		}
		return found[0], nil
	}
	return t, awsproto.ClientError("MissingParameter", "The request must contain the parameter LaunchTemplateName or LaunchTemplateId")
}

// versionNumber is the number a version string names in template t.
func versionNumber(t types.LaunchTemplate, version string) (int64, error) {
	switch version {
	case "", "$Default":
		return *t.DefaultVersionNumber, nil
	case "$Latest":
		return *t.LatestVersionNumber, nil
	}
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil || n < 1 {
		return 0, errInvalid("Invalid launch template version: version must be a positive number, $Latest or $Default, not '%s'.", version)
	}
	return n, nil
}

func versionKey(templateID string, n int64) string { return fmt.Sprintf("%s/%06d", templateID, n) }

// templateVersion loads one version of template t.
func templateVersion(tx *sqlite.Tx, s backend.Scope, t types.LaunchTemplate, version string) (types.LaunchTemplateVersion, error) {
	var v types.LaunchTemplateVersion
	n, err := versionNumber(t, version)
	if err != nil {
		return v, err
	}
	err = tx.Get(s.Key(kindTemplateVersion, versionKey(*t.LaunchTemplateId, n)), &v)
	if isNotFound(err) {
		return v, errVersionNotFound(version, *t.LaunchTemplateId)
	}
	v.DefaultVersion = aws.Bool(n == *t.DefaultVersionNumber)
	return v, err
}

// overlay decodes into T the fields of base with those set in over (not
// null, empty or zero) put in their place, a field at a time: how a
// request's parameters override a launch template's, and a new version's
// data its source version's. The SDK's request and response shapes of
// launch data share their field names, so one decodes as the other.
func overlay[T any](base, over any) (*T, error) {
	fields := map[string]json.RawMessage{}
	for _, v := range []any{base, over} {
		body, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, raw := range m {
			if empty := slices.ContainsFunc([]string{"null", `""`, "[]", "{}"}, func(e string) bool { return bytes.Equal(raw, []byte(e)) }); !empty {
				fields[k] = raw
			}
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(body, out); err != nil {
		return nil, errInvalid("The launch template data does not fit the request: %v", err)
	}
	return out, nil
}

// withTemplate is a RunInstances request with the launch data of a
// template's version under its own parameters.
func withTemplate(in *ec2api.RunInstancesInput, data *types.ResponseLaunchTemplateData) (*ec2api.RunInstancesInput, error) {
	req := *in
	req.LaunchTemplate = nil
	merged, err := overlay[ec2api.RunInstancesInput](data, &req)
	if err != nil {
		return nil, err
	}
	merged.LaunchTemplate = in.LaunchTemplate
	return merged, nil
}

// newVersion stores version n of template t with data, made from the
// request's data over the source's (nil for none).
func (b *Backend) newVersion(tx *sqlite.Tx, s backend.Scope, t types.LaunchTemplate, n int64, description *string,
	source *types.ResponseLaunchTemplateData, data *types.RequestLaunchTemplateData) (types.LaunchTemplateVersion, error) {
	merged, err := overlay[types.ResponseLaunchTemplateData](source, data)
	if err != nil {
		return types.LaunchTemplateVersion{}, err
	}
	v := types.LaunchTemplateVersion{
		LaunchTemplateId: t.LaunchTemplateId, LaunchTemplateName: t.LaunchTemplateName, VersionNumber: aws.Int64(n),
		VersionDescription: description, CreateTime: aws.Time(b.env.Clock().UTC().Truncate(time.Second)), CreatedBy: t.CreatedBy,
		LaunchTemplateData: merged,
	}
	if err := tx.Put(s.Row(kindTemplateVersion, versionKey(*t.LaunchTemplateId, n), *t.LaunchTemplateId, ""), v); err != nil {
		return v, err
	}
	return v, nil
}

// CreateLaunchTemplate creates a launch template with its first version,
// the default.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
func (b *Backend) CreateLaunchTemplate(ctx context.Context, in *ec2api.CreateLaunchTemplateInput) (*ec2api.CreateLaunchTemplateOutput, error) {
	name := aws.ToString(in.LaunchTemplateName)
	switch {
	case name == "":
		return nil, errMissing("LaunchTemplateName")
	case !templateName.MatchString(name):
		return nil, errTemplateNameMalformed()
	case in.LaunchTemplateData == nil:
		return nil, errMissing("LaunchTemplateData")
	}
	var t types.LaunchTemplate
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		q := s.Query(kindLaunchTemplate, "")
		q.Name = name
		if n, err := tx.Count(q); err != nil || n > 0 {
			if err == nil {
				err = errTemplateNameTaken(name)
			}
			return err
		}
		t = types.LaunchTemplate{
			LaunchTemplateId: aws.String(b.id("lt")), LaunchTemplateName: aws.String(name),
			CreateTime: aws.Time(b.env.Clock().UTC().Truncate(time.Second)), CreatedBy: aws.String("arn:aws:iam::" + s.Account + ":root"),
			DefaultVersionNumber: aws.Int64(1), LatestVersionNumber: aws.Int64(1),
			Tags: backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeLaunchTemplate)),
		}
		if _, err := b.newVersion(tx, s, t, 1, in.VersionDescription, nil, in.LaunchTemplateData); err != nil {
			return err
		}
		return tx.Put(s.Row(kindLaunchTemplate, *t.LaunchTemplateId, "", name), t)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateOutput{LaunchTemplate: &t}, nil
}

// CreateLaunchTemplateVersion adds a version to a template: its data, or
// its source version's with the request's data in place of the same
// parameters. The default version stays as it was.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
func (b *Backend) CreateLaunchTemplateVersion(ctx context.Context, in *ec2api.CreateLaunchTemplateVersionInput) (*ec2api.CreateLaunchTemplateVersionOutput, error) {
	if in.LaunchTemplateData == nil {
		return nil, errMissing("LaunchTemplateData")
	}
	var v types.LaunchTemplateVersion
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		t, err := findTemplate(tx, s, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName))
		if err != nil {
			return err
		}
		var source *types.ResponseLaunchTemplateData
		if in.SourceVersion != nil {
			sv, err := templateVersion(tx, s, t, *in.SourceVersion)
			if err != nil {
				return err
			}
			source = sv.LaunchTemplateData
		}
		n := *t.LatestVersionNumber + 1
		if v, err = b.newVersion(tx, s, t, n, in.VersionDescription, source, in.LaunchTemplateData); err != nil {
			return err
		}
		v.DefaultVersion = aws.Bool(false)
		t.LatestVersionNumber = aws.Int64(n)
		return tx.Put(s.Row(kindLaunchTemplate, *t.LaunchTemplateId, "", *t.LaunchTemplateName), t)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: &v}, nil
}

var launchTemplateFilter = filter[types.LaunchTemplate]{
	id:   func(t types.LaunchTemplate) string { return *t.LaunchTemplateId },
	tags: func(t types.LaunchTemplate) []types.Tag { return t.Tags },
	fields: map[string]func(types.LaunchTemplate) []string{
		"launch-template-name": func(t types.LaunchTemplate) []string { return str(t.LaunchTemplateName) },
		"create-time":          func(t types.LaunchTemplate) []string { return []string{t.CreateTime.UTC().Format(time.RFC3339)} },
	},
}

// DescribeLaunchTemplates lists launch templates by id, name and filter.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplates.html
func (b *Backend) DescribeLaunchTemplates(ctx context.Context, in *ec2api.DescribeLaunchTemplatesInput) (*ec2api.DescribeLaunchTemplatesOutput, error) {
	for _, id := range in.LaunchTemplateIds {
		if !templateID.MatchString(id) {
			return nil, errTemplateIDMalformed(id)
		}
	}
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.LaunchTemplate, error) {
		ts, err := all[types.LaunchTemplate](tx, s, kindLaunchTemplate, "")
		if err != nil || len(in.LaunchTemplateNames) == 0 {
			return ts, err
		}
		for _, name := range in.LaunchTemplateNames {
			if !slices.ContainsFunc(ts, func(t types.LaunchTemplate) bool { return *t.LaunchTemplateName == name }) {
				return nil, errTemplateNameNotFound()
			}
		}
		return slices.DeleteFunc(ts, func(t types.LaunchTemplate) bool {
			return !slices.Contains(in.LaunchTemplateNames, *t.LaunchTemplateName)
		}), nil
	}
	out, next, err := describe(ctx, b, load, launchTemplateFilter, in.LaunchTemplateIds, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeLaunchTemplatesOutput{LaunchTemplates: backend.OrEmpty(out), NextToken: next}, nil
}

var versionFilter = filter[types.LaunchTemplateVersion]{
	id:   func(v types.LaunchTemplateVersion) string { return versionKey(*v.LaunchTemplateId, *v.VersionNumber) },
	tags: func(types.LaunchTemplateVersion) []types.Tag { return nil },
	fields: map[string]func(types.LaunchTemplateVersion) []string{
		"create-time":        func(v types.LaunchTemplateVersion) []string { return []string{v.CreateTime.UTC().Format(time.RFC3339)} },
		"is-default-version": func(v types.LaunchTemplateVersion) []string { return boolean(v.DefaultVersion) },
		"ebs-optimized":      func(v types.LaunchTemplateVersion) []string { return boolean(v.LaunchTemplateData.EbsOptimized) },
		"image-id":           func(v types.LaunchTemplateVersion) []string { return str(v.LaunchTemplateData.ImageId) },
		"instance-type": func(v types.LaunchTemplateVersion) []string {
			return []string{string(v.LaunchTemplateData.InstanceType)}
		},
		"kernel-id":   func(v types.LaunchTemplateVersion) []string { return str(v.LaunchTemplateData.KernelId) },
		"ram-disk-id": func(v types.LaunchTemplateVersion) []string { return str(v.LaunchTemplateData.RamDiskId) },
		"iam-instance-profile": func(v types.LaunchTemplateVersion) []string {
			if p := v.LaunchTemplateData.IamInstanceProfile; p != nil {
				return []string{aws.ToString(p.Arn), aws.ToString(p.Name)}
			}
			return nil
		},
		"http-tokens": func(v types.LaunchTemplateVersion) []string {
			if o := v.LaunchTemplateData.MetadataOptions; o != nil {
				return []string{string(o.HttpTokens)}
			}
			return nil
		},
		"http-endpoint": func(v types.LaunchTemplateVersion) []string {
			if o := v.LaunchTemplateData.MetadataOptions; o != nil {
				return []string{string(o.HttpEndpoint)}
			}
			return nil
		},
	},
}

// DescribeLaunchTemplateVersions lists versions of a template: those
// named (numbers, $Latest, $Default), or those between MinVersion and
// MaxVersion, or all. Without a template, it lists the $Latest or
// $Default versions of every template.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplateVersions.html
func (b *Backend) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2api.DescribeLaunchTemplateVersionsInput) (*ec2api.DescribeLaunchTemplateVersionsOutput, error) {
	id, name := aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName)
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.LaunchTemplateVersion, error) {
		var templates []types.LaunchTemplate
		if id == "" && name == "" {
			if slices.ContainsFunc(in.Versions, func(v string) bool { return v != "$Latest" && v != "$Default" }) || len(in.Versions) == 0 {
				return nil, errInvalid("Without a launch template ID or name, the only versions that can be described are $Latest and $Default.")
			}
			all, err := all[types.LaunchTemplate](tx, s, kindLaunchTemplate, "")
			if err != nil {
				return nil, err
			}
			templates = all
		} else {
			t, err := findTemplate(tx, s, id, name)
			if err != nil {
				return nil, err
			}
			templates = []types.LaunchTemplate{t}
		}
		var out []types.LaunchTemplateVersion
		for _, t := range templates {
			if len(in.Versions) > 0 {
				for _, version := range in.Versions {
					v, err := templateVersion(tx, s, t, version)
					if err != nil {
						return nil, err
					}
					if !slices.ContainsFunc(out, func(o types.LaunchTemplateVersion) bool { return versionFilter.id(o) == versionFilter.id(v) }) {
						out = append(out, v)
					}
				}
				continue
			}
			low, high := int64(1), *t.LatestVersionNumber
			for bound, to := range map[*string]*int64{in.MinVersion: &low, in.MaxVersion: &high} {
				if bound != nil {
					n, err := versionNumber(t, *bound)
					if err != nil {
						return nil, err
					}
					*to = n
				}
			}
			versions, err := all[types.LaunchTemplateVersion](tx, s, kindTemplateVersion, *t.LaunchTemplateId)
			if err != nil {
				return nil, err
			}
			for _, v := range versions {
				if n := *v.VersionNumber; n >= low && n <= high {
					v.DefaultVersion = aws.Bool(n == *t.DefaultVersionNumber)
					out = append(out, v)
				}
			}
		}
		return out, nil
	}
	out, next, err := describe(ctx, b, load, versionFilter, nil, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: backend.OrEmpty(out), NextToken: next}, nil
}

// ModifyLaunchTemplate changes a template's default version.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyLaunchTemplate.html
func (b *Backend) ModifyLaunchTemplate(ctx context.Context, in *ec2api.ModifyLaunchTemplateInput) (*ec2api.ModifyLaunchTemplateOutput, error) {
	var t types.LaunchTemplate
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		if t, err = findTemplate(tx, s, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName)); err != nil {
			return err
		}
		if in.DefaultVersion == nil {
			return nil
		}
		v, err := templateVersion(tx, s, t, *in.DefaultVersion)
		if err != nil {
			return err
		}
		t.DefaultVersionNumber = v.VersionNumber
		return tx.Put(s.Row(kindLaunchTemplate, *t.LaunchTemplateId, "", *t.LaunchTemplateName), t)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyLaunchTemplateOutput{LaunchTemplate: &t}, nil
}

// DeleteLaunchTemplate deletes a template with all its versions.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteLaunchTemplate.html
func (b *Backend) DeleteLaunchTemplate(ctx context.Context, in *ec2api.DeleteLaunchTemplateInput) (*ec2api.DeleteLaunchTemplateOutput, error) {
	var t types.LaunchTemplate
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		if t, err = findTemplate(tx, s, aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName)); err != nil {
			return err
		}
		versions, err := all[types.LaunchTemplateVersion](tx, s, kindTemplateVersion, *t.LaunchTemplateId)
		if err != nil {
			return err
		}
		for _, v := range versions {
			if err := tx.Delete(s.Key(kindTemplateVersion, versionFilter.id(v))); err != nil {
				return err
			}
		}
		return tx.Delete(s.Key(kindLaunchTemplate, *t.LaunchTemplateId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteLaunchTemplateOutput{LaunchTemplate: &t}, nil
}

// DeleteLaunchTemplateVersions deletes versions of a template, all but
// its default version; each version that cannot be deleted is reported
// with the reason, the others are deleted.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteLaunchTemplateVersions.html
func (b *Backend) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2api.DeleteLaunchTemplateVersionsInput) (*ec2api.DeleteLaunchTemplateVersionsOutput, error) {
	if len(in.Versions) == 0 {
		return nil, errMissing("LaunchTemplateVersion")
	}
	out := &ec2api.DeleteLaunchTemplateVersionsOutput{
		SuccessfullyDeletedLaunchTemplateVersions:   []types.DeleteLaunchTemplateVersionsResponseSuccessItem{},
		UnsuccessfullyDeletedLaunchTemplateVersions: []types.DeleteLaunchTemplateVersionsResponseErrorItem{},
	}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		id, name := aws.ToString(in.LaunchTemplateId), aws.ToString(in.LaunchTemplateName)
		t, err := findTemplate(tx, s, id, name)
		var code types.LaunchTemplateErrorCode
		switch ae := errorCode(err); {
		case err == nil:
		case ae == "InvalidLaunchTemplateId.NotFound":
			code = types.LaunchTemplateErrorCodeLaunchTemplateIdDoesNotExist
		case ae == "InvalidLaunchTemplateId.Malformed":
			code = types.LaunchTemplateErrorCodeLaunchTemplateIdMalformed
		case ae == "InvalidLaunchTemplateName.NotFoundException":
			code = types.LaunchTemplateErrorCodeLaunchTemplateNameDoesNotExist
		default:
			return err
		}
		for _, version := range in.Versions {
			fail := func(code types.LaunchTemplateErrorCode, message string) {
				item := types.DeleteLaunchTemplateVersionsResponseErrorItem{LaunchTemplateId: t.LaunchTemplateId, LaunchTemplateName: t.LaunchTemplateName,
					ResponseError: &types.ResponseError{Code: code, Message: aws.String(message)}}
				if n, err := strconv.ParseInt(version, 10, 64); err == nil {
					item.VersionNumber = aws.Int64(n)
				}
				if t.LaunchTemplateId == nil {
					item.LaunchTemplateId, item.LaunchTemplateName = in.LaunchTemplateId, in.LaunchTemplateName
				}
				out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions, item)
			}
			if code != "" {
				fail(code, "The launch template "+id+name+" does not exist.")
				continue
			}
			v, err := templateVersion(tx, s, t, version)
			if errorCode(err) != "" {
				fail(types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist, "The launch template version "+version+" does not exist.")
				continue
			} else if err != nil {
				return err
			}
			if aws.ToBool(v.DefaultVersion) {
				fail(types.LaunchTemplateErrorCodeUnexpectedError, "Cannot delete the default version "+version+" of a launch template. Delete the launch template instead.")
				continue
			}
			if err := tx.Delete(s.Key(kindTemplateVersion, versionFilter.id(v))); err != nil {
				return err
			}
			out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions, types.DeleteLaunchTemplateVersionsResponseSuccessItem{
				LaunchTemplateId: t.LaunchTemplateId, LaunchTemplateName: t.LaunchTemplateName, VersionNumber: v.VersionNumber})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errorCode is the EC2 error code of err, "" for another error.
func errorCode(err error) string {
	var e *awsproto.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
