package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

func validMaxResults(max *int32, limit int32) error {
	if max != nil && (*max < 1 || *max > limit) {
		return errInvalidParameter("MaxResults must be between 1 and %d.", limit)
	}
	return nil
}

// validFilters checks ListSecrets filters: a known key and 1 to 10 values
// of at most 512 characters each.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
func validFilters(fs []types.Filter) error {
	for _, f := range fs {
		if !slices.Contains(types.FilterNameStringType("").Values(), f.Key) {
			return errInvalidParameter("Invalid filter key: %s. Valid keys are description, name, tag-key, tag-value, primary-region, owning-service and all.", f.Key)
		}
		if len(f.Values) < 1 || len(f.Values) > 10 {
			return errInvalidParameter("A filter must have between 1 and 10 values.")
		}
		for _, v := range f.Values {
			if len(v) > 512 {
				return errInvalidParameter("A filter value can hold at most 512 characters.")
			}
		}
	}
	return nil
}

// matchesAll reports whether sec passes every filter.
func (sec *secret) matchesAll(fs []types.Filter) bool {
	return !slices.ContainsFunc(fs, func(f types.Filter) bool { return !sec.matches(f) })
}

// matches reports whether sec passes filter f: some value (if any is not
// negated) matches, and no value negated with ! does. Values match as
// prefixes: case-sensitive but for description; "all" matches each word
// of the value against the words of the name, description and tags, not
// case-sensitive.
func (sec *secret) matches(f types.Filter) bool {
	var attrs []string
	fold := false
	switch f.Key {
	case types.FilterNameStringTypeName:
		attrs = []string{sec.Name}
	case types.FilterNameStringTypeDescription:
		attrs, fold = []string{sec.Description}, true
	case types.FilterNameStringTypeTagKey, types.FilterNameStringTypeTagValue:
		for _, t := range sec.Tags {
			if f.Key == types.FilterNameStringTypeTagKey {
				attrs = append(attrs, aws.ToString(t.Key))
			} else {
				attrs = append(attrs, aws.ToString(t.Value))
			}
		}
	case types.FilterNameStringTypePrimaryRegion:
		attrs = []string{sec.region()}
	case types.FilterNameStringTypeAll:
		attrs = words(sec.Name, sec.Description)
		for _, t := range sec.Tags {
			attrs = append(attrs, words(aws.ToString(t.Key), aws.ToString(t.Value))...)
		}
	}
	match := func(v string) bool {
		if f.Key == types.FilterNameStringTypeAll {
			ws := words(v)
			return len(ws) > 0 && !slices.ContainsFunc(ws, func(w string) bool {
				return !slices.ContainsFunc(attrs, func(a string) bool { return strings.HasPrefix(a, w) })
			})
		}
		return slices.ContainsFunc(attrs, func(a string) bool {
			if fold {
				return strings.HasPrefix(strings.ToLower(a), strings.ToLower(v))
			}
			return strings.HasPrefix(a, v)
		})
	}
	positive, any := false, false
	for _, v := range f.Values {
		if neg, ok := strings.CutPrefix(v, "!"); ok {
			if match(neg) {
				return false
			}
			continue
		}
		positive = true
		any = any || match(v)
	}
	return !positive || any
}

// words splits texts into lower-case words where letters meet digits or
// punctuation, and where lower case turns to upper case, as the search
// without a filter does: "credsDatabase#892" is creds, database, 892.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html
func words(texts ...string) []string {
	var out []string
	for _, text := range texts {
		var cur []rune
		flush := func() {
			if len(cur) > 0 {
				out = append(out, strings.ToLower(string(cur)))
				cur = nil
			}
		}
		for _, r := range text {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				flush()
				continue
			}
			if len(cur) > 0 {
				last := cur[len(cur)-1]
				if unicode.IsDigit(last) != unicode.IsDigit(r) || (unicode.IsLower(last) && unicode.IsUpper(r)) {
					flush()
				}
			}
			cur = append(cur, r)
		}
		flush()
	}
	return out
}

// sortKey orders secrets for ListSecrets and its pages: by SortBy (default
// CreatedDate), then name, which is unique; desc turns the order round.
func sortKey(sec *secret, by types.SortByType, desc bool) string {
	stamp := func(t time.Time) string { return fmt.Sprintf("%020d\x00", t.UnixNano()) }
	var key string
	switch by {
	case types.SortByTypeName:
		key = sec.Name
	case types.SortByTypeLastChangedDate:
		key = stamp(sec.LastChanged) + sec.Name
	case types.SortByTypeLastAccessedDate:
		key = stamp(sec.LastAccessed) + sec.Name
	default:
		key = stamp(sec.Created) + sec.Name
	}
	if !desc {
		return key
	}
	// Complementing each byte and ending high reverses the order, a
	// prefix included.
	out := []byte(key)
	for i := range out {
		out[i] = 0xff - out[i]
	}
	return string(append(out, 0xff))
}

// listed returns the secrets of scope s that pass fs (including those
// scheduled for deletion if planned), ordered by key.
func (b *Backend) listed(ctx context.Context, fs []types.Filter, planned bool, key func(*secret) string) ([]secret, error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	var all []secret
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[secret](tx, s.Query(kindSecret, ""))
		return err
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(sec secret) bool {
		return sec.gone(now) || (sec.scheduled() && !planned) || !sec.matchesAll(fs)
	})
	slices.SortFunc(all, func(a, b secret) int { return strings.Compare(key(&a), key(&b)) })
	return all, nil
}

// ListSecrets lists the secrets of the account and region, not those
// scheduled for deletion unless IncludePlannedDeletion, after Filters.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
func (b *Backend) ListSecrets(ctx context.Context, in *sm.ListSecretsInput) (*sm.ListSecretsOutput, error) {
	if err := validMaxResults(in.MaxResults, 100); err != nil {
		return nil, err
	}
	if err := validFilters(in.Filters); err != nil {
		return nil, err
	}
	if in.SortBy != "" && !slices.Contains(in.SortBy.Values(), in.SortBy) {
		return nil, errInvalidParameter("Invalid SortBy: %s.", in.SortBy)
	}
	desc := in.SortOrder == types.SortOrderTypeDesc
	key := func(sec *secret) string { return sortKey(sec, in.SortBy, desc) }
	all, err := b.listed(ctx, in.Filters, aws.ToBool(in.IncludePlannedDeletion), key)
	if err != nil {
		return nil, err
	}
	page, next, err := backend.PageOf(all, func(sec secret) string { return key(&sec) }, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, errInvalidNextToken()
	}
	out := &sm.ListSecretsOutput{SecretList: []types.SecretListEntry{}, NextToken: next}
	for _, sec := range page {
		out.SecretList = append(out.SecretList, sec.entry())
	}
	return out, nil
}

// BatchGetSecretValue answers the AWSCURRENT values of up to 20 secrets,
// named in SecretIdList (a secret that cannot be read is an entry of
// Errors) or chosen by Filters.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
func (b *Backend) BatchGetSecretValue(ctx context.Context, in *sm.BatchGetSecretValueInput) (*sm.BatchGetSecretValueOutput, error) {
	switch {
	case len(in.SecretIdList) > 0 && len(in.Filters) > 0:
		return nil, errInvalidParameter("Either Filters or SecretIdList must be specified, but not both.")
	case len(in.SecretIdList) == 0 && len(in.Filters) == 0:
		return nil, errInvalidParameter("Either Filters or SecretIdList must be specified.")
	case len(in.SecretIdList) > 20:
		return nil, errInvalidParameter("SecretIdList can hold at most 20 secrets.")
	case len(in.SecretIdList) > 0 && (in.MaxResults != nil || in.NextToken != nil):
		return nil, errInvalidParameter("MaxResults and NextToken can only be used with Filters.")
	}
	if err := validMaxResults(in.MaxResults, 20); err != nil {
		return nil, err
	}
	if err := validFilters(in.Filters); err != nil {
		return nil, err
	}
	out := &sm.BatchGetSecretValueOutput{SecretValues: []types.SecretValueEntry{}, Errors: []types.APIErrorType{}}
	ids := in.SecretIdList
	if len(in.Filters) > 0 {
		key := func(sec *secret) string { return sortKey(sec, "", false) }
		all, err := b.listed(ctx, in.Filters, false, key)
		if err != nil {
			return nil, err
		}
		page, next, err := backend.PageOf(all, func(sec secret) string { return key(&sec) }, in.NextToken, in.MaxResults, 20)
		if err != nil {
			return nil, errInvalidNextToken()
		}
		out.NextToken, ids = next, nil
		for _, sec := range page {
			ids = append(ids, sec.ARN)
		}
	}
	for _, id := range ids {
		v, err := b.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			out.Errors = append(out.Errors, types.APIErrorType{SecretId: aws.String(id), ErrorCode: aws.String(ae.Code), Message: aws.String(ae.Message)})
			continue
		} else if err != nil {
			return nil, err
		}
		out.SecretValues = append(out.SecretValues, types.SecretValueEntry{ARN: v.ARN, Name: v.Name, VersionId: v.VersionId,
			SecretString: v.SecretString, SecretBinary: v.SecretBinary, VersionStages: v.VersionStages, CreatedDate: v.CreatedDate})
	}
	return out, nil
}
