package secretsmanager

import (
	"context"
	"crypto/rand"
	"io"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// GetRandomPassword draws a password from crypto/rand: PasswordLength
// (1 to 4096, default 32) characters among letters, digits and
// punctuation less the excluded ones, a space if asked, and by default at
// least one of each included type.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
func (b *Backend) GetRandomPassword(ctx context.Context, in *sm.GetRandomPasswordInput) (*sm.GetRandomPasswordOutput, error) {
	p, err := randomPassword(rand.Reader, in)
	if err != nil {
		return nil, err
	}
	return &sm.GetRandomPasswordOutput{RandomPassword: &p}, nil
}

// The character types of a password; punctuation is the ASCII one.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// randomPassword is GetRandomPassword drawing from r.
func randomPassword(r io.Reader, in *sm.GetRandomPasswordInput) (string, error) {
	length := int64(32)
	if in.PasswordLength != nil {
		length = *in.PasswordLength
	}
	if length < 1 || length > 4096 {
		return "", errInvalidParameter("PasswordLength must be between 1 and 4096.")
	}
	if len(aws.ToString(in.ExcludeCharacters)) > 4096 {
		return "", errInvalidParameter("ExcludeCharacters can hold at most 4096 characters.")
	}
	keep := func(set string, excluded *bool) string {
		if aws.ToBool(excluded) {
			return ""
		}
		return strings.Map(func(c rune) rune {
			if strings.ContainsRune(aws.ToString(in.ExcludeCharacters), c) {
				return -1
			}
			return c
		}, set)
	}
	var types []string // the included types, each required by default
	for _, t := range []string{keep(lowercase, in.ExcludeLowercase), keep(uppercase, in.ExcludeUppercase),
		keep(digits, in.ExcludeNumbers), keep(punctuation, in.ExcludePunctuation)} {
		if t != "" {
			types = append(types, t)
		}
	}
	pool := strings.Join(types, "")
	if aws.ToBool(in.IncludeSpace) {
		pool += keep(" ", nil)
	}
	if pool == "" {
		return "", errInvalidParameter("The password cannot be generated: every character is excluded.")
	}
	out := make([]byte, 0, length)
	if in.RequireEachIncludedType == nil || *in.RequireEachIncludedType {
		if int64(len(types)) > length {
			return "", errInvalidParameter("PasswordLength is too short to hold one character of each included type.")
		}
		for _, t := range types {
			c, err := draw(r, t)
			if err != nil {
				return "", err
			}
			out = append(out, c)
		}
	}
	for int64(len(out)) < length {
		c, err := draw(r, pool)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	// Shuffle, so that the required characters are anywhere.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(r, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

// draw picks one character of set uniformly.
func draw(r io.Reader, set string) (byte, error) {
	i, err := rand.Int(r, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, err
	}
	return set[i.Int64()], nil
}
