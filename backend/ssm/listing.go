package ssm

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/backend"
	"berth/sqlite"
)

// stored is every stored parameter of scope s, by name.
func stored(tx *sqlite.Tx, s backend.Scope) ([]parameter, error) {
	ps, err := sqlite.ListAll[parameter](tx, s.Query(kindParameter, ""))
	slices.SortFunc(ps, func(a, b parameter) int { return strings.Compare(a.Name, b.Name) })
	return ps, err
}

// GetParametersByPath returns the parameters under a path: its direct
// children, or with Recursive every descendant, passing the filters. The
// public parameters are under /aws/service/.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
func (b *Backend) GetParametersByPath(ctx context.Context, in *ssmapi.GetParametersByPathInput) (*ssmapi.GetParametersByPathOutput, error) {
	path := aws.ToString(in.Path)
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := checkMax(in.MaxResults, 10); err != nil {
		return nil, err
	}
	if err := checkFilters(in.ParameterFilters, byPathKeys); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	// found are the parameters that pass, with the version each answers.
	type match struct {
		p *parameter
		v *version
	}
	pick := func(ps []parameter) []match {
		var found []match
		for i := range ps {
			p := &ps[i]
			if v := labeled(p, in.ParameterFilters); v != nil && underPath(p.Name, path, aws.ToBool(in.Recursive)) && matches(p, v, in.ParameterFilters) {
				found = append(found, match{p, v})
			}
		}
		return found
	}
	var page []match
	var next *string
	paged := func(found []match) (err error) {
		if page, next, err = backend.PageOf(found, func(m match) string { return m.p.Name }, in.NextToken, in.MaxResults, 10); err != nil {
			return errNextToken()
		}
		return nil
	}
	if isPublic(path + "/") {
		if err := paged(pick(publicParameters(s.Region))); err != nil {
			return nil, err
		}
	} else if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ps, err := stored(tx, s)
		if err != nil {
			return err
		}
		if err := paged(pick(ps)); err != nil {
			return err
		}
		// Only the page's values are read.
		for _, m := range page {
			if err := m.p.fill(tx, s, m.v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := []types.Parameter{}
	for _, m := range page {
		out = append(out, m.p.api(arnScope(s, m.p.Name), m.v, aws.ToBool(in.WithDecryption)))
	}
	return &ssmapi.GetParametersByPathOutput{Parameters: out, NextToken: next}, nil
}

// DescribeParameters lists the metadata of the account's parameters that
// pass the filters, given as Filters or ParameterFilters.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html
func (b *Backend) DescribeParameters(ctx context.Context, in *ssmapi.DescribeParametersInput) (*ssmapi.DescribeParametersOutput, error) {
	if err := checkMax(in.MaxResults, 50); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, errValidation("You can use either Filters or ParameterFilters in a single request.")
	}
	filters, err := legacyFilters(in.Filters)
	if err != nil {
		return nil, err
	}
	if err := checkFilters(in.ParameterFilters, describeKeys); err != nil {
		return nil, err
	}
	filters = append(filters, in.ParameterFilters...)
	s := backend.ScopeFrom(ctx)
	var ps []parameter
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		ps, err = stored(tx, s)
		return err
	}); err != nil {
		return nil, err
	}
	var found []types.ParameterMetadata
	for i := range ps {
		p := &ps[i]
		v := p.current()
		if !matches(p, v, filters) {
			continue
		}
		found = append(found, types.ParameterMetadata{
			Name: aws.String(p.Name), ARN: aws.String(parameterArn(s, p.Name)), Type: v.Type, Version: v.Version, Tier: v.Tier,
			DataType: aws.String(v.DataType), LastModifiedDate: aws.Time(v.Modified), LastModifiedUser: aws.String(v.User),
			Description: optional(v.Description), AllowedPattern: optional(v.AllowedPattern), KeyId: optional(v.KeyID),
			Policies: []types.ParameterInlinePolicy{},
		})
	}
	page, next, err := backend.PageOf(found, func(p types.ParameterMetadata) string { return *p.Name }, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, errNextToken()
	}
	return &ssmapi.DescribeParametersOutput{Parameters: backend.OrEmpty(page), NextToken: next}, nil
}

// labeled is the version of p that GetParametersByPath returns: the
// newest with a label a Label filter names, or without one the current
// version (nil when no version has the label).
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
func labeled(p *parameter, filters []types.ParameterStringFilter) *version {
	i := slices.IndexFunc(filters, func(f types.ParameterStringFilter) bool { return aws.ToString(f.Key) == "Label" })
	if i < 0 {
		return p.current()
	}
	for j := len(p.Versions) - 1; j >= 0; j-- {
		if slices.ContainsFunc(p.Versions[j].Labels, func(l string) bool { return slices.Contains(filters[i].Values, l) }) {
			return &p.Versions[j]
		}
	}
	return nil
}
