package ssm

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// kindParameter is a parameter with all its versions, by name; each
// version's value has a row of its own (kindValue).
const kindParameter = "ssm/parameter"

// Limits of Parameter Store.
// https://docs.aws.amazon.com/general/latest/gr/ssm.html#limits_ssm
const (
	maxVersions     = 100  // versions a parameter keeps
	maxLabels       = 10   // labels on one version
	maxStandardSize = 4096 // bytes of a standard parameter's value
	maxAdvancedSize = 8192 // bytes of an advanced parameter's value
	defaultKeyID    = "alias/aws/ssm"
	dataTypeText    = "text"
	dataTypeImage   = "aws:ec2:image"
	dataTypeWebhook = "aws:ssm:integration"
)

// parameter is a stored parameter: its versions, oldest first, and its
// tags. The last version is the current one.
type parameter struct {
	Name     string
	Versions []version
	Tags     []types.Tag
}

// version is one version of a parameter. A SecureString's value is kept
// as given: berth has no KMS, and hands out an opaque ciphertext instead
// unless asked to decrypt.
type version struct {
	Version int64
	// Value is the version's value until it is stored: then it moves to
	// a row of its own (see save).
	Value          string `json:",omitempty"`
	Type           types.ParameterType
	Description    string `json:",omitempty"`
	AllowedPattern string `json:",omitempty"`
	KeyID          string `json:",omitempty"`
	Tier           types.ParameterTier
	DataType       string
	Labels         []string `json:",omitempty"`
	Modified       time.Time
	User           string
}

func (p *parameter) current() *version { return &p.Versions[len(p.Versions)-1] }

// at is the version a selector names, if the parameter has it.
func (p *parameter) at(sel selector) (*version, error) {
	switch {
	case sel.Version > 0:
		for i := range p.Versions {
			if p.Versions[i].Version == sel.Version {
				return &p.Versions[i], nil
			}
		}
		return nil, errVersionNotFound(p.Name, sel.Version)
	case sel.Label != "":
		for i := range p.Versions {
			if slices.Contains(p.Versions[i].Labels, sel.Label) {
				return &p.Versions[i], nil
			}
		}
		return nil, errLabelNotFound(p.Name, sel.Label)
	}
	return p.current(), nil
}

// value is what a read returns for v: a SecureString's ciphertext unless
// decrypt.
func (p *parameter) value(v *version, decrypt bool) string {
	if v.Type != types.ParameterTypeSecureString || decrypt {
		return v.Value
	}
	return ciphertext(v.KeyID, p.Name, v)
}

// ciphertext stands for a SecureString's encrypted value as AWS returns it
// without decryption: base64 of an opaque blob, the same for the same
// version, never showing the value.
func ciphertext(keyID, name string, v *version) string {
	sum := sha256.Sum256([]byte(keyID + "\x00" + name + "\x00" + v.Modified.String() + "\x00" + v.Value))
	more := sha256.Sum256(sum[:])
	blob := append(append([]byte{1, 2, 2, 0}, sum[:]...), more[:]...)
	return base64.StdEncoding.EncodeToString(blob)
}

// api is the SDK's view of version v of p in scope s, its value decrypted
// when decrypt.
func (p *parameter) api(s backend.Scope, v *version, decrypt bool) types.Parameter {
	return types.Parameter{
		Name: aws.String(p.Name), ARN: aws.String(parameterArn(s, p.Name)), Type: v.Type,
		Value: aws.String(p.value(v, decrypt)), Version: v.Version, DataType: aws.String(v.DataType),
		LastModifiedDate: aws.Time(v.Modified),
	}
}

// load reads the stored parameter name of scope s.
func load(tx *sqlite.Tx, s backend.Scope, name string) (*parameter, error) {
	var p parameter
	err := tx.Get(s.Key(kindParameter, name), &p)
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// change applies fn to the stored parameter name in one transaction.
func (b *Backend) change(ctx context.Context, name string, fn func(*parameter) error) error {
	s := backend.ScopeFrom(ctx)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := load(tx, s, name)
		if err != nil {
			if awsproto.HasCode(err, &types.ParameterNotFound{}) {
				return errNotFoundNamed(name)
			}
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return save(tx, s, p)
	})
}

var (
	keyIDPattern = regexp.MustCompile(`^(alias/[a-zA-Z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+)$`)
	imageID      = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// caller is who a change is recorded as made by.
func caller(s backend.Scope) string { return "arn:aws:iam::" + s.Account + ":root" }

// PutParameter creates a parameter, or with Overwrite adds a version to
// it.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
func (b *Backend) PutParameter(ctx context.Context, in *ssmapi.PutParameterInput) (*ssmapi.PutParameterOutput, error) {
	s := backend.ScopeFrom(ctx)
	name, value := aws.ToString(in.Name), aws.ToString(in.Value)
	if err := validName(s, name); err != nil {
		return nil, err
	}
	if value == "" {
		return nil, errValidation("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.")
	}
	overwrite := aws.ToBool(in.Overwrite)
	if overwrite && len(in.Tags) > 0 {
		return nil, errValidation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	var out *ssmapi.PutParameterOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := load(tx, s, name)
		if err != nil && !awsproto.HasCode(err, &types.ParameterNotFound{}) {
			return err
		}
		var prev *version
		if p != nil {
			if !overwrite {
				return errAlreadyExists()
			}
			prev = p.current()
		} else {
			p = &parameter{Name: name, Tags: in.Tags}
		}
		v, err := b.newVersion(in, prev, s)
		if err != nil {
			return err
		}
		if len(p.Versions) == maxVersions {
			if oldest := p.Versions[0]; len(oldest.Labels) > 0 {
				return errMaxVersions(name, oldest.Version)
			}
			p.Versions = p.Versions[1:]
		}
		p.Versions = append(p.Versions, v)
		out = &ssmapi.PutParameterOutput{Version: v.Version, Tier: v.Tier}
		return save(tx, s, p)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newVersion is the version PutParameter makes of in, after prev (nil for
// a new parameter): what in leaves out it keeps from prev.
func (b *Backend) newVersion(in *ssmapi.PutParameterInput, prev *version, s backend.Scope) (version, error) {
	v := version{Version: 1, Value: aws.ToString(in.Value), Type: in.Type, DataType: aws.ToString(in.DataType),
		Description: aws.ToString(in.Description), AllowedPattern: aws.ToString(in.AllowedPattern), KeyID: aws.ToString(in.KeyId),
		Tier: in.Tier, Modified: b.env.Clock().UTC().Truncate(time.Millisecond), User: caller(s)}
	if prev != nil {
		v.Version = prev.Version + 1
		if v.Type == "" {
			v.Type = prev.Type
		}
		if in.Description == nil {
			v.Description = prev.Description
		}
		if in.AllowedPattern == nil {
			v.AllowedPattern = prev.AllowedPattern
		}
		if in.DataType == nil {
			v.DataType = prev.DataType
		}
		if v.KeyID == "" && v.Type == prev.Type {
			v.KeyID = prev.KeyID
		}
	}
	switch v.Type {
	case "":
		return v, errValidation("A parameter type is required when you create a parameter.")
	case types.ParameterTypeString, types.ParameterTypeStringList:
		if v.KeyID != "" {
			return v, errValidation("KeyId is required for SecureString type parameter only.")
		}
	case types.ParameterTypeSecureString:
		if v.KeyID == "" {
			v.KeyID = defaultKeyID
		}
		if !keyIDPattern.MatchString(v.KeyID) {
			return v, errKeyID(v.KeyID)
		}
	default:
		return v, errType(v.Type)
	}
	if err := checkDataType(&v); err != nil {
		return v, err
	}
	if len(v.Description) > 1024 {
		return v, errValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	if v.AllowedPattern != "" {
		if len(v.AllowedPattern) > 1024 {
			return v, errValidation("1 validation error detected: Value at 'allowedPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
		re, err := regexp.Compile(`^(?:` + v.AllowedPattern + `)$`)
		if err != nil {
			return v, errAllowedPattern(v.AllowedPattern)
		}
		if !re.MatchString(v.Value) {
			return v, errPatternMismatch(v.AllowedPattern)
		}
	}
	return v, pickTier(&v, prev)
}

// checkDataType validates a version's data type, text by default: an
// aws:ec2:image value must be an AMI id (whether the image exists AWS
// checks after the call returns), and an aws:ssm:integration one a
// SecureString.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html
func checkDataType(v *version) error {
	switch v.DataType {
	case "":
		v.DataType = dataTypeText
	case dataTypeText:
	case dataTypeImage:
		if v.Type != types.ParameterTypeString {
			return errValidation("The %s data type is supported only for String parameters.", dataTypeImage)
		}
		if !imageID.MatchString(v.Value) {
			return errValidation("Parameter value, %s, is not a valid AMI ID. The value must be in the format ami-xxxxxxxxxxxxxxxxx.", v.Value)
		}
	case dataTypeWebhook:
		if v.Type != types.ParameterTypeSecureString {
			return errValidation("The %s data type is supported only for SecureString parameters.", dataTypeWebhook)
		}
	default:
		return errValidation("The following data type is not supported: %s (Data type names are all lowercase.)", v.DataType)
	}
	return nil
}

// pickTier settles a version's tier: Standard by default, Advanced kept
// once chosen (a parameter never goes back to Standard), and for
// Intelligent-Tiering the one its value needs. A value may use 4 KB in the
// standard tier and 8 KB in the advanced one.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
func pickTier(v *version, prev *version) error {
	advanced := prev != nil && prev.Tier == types.ParameterTierAdvanced
	switch v.Tier {
	case "":
		v.Tier = types.ParameterTierStandard
		if advanced {
			v.Tier = types.ParameterTierAdvanced
		}
	case types.ParameterTierIntelligentTiering:
		v.Tier = types.ParameterTierStandard
		if advanced || len(v.Value) > maxStandardSize {
			v.Tier = types.ParameterTierAdvanced
		}
	case types.ParameterTierStandard:
		if advanced {
			return errValidation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
		}
	case types.ParameterTierAdvanced:
	default:
		return errValidation("1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]", v.Tier)
	}
	if v.Tier == types.ParameterTierStandard && len(v.Value) > maxStandardSize {
		return errValidation("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html", maxStandardSize)
	}
	if len(v.Value) > maxAdvancedSize {
		return errValidation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to %d", maxAdvancedSize)
	}
	return nil
}

// read returns the parameter and version sel names: a public parameter
// from the catalogue, any other from the store. An ARN ending
// parameter/x names x, else /x: the ARN of both.
func (b *Backend) read(tx *sqlite.Tx, sel selector) (*parameter, *version, error) {
	p, ok := publicParameter(sel.Scope.Region, sel.Name)
	if !ok {
		var err error
		p, err = load(tx, sel.Scope, sel.Name)
		if awsproto.HasCode(err, &types.ParameterNotFound{}) && sel.ARN && !strings.HasPrefix(sel.Name, "/") {
			p, err = load(tx, sel.Scope, "/"+sel.Name)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	v, err := p.at(sel)
	if err != nil {
		return nil, nil, err
	}
	return p, v, p.fill(tx, sel.Scope, v)
}

// apiOf is the SDK's view of a read, with the selector that chose it.
func apiOf(sel selector, ref string, p *parameter, v *version, decrypt bool) types.Parameter {
	out := p.api(arnScope(sel.Scope, p.Name), v, decrypt)
	if i := strings.LastIndex(ref, ":"); (sel.Version > 0 || sel.Label != "") && i >= 0 {
		out.Selector = aws.String(ref[i:])
	}
	return out
}

// GetParameter returns one parameter, the version or label its name may
// select.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
func (b *Backend) GetParameter(ctx context.Context, in *ssmapi.GetParameterInput) (*ssmapi.GetParameterOutput, error) {
	ref := aws.ToString(in.Name)
	sel, ok := parseSelector(ref, backend.ScopeFrom(ctx))
	if !ok {
		return nil, errNotFound()
	}
	var out types.Parameter
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		p, v, err := b.read(tx, sel)
		if err != nil {
			return err
		}
		out = apiOf(sel, ref, p, v, aws.ToBool(in.WithDecryption))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.GetParameterOutput{Parameter: &out}, nil
}

// GetParameters returns up to ten parameters; the names it cannot serve
// come back in InvalidParameters.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
func (b *Backend) GetParameters(ctx context.Context, in *ssmapi.GetParametersInput) (*ssmapi.GetParametersOutput, error) {
	if n := len(in.Names); n < 1 || n > 10 {
		return nil, errValidation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	s := backend.ScopeFrom(ctx)
	out := &ssmapi.GetParametersOutput{Parameters: []types.Parameter{}, InvalidParameters: []string{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		for _, ref := range in.Names {
			sel, ok := parseSelector(ref, s)
			if !ok {
				out.InvalidParameters = append(out.InvalidParameters, ref)
				continue
			}
			p, v, err := b.read(tx, sel)
			if awsproto.HasCode(err, &types.ParameterNotFound{}) || awsproto.HasCode(err, &types.ParameterVersionNotFound{}) {
				out.InvalidParameters = append(out.InvalidParameters, ref)
				continue
			}
			if err != nil {
				return err
			}
			out.Parameters = append(out.Parameters, apiOf(sel, ref, p, v, aws.ToBool(in.WithDecryption)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Value returns the value of the parameter name selects in scope s, a
// SecureString decrypted. name is a parameter name or ARN (an ARN's own
// region wins over s; another account's names nothing), optionally with a :version or :label
// selector. Errors: ParameterNotFound, ParameterVersionNotFound (SDK
// types).
func (b *Backend) Value(ctx context.Context, s backend.Scope, name string) (string, error) {
	sel, ok := parseSelector(name, s)
	if !ok {
		return "", errNotFoundNamed(name)
	}
	var value string
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		p, v, err := b.read(tx, sel)
		if err != nil {
			return err
		}
		value = p.value(v, true)
		return nil
	})
	if awsproto.HasCode(err, &types.ParameterNotFound{}) {
		return "", errNotFoundNamed(name)
	}
	return value, err
}

// GetParameterHistory lists every version a parameter keeps, oldest
// first, with their labels.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html
func (b *Backend) GetParameterHistory(ctx context.Context, in *ssmapi.GetParameterHistoryInput) (*ssmapi.GetParameterHistoryOutput, error) {
	if err := checkMax(in.MaxResults, 50); err != nil {
		return nil, err
	}
	ref := aws.ToString(in.Name)
	sel, ok := parseSelector(ref, backend.ScopeFrom(ctx))
	if !ok || sel.Version > 0 || sel.Label != "" {
		return nil, errNotFoundNamed(ref)
	}
	var (
		p    *parameter
		page []*version
		next *string
	)
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if p, _, err = b.read(tx, sel); err != nil {
			return err
		}
		all := make([]*version, len(p.Versions))
		for i := range p.Versions {
			all[i] = &p.Versions[i]
		}
		if page, next, err = backend.PageOf(all, func(v *version) string { return versionKey(v.Version) }, in.NextToken, in.MaxResults, 50); err != nil {
			return errNextToken()
		}
		for _, v := range page {
			if err := p.fill(tx, sel.Scope, v); err != nil {
				return err
			}
		}
		return nil
	})
	if awsproto.HasCode(err, &types.ParameterNotFound{}) {
		return nil, errNotFoundNamed(ref)
	}
	if err != nil {
		return nil, err
	}
	out := []types.ParameterHistory{}
	for _, v := range page {
		out = append(out, types.ParameterHistory{
			Name: aws.String(p.Name), Type: v.Type, Value: aws.String(p.value(v, aws.ToBool(in.WithDecryption))), Version: v.Version,
			Labels: backend.OrEmpty(v.Labels), Tier: v.Tier, DataType: aws.String(v.DataType), LastModifiedDate: aws.Time(v.Modified),
			LastModifiedUser: optional(v.User), Description: optional(v.Description), AllowedPattern: optional(v.AllowedPattern),
			KeyId: optional(v.KeyID), Policies: []types.ParameterInlinePolicy{},
		})
	}
	return &ssmapi.GetParameterHistoryOutput{Parameters: out, NextToken: next}, nil
}

// versionKey orders versions as strings.
func versionKey(v int64) string { return fmt.Sprintf("%020d", v) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// checkMax checks a MaxResults against its bounds, 1 to high.
func checkMax(max *int32, high int32) error {
	if max != nil && (*max < 1 || *max > high) {
		return errRange(*max, "maxResults", 1, high)
	}
	return nil
}

// DeleteParameter deletes a parameter with all its versions.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameter.html
func (b *Backend) DeleteParameter(ctx context.Context, in *ssmapi.DeleteParameterInput) (*ssmapi.DeleteParameterOutput, error) {
	s, name := backend.ScopeFrom(ctx), aws.ToString(in.Name)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindParameter, name)); err != nil || !ok {
			if err != nil {
				return err
			}
			return errNotFoundNamed(name)
		}
		return remove(tx, s, name)
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.DeleteParameterOutput{}, nil
}

// DeleteParameters deletes up to ten parameters; the names it does not
// know come back in InvalidParameters.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameters.html
func (b *Backend) DeleteParameters(ctx context.Context, in *ssmapi.DeleteParametersInput) (*ssmapi.DeleteParametersOutput, error) {
	if n := len(in.Names); n < 1 || n > 10 {
		return nil, errValidation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	s := backend.ScopeFrom(ctx)
	out := &ssmapi.DeleteParametersOutput{DeletedParameters: []string{}, InvalidParameters: []string{}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, name := range in.Names {
			ok, err := tx.Exists(s.Key(kindParameter, name))
			if err != nil {
				return err
			}
			if !ok {
				out.InvalidParameters = append(out.InvalidParameters, name)
				continue
			}
			if err := remove(tx, s, name); err != nil {
				return err
			}
			out.DeletedParameters = append(out.DeletedParameters, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
