package iam

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestAWSPolicyTable checks every row of the AWS managed policy table
// against the constraints of IAM's Policy type.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html
func TestAWSPolicyTable(t *testing.T) {
	version := regexp.MustCompile(`^v[1-9][0-9]*$`)
	id := regexp.MustCompile(`^ANPA[A-Z2-7]{17}$`)
	ids := map[string]string{}
	policies := awsManaged()
	if len(policies) != len(awsPolicies()) {
		t.Fatalf("%d ARNs for %d rows: a policy is listed twice", len(policies), len(awsPolicies()))
	}
	for arn, p := range policies {
		if err := validName("policyName", *p.Policy.PolicyName, 128); err != nil {
			t.Errorf("%s: %v", arn, err)
		}
		if _, err := validPath(p.Policy.Path); err != nil {
			t.Errorf("%s: %v", arn, err)
		}
		if arn != "arn:aws:iam::aws:policy"+*p.Policy.Path+*p.Policy.PolicyName {
			t.Errorf("%s: name %s, path %s", arn, *p.Policy.PolicyName, *p.Policy.Path)
		}
		if !version.MatchString(*p.Policy.DefaultVersionId) {
			t.Errorf("%s: DefaultVersionId %q", arn, *p.Policy.DefaultVersionId)
		}
		if d := *p.Policy.Description; d == "" || len(d) > 1000 {
			t.Errorf("%s: Description %q", arn, d)
		}
		if p.Policy.UpdateDate.Before(*p.Policy.CreateDate) {
			t.Errorf("%s: edited %v before created %v", arn, p.Policy.UpdateDate, p.Policy.CreateDate)
		}
		if *p.Policy.DefaultVersionId == "v1" && !p.Policy.UpdateDate.Equal(*p.Policy.CreateDate) {
			t.Errorf("%s: only one version, yet edited %v after created %v", arn, p.Policy.UpdateDate, p.Policy.CreateDate)
		}
		if !id.MatchString(*p.Policy.PolicyId) || ids[*p.Policy.PolicyId] != "" {
			t.Errorf("%s: PolicyId %q (also %s)", arn, *p.Policy.PolicyId, ids[*p.Policy.PolicyId])
		}
		ids[*p.Policy.PolicyId] = arn
		var doc struct {
			Version   string
			Statement []map[string]any
		}
		if err := json.Unmarshal([]byte(p.Document), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
			t.Errorf("%s: document %s: %v", arn, p.Document, err)
		}
	}
}
