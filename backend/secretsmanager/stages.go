package secretsmanager

import (
	"slices"
	"time"
)

// Staging labels mark versions: AWSCURRENT the value GetSecretValue
// answers by default, AWSPREVIOUS the one before it. A label is on at
// most one version; a version without labels is deprecated.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// maxVersions is how many versions a secret keeps: beyond it, Secrets
// Manager removes deprecated versions, but not those created in the last
// 24 hours.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
const maxVersions = 100

// maxLabels is how many staging labels a secret's versions may carry
// together.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
const maxLabels = 20

// checkLabels refuses versions that carry more than maxLabels staging
// labels together.
func checkLabels(vs []version) error {
	n := 0
	for _, v := range vs {
		n += len(v.Stages)
	}
	if n > maxLabels {
		return errLimit("You have exceeded the maximum number of staging labels attached across all versions of the secret (%d).", maxLabels)
	}
	return nil
}

// holder is the index of the version with label, or -1.
func holder(vs []version, label string) int {
	return slices.IndexFunc(vs, func(v version) bool { return slices.Contains(v.Stages, label) })
}

// versionIndex is the index of the version with id, or -1.
func versionIndex(vs []version, id string) int {
	return slices.IndexFunc(vs, func(v version) bool { return v.ID == id })
}

// attach moves label to vs[to] from whichever version had it. Moving
// AWSCURRENT puts AWSPREVIOUS on the version it left.
func attach(vs []version, label string, to int) {
	from := holder(vs, label)
	if from == to {
		return
	}
	if from >= 0 {
		detach(vs, label, from)
	}
	vs[to].Stages = append(vs[to].Stages, label)
	if label == stageCurrent && from >= 0 {
		attach(vs, stagePrevious, from)
	}
}

// detach removes label from vs[from].
func detach(vs []version, label string, from int) {
	vs[from].Stages = slices.DeleteFunc(slices.Clone(vs[from].Stages), func(l string) bool { return l == label })
}

// pick is the index of the version that versionID, else stage, else
// AWSCURRENT names, or ResourceNotFoundException.
func pick(vs []version, versionID, stage string) (int, error) {
	if versionID != "" {
		i := versionIndex(vs, versionID)
		if i < 0 {
			return -1, errNoVersion(versionID)
		}
		if stage != "" && !slices.Contains(vs[i].Stages, stage) {
			return -1, errNoStage(stage)
		}
		return i, nil
	}
	if stage == "" {
		stage = stageCurrent
	}
	i := holder(vs, stage)
	if i < 0 {
		return -1, errNoStage(stage)
	}
	return i, nil
}

// prune removes the oldest deprecated versions older than a day while
// there are more than maxVersions.
func prune(vs []version, now time.Time) []version {
	for len(vs) > maxVersions {
		i := slices.IndexFunc(vs, func(v version) bool { return len(v.Stages) == 0 && now.Sub(v.Created) >= 24*time.Hour })
		if i < 0 {
			break
		}
		vs = slices.Delete(vs, i, i+1)
	}
	return vs
}
