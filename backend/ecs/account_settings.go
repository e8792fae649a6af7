package ecs

import (
	"context"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// settingDefaults are each account setting's AWS-managed default and the
// values it accepts.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html
var settingDefaults = []struct {
	name   types.SettingName
	def    string
	values []string
}{
	{types.SettingNameServiceLongArnFormat, "enabled", []string{"enabled", "disabled"}},
	{types.SettingNameTaskLongArnFormat, "enabled", []string{"enabled", "disabled"}},
	{types.SettingNameContainerInstanceLongArnFormat, "enabled", []string{"enabled", "disabled"}},
	{types.SettingNameAwsvpcTrunking, "disabled", []string{"enabled", "disabled"}},
	{types.SettingNameContainerInsights, "disabled", []string{"enabled", "disabled", "enhanced"}},
	{types.SettingNameFargateFipsMode, "disabled", []string{"enabled", "disabled"}},
	{types.SettingNameTagResourceAuthorization, "on", []string{"on", "off"}},
	{types.SettingNameFargateTaskRetirementWaitPeriod, "7", []string{"0", "7", "14"}},
	{types.SettingNameGuardDutyActivate, "off", []string{"on", "off"}},
	{types.SettingNameDefaultLogDriverMode, "non-blocking", []string{"blocking", "non-blocking"}},
	{types.SettingNameFargateEventWindows, "disabled", []string{"enabled", "disabled"}},
}

func settingKey(principal string, name types.SettingName) string {
	return principal + " " + string(name)
}

func validSetting(name types.SettingName, value *string) error {
	i := slices.IndexFunc(settingDefaults, func(d struct {
		name   types.SettingName
		def    string
		values []string
	}) bool {
		return d.name == name
	})
	if i < 0 {
		return errInvalidParameter("Invalid account setting name: %s", name)
	}
	if value == nil || !slices.Contains(settingDefaults[i].values, *value) {
		return errInvalidParameter("Invalid value for account setting %s: %s", name, aws.ToString(value))
	}
	return nil
}

func (b *Backend) putSetting(ctx context.Context, name types.SettingName, value *string, principal string) (*types.Setting, error) {
	s := scopeOf(ctx)
	if err := validSetting(name, value); err != nil {
		return nil, err
	}
	set := types.Setting{Name: name, Value: value, PrincipalArn: aws.String(principal), Type: types.SettingTypeUser}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		return tx.Put(s.Row(kindAccountSetting, settingKey(principal, name), principal, string(name)), set)
	})
	if err != nil {
		return nil, err
	}
	return &set, nil
}

// PutAccountSetting sets an account setting for a principal (the caller's
// account root when none is named).
func (b *Backend) PutAccountSetting(ctx context.Context, in *ecsapi.PutAccountSettingInput) (*ecsapi.PutAccountSettingOutput, error) {
	principal := scopeOf(ctx).principal()
	if in.PrincipalArn != nil {
		principal = *in.PrincipalArn
	}
	set, err := b.putSetting(ctx, in.Name, in.Value, principal)
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutAccountSettingOutput{Setting: set}, nil
}

// PutAccountSettingDefault sets an account setting for the whole account.
func (b *Backend) PutAccountSettingDefault(ctx context.Context, in *ecsapi.PutAccountSettingDefaultInput) (*ecsapi.PutAccountSettingDefaultOutput, error) {
	set, err := b.putSetting(ctx, in.Name, in.Value, scopeOf(ctx).principal())
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutAccountSettingDefaultOutput{Setting: set}, nil
}

// DeleteAccountSetting removes a principal's setting, so the account
// default applies again.
func (b *Backend) DeleteAccountSetting(ctx context.Context, in *ecsapi.DeleteAccountSettingInput) (*ecsapi.DeleteAccountSettingOutput, error) {
	s := scopeOf(ctx)
	principal := s.principal()
	if in.PrincipalArn != nil {
		principal = *in.PrincipalArn
	}
	if err := validSetting(in.Name, aws.String(settingDefaultValue(in.Name))); err != nil {
		return nil, err
	}
	var set types.Setting
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		key := s.Key(kindAccountSetting, settingKey(principal, in.Name))
		if err := tx.Get(key, &set); err != nil {
			return notFound(err, func() error {
				return errInvalidParameter("The specified account setting is not set for the principal.")
			})
		}
		return tx.Delete(key)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteAccountSettingOutput{Setting: &set}, nil
}

func settingDefaultValue(name types.SettingName) string {
	for _, d := range settingDefaults {
		if d.name == name {
			return d.def
		}
	}
	return ""
}

// ListAccountSettings lists the settings set for a principal; with
// effectiveSettings, every setting with the value in effect (the
// principal's, else the account's, else AWS's default).
func (b *Backend) ListAccountSettings(ctx context.Context, in *ecsapi.ListAccountSettingsInput) (*ecsapi.ListAccountSettingsOutput, error) {
	s := scopeOf(ctx)
	principal := s.principal()
	if in.PrincipalArn != nil {
		principal = *in.PrincipalArn
	}
	limit := 10
	if in.MaxResults != 0 {
		if in.MaxResults < 1 || in.MaxResults > 10 {
			return nil, errInvalidParameter("maxResults must be between 1 and 10.")
		}
		limit = int(in.MaxResults)
	}
	var all []types.Setting
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		stored, err := sqlite.ListAll[types.Setting](tx, s.Query(kindAccountSetting, ""))
		if err != nil {
			return err
		}
		find := func(p string, name types.SettingName) (types.Setting, bool) {
			i := slices.IndexFunc(stored, func(st types.Setting) bool { return aws.ToString(st.PrincipalArn) == p && st.Name == name })
			if i < 0 {
				return types.Setting{}, false
			}
			return stored[i], true
		}
		for _, d := range settingDefaults {
			st, ok := find(principal, d.name)
			if !ok && in.EffectiveSettings {
				if st, ok = find(s.principal(), d.name); !ok {
					st, ok = types.Setting{Name: d.name, Value: aws.String(d.def), PrincipalArn: aws.String(principal), Type: types.SettingTypeAwsManaged}, true
				}
			}
			if ok && (in.Name == "" || in.Name == d.name) && (in.Value == nil || aws.ToString(st.Value) == *in.Value) {
				all = append(all, st)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(all))
	for i, st := range all {
		keys[i] = strconv.Itoa(i) + string(st.Name)
	}
	page, next, err := pageStrings(keys, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListAccountSettingsOutput{Settings: []types.Setting{}, NextToken: next}
	for _, k := range page {
		out.Settings = append(out.Settings, all[slices.Index(keys, k)])
	}
	return out, nil
}
