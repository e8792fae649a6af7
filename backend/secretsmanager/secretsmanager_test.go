package secretsmanager

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/awsproto"
	"berth/backend"
)

// Staging labels: a new AWSCURRENT sends the old one to AWSPREVIOUS.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
func TestAttachMovesCurrentAndPrevious(t *testing.T) {
	vs := []version{{ID: "a", Stages: []string{stageCurrent}}, {ID: "b", Stages: []string{stagePrevious}}, {ID: "c"}}
	attach(vs, stageCurrent, 2)
	want := [][]string{{stagePrevious}, {}, {stageCurrent}}
	for i, v := range vs {
		if !slices.Equal(v.Stages, want[i]) && !(len(v.Stages) == 0 && len(want[i]) == 0) {
			t.Fatalf("version %s stages = %v, want %v", v.ID, v.Stages, want[i])
		}
	}
}

func TestMoveStage(t *testing.T) {
	fresh := func() []version {
		return []version{{ID: "a", Stages: []string{stagePrevious}}, {ID: "b", Stages: []string{stageCurrent, "blue"}}, {ID: "c"}}
	}
	for _, tc := range []struct {
		name                   string
		label, moveTo, removeF string
		err                    any
		stages                 map[string][]string
	}{
		{"move needs RemoveFromVersionId", "blue", "c", "", &types.InvalidParameterException{}, nil},
		{"move from the holder", "blue", "c", "b", nil, map[string][]string{"b": {stageCurrent}, "c": {"blue"}}},
		{"move to the holder", "blue", "b", "", nil, map[string][]string{"b": {stageCurrent, "blue"}}},
		{"new label", "green", "c", "", nil, map[string][]string{"c": {"green"}}},
		{"remove", "blue", "", "b", nil, map[string][]string{"b": {stageCurrent}}},
		{"remove from the wrong version", "blue", "", "a", &types.InvalidParameterException{}, nil},
		{"AWSCURRENT cannot be removed", stageCurrent, "", "b", &types.InvalidParameterException{}, nil},
		{"move AWSCURRENT", stageCurrent, "c", "b", nil, map[string][]string{"a": {}, "b": {"blue", stagePrevious}, "c": {stageCurrent}}},
		{"unknown version", "blue", "zzz", "b", &types.ResourceNotFoundException{}, nil},
		{"neither", "blue", "", "", &types.InvalidParameterException{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := fresh()
			err := moveStage(vs, tc.label, tc.moveTo, tc.removeF)
			if tc.err != nil {
				if !awsproto.HasCode(err, tc.err.(interface{ ErrorCode() string })) {
					t.Fatalf("err = %v, want %T", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tc.stages {
				got := vs[versionIndex(vs, id)].Stages
				if len(got) != len(want) || !slices.Equal(got, want) && len(want) > 0 {
					t.Errorf("version %s stages = %v, want %v", id, got, want)
				}
			}
		})
	}
}

func TestPick(t *testing.T) {
	vs := []version{{ID: "a", Stages: []string{stagePrevious}}, {ID: "b", Stages: []string{stageCurrent}}}
	if i, _ := pick(vs, "", ""); i != 1 {
		t.Errorf("default = %d, want AWSCURRENT", i)
	}
	if i, _ := pick(vs, "", stagePrevious); i != 0 {
		t.Errorf("AWSPREVIOUS = %d", i)
	}
	if _, err := pick(vs, "", "AWSPENDING"); err == nil || !strings.Contains(err.Error(), "staging label: AWSPENDING") {
		t.Errorf("missing stage: %v", err)
	}
	if _, err := pick(vs, "a", stageCurrent); !awsproto.HasCode(err, &types.ResourceNotFoundException{}) {
		t.Errorf("version and stage that disagree: %v", err)
	}
}

// Beyond 100 versions, deprecated versions older than a day go, oldest
// first. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
func TestPrune(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	var vs []version
	for i := range 102 {
		vs = append(vs, version{ID: string(rune('A' + i)), Created: now.Add(-48 * time.Hour)})
	}
	vs[0].Stages = []string{"keep"}
	vs[1].Created = now // too young to go
	vs = prune(vs, now)
	if len(vs) != maxVersions || vs[0].ID != "A" || vs[1].ID != "B" || vs[2].ID != string(rune('A'+4)) {
		t.Fatalf("pruned to %d versions, first %s %s %s", len(vs), vs[0].ID, vs[1].ID, vs[2].ID)
	}
}

func TestCandidates(t *testing.T) {
	s := backend.Scope{Account: "000000000000", Region: "us-east-1"}
	full := "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db/pass-AbC123"
	c := candidates(s, full)
	want := backend.Scope{Account: "111111111111", Region: "eu-west-1"}
	if len(c) != 2 || c[0] != (candidate{want, "db/pass", full}) || c[1] != (candidate{want, "db/pass-AbC123", ""}) {
		t.Fatalf("full ARN = %+v", c)
	}
	c = candidates(s, "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db/pass")
	if len(c) != 1 || c[0] != (candidate{want, "db/pass", ""}) {
		t.Fatalf("partial ARN = %+v", c)
	}
	if c = candidates(s, "db/pass"); len(c) != 1 || c[0] != (candidate{s, "db/pass", ""}) {
		t.Fatalf("name = %+v", c)
	}
	if c = candidates(s, "arn:aws:ssm:eu-west-1:111111111111:parameter/x"); len(c) != 0 {
		t.Fatalf("other service's ARN = %+v", c)
	}
}

func TestNewARN(t *testing.T) {
	arn := newARN(backend.Scope{Account: "000000000000", Region: "us-east-1"}, "app/key", &backend.SequentialIDs{})
	name, ok := withoutSuffix(strings.TrimPrefix(arn, "arn:aws:secretsmanager:us-east-1:000000000000:secret:"))
	if !ok || name != "app/key" {
		t.Fatalf("ARN %s", arn)
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"a": true, "db/prod_user+x=y.z@w-1": true, strings.Repeat("a", 512): true,
		"": false, strings.Repeat("a", 513): false, "has space": false, "colon:": false, "bang!": false} {
		if err := validName(name); (err == nil) != ok {
			t.Errorf("validName(%q) = %v", name, err)
		}
	}
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
func TestFilters(t *testing.T) {
	sec := &secret{Name: "prod/db/Password", Description: "Main DATABASE", ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:prod/db/Password-abcdef",
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}
	f := func(key types.FilterNameStringType, values ...string) types.Filter {
		return types.Filter{Key: key, Values: values}
	}
	for _, tc := range []struct {
		f    types.Filter
		want bool
	}{
		{f(types.FilterNameStringTypeName, "prod/"), true},
		{f(types.FilterNameStringTypeName, "Prod/"), false}, // case-sensitive
		{f(types.FilterNameStringTypeName, "db"), false},    // prefix only
		{f(types.FilterNameStringTypeName, "dev/", "prod/"), true},
		{f(types.FilterNameStringTypeName, "!prod/"), false},
		{f(types.FilterNameStringTypeName, "!dev/"), true},
		{f(types.FilterNameStringTypeDescription, "main data"), true}, // not case-sensitive
		{f(types.FilterNameStringTypeTagKey, "te"), true},
		{f(types.FilterNameStringTypeTagValue, "pay"), true},
		{f(types.FilterNameStringTypeTagValue, "Pay"), false},
		{f(types.FilterNameStringTypePrimaryRegion, "eu-"), true},
		{f(types.FilterNameStringTypeOwningService, "rds"), false},
		{f(types.FilterNameStringTypeAll, "PASSWORD"), true},
		{f(types.FilterNameStringTypeAll, "paymentsDatabase"), true},
		{f(types.FilterNameStringTypeAll, "staging"), false},
	} {
		if got := sec.matches(tc.f); got != tc.want {
			t.Errorf("%s %v = %v, want %v", tc.f.Key, tc.f.Values, got, tc.want)
		}
	}
	if err := validFilters([]types.Filter{f("colour", "x")}); !awsproto.HasCode(err, &types.InvalidParameterException{}) {
		t.Errorf("unknown key: %v", err)
	}
}

func TestWords(t *testing.T) {
	// The example of the search guide.
	if got := words("credsDatabase#892"); !slices.Equal(got, []string{"creds", "database", "892"}) {
		t.Fatalf("words = %v", got)
	}
}

func TestSortKeyDesc(t *testing.T) {
	a, b := &secret{Name: "ab"}, &secret{Name: "abc"}
	if !(sortKey(a, types.SortByTypeName, false) < sortKey(b, types.SortByTypeName, false)) ||
		!(sortKey(a, types.SortByTypeName, true) > sortKey(b, types.SortByTypeName, true)) {
		t.Fatal("desc does not reverse the order of a prefix")
	}
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
func TestRandomPassword(t *testing.T) {
	seed := bytes.Repeat([]byte{7, 200, 13, 99, 250, 1}, 100000)
	gen := func(in *sm.GetRandomPasswordInput) (string, error) { return randomPassword(bytes.NewReader(seed), in) }
	p, err := gen(&sm.GetRandomPasswordInput{})
	if err != nil || len(p) != 32 {
		t.Fatalf("default = %q, %v", p, err)
	}
	for _, set := range []string{lowercase, uppercase, digits, punctuation} {
		if !strings.ContainsAny(p, set) {
			t.Errorf("default password %q lacks one of %q", p, set)
		}
	}
	p, _ = gen(&sm.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludePunctuation: aws.Bool(true), ExcludeCharacters: aws.String("aeiou0")})
	if len(p) != 200 || strings.ContainsAny(p, punctuation+"aeiou0 ") {
		t.Errorf("excluding = %q", p)
	}
	p, _ = gen(&sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4096), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true),
		ExcludePunctuation: aws.Bool(true), IncludeSpace: aws.Bool(true)})
	if len(p) != 4096 || strings.Trim(p, digits+" ") != "" || !strings.Contains(p, " ") {
		t.Errorf("digits and spaces = %q", p)
	}
	for _, in := range []*sm.GetRandomPasswordInput{
		{PasswordLength: aws.Int64(0)}, {PasswordLength: aws.Int64(4097)}, {PasswordLength: aws.Int64(3)},
		{ExcludeCharacters: aws.String(strings.Repeat("a", 4097))}, // at most 4096 (the API reference)
		{ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)},
	} {
		if _, err := gen(in); !awsproto.HasCode(err, &types.InvalidParameterException{}) {
			t.Errorf("%+v: err = %v", in, err)
		}
	}
	if p, err := gen(&sm.GetRandomPasswordInput{PasswordLength: aws.Int64(3), RequireEachIncludedType: aws.Bool(false)}); err != nil || len(p) != 3 {
		t.Errorf("short without requiring each type = %q, %v", p, err)
	}
}
