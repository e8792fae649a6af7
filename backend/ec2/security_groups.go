package ec2

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// A security group is stored without its rules; each rule is its own
// record (a SecurityGroupRule, as DescribeSecurityGroupRules reports it)
// and DescribeSecurityGroups gathers them into IpPermissions.
// https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html

// createSecurityGroup stores a new group in a VPC with the rule every
// group starts with: all outbound traffic allowed.
func (b *Backend) createSecurityGroup(tx *sqlite.Tx, s backend.Scope, name, description, vpcID string, tags []types.Tag) (types.SecurityGroup, error) {
	id := b.id("sg")
	sg := types.SecurityGroup{
		GroupId: aws.String(id), GroupName: aws.String(name), Description: aws.String(description), VpcId: aws.String(vpcID),
		OwnerId: aws.String(s.Account), SecurityGroupArn: aws.String(arn(s, "security-group/"+id)), Tags: backend.OrEmpty(tags),
	}
	if err := tx.Put(s.Row(kindSecurityGroup, id, vpcID, name), sg); err != nil {
		return sg, err
	}
	all := types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	_, err := b.addRules(tx, s, sg, true, []types.IpPermission{all}, nil)
	return sg, err
}

// CreateSecurityGroup creates a security group in a VPC, the default VPC
// if none is named.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
func (b *Backend) CreateSecurityGroup(ctx context.Context, in *ec2api.CreateSecurityGroupInput) (*ec2api.CreateSecurityGroupOutput, error) {
	name, description := aws.ToString(in.GroupName), aws.ToString(in.Description)
	switch {
	case name == "":
		return nil, errMissing("GroupName")
	case description == "":
		return nil, errMissing("GroupDescription")
	case strings.HasPrefix(name, "sg-"):
		return nil, errInvalid("Group names may not be in the format sg-*.")
	case len(name) > 255 || len(description) > 255:
		return nil, errInvalid("Group name and description must be at most 255 characters.")
	}
	var sg types.SecurityGroup
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		vpcID, err := vpcOrDefault(tx, s, aws.ToString(in.VpcId))
		if err != nil {
			return err
		}
		q := s.Query(kindSecurityGroup, vpcID)
		q.Name = name
		if n, err := tx.Count(q); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return awsproto.ClientError("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
		sg, err = b.createSecurityGroup(tx, s, name, description, vpcID, tagsFor(in.TagSpecifications, types.ResourceTypeSecurityGroup))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSecurityGroupOutput{GroupId: sg.GroupId, SecurityGroupArn: sg.SecurityGroupArn, Tags: sg.Tags}, nil
}

// vpcOrDefault checks that a VPC exists, or names the default VPC.
func vpcOrDefault(tx *sqlite.Tx, s backend.Scope, id string) (string, error) {
	if id == "" {
		if err := tx.Get(s.Key(kindDefaults, "vpc"), &id); err != nil || id == "" {
			return "", awsproto.ClientError("VPCIdNotSpecified", "No default VPC for this user")
		}
		return id, nil
	}
	var v vpc
	return id, get(tx, s, kindVpc, id, &v)
}

// groupNamed finds a group by id or, in the default VPC, by name.
func groupNamed(tx *sqlite.Tx, s backend.Scope, id, name string) (types.SecurityGroup, error) {
	var sg types.SecurityGroup
	if id != "" || name == "" {
		return sg, get(tx, s, kindSecurityGroup, id, &sg)
	}
	vpcID, err := vpcOrDefault(tx, s, "")
	if err != nil {
		return sg, err
	}
	q := s.Query(kindSecurityGroup, vpcID)
	q.Name = name
	found, err := sqlite.ListAll[types.SecurityGroup](tx, q)
	if err != nil || len(found) == 0 {
		if err == nil {
			err = awsproto.ClientError("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, vpcID)
		}
		return sg, err
	}
	return found[0], nil
}

// protocol is an IP protocol as EC2 stores it: tcp, udp, icmp, icmpv6,
// -1 for all, or another protocol's number.
func protocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "tcp", "6":
		return "tcp", nil
	case "udp", "17":
		return "udp", nil
	case "icmp", "1":
		return "icmp", nil
	case "icmpv6", "58":
		return "icmpv6", nil
	case "-1", "all":
		return "-1", nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return p, nil
	}
	return "", errInvalid("Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

// rulesOf expands permissions into one rule per source or destination,
// without ids.
func rulesOf(s backend.Scope, sg types.SecurityGroup, egress bool, perms []types.IpPermission) ([]types.SecurityGroupRule, error) {
	var out []types.SecurityGroupRule
	for _, p := range perms {
		proto, err := protocol(aws.ToString(p.IpProtocol))
		if err != nil {
			return nil, err
		}
		from, to := int32(-1), int32(-1)
		switch proto {
		case "tcp", "udp":
			if p.FromPort == nil || p.ToPort == nil || *p.FromPort < 0 || *p.ToPort > 65535 || *p.FromPort > *p.ToPort {
				return nil, errInvalid("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
			}
			from, to = *p.FromPort, *p.ToPort
		case "icmp", "icmpv6":
			from, to = aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort)
		}
		rule := func(description *string) types.SecurityGroupRule {
			return types.SecurityGroupRule{
				GroupId: sg.GroupId, GroupOwnerId: aws.String(s.Account), IsEgress: aws.Bool(egress), IpProtocol: aws.String(proto),
				FromPort: aws.Int32(from), ToPort: aws.Int32(to), Description: description, Tags: []types.Tag{},
			}
		}
		for _, r := range p.IpRanges {
			x := rule(r.Description)
			x.CidrIpv4 = r.CidrIp
			out = append(out, x)
		}
		for _, r := range p.Ipv6Ranges {
			x := rule(r.Description)
			x.CidrIpv6 = r.CidrIpv6
			out = append(out, x)
		}
		for _, r := range p.PrefixListIds {
			x := rule(r.Description)
			x.PrefixListId = r.PrefixListId
			out = append(out, x)
		}
		for _, r := range p.UserIdGroupPairs {
			x := rule(r.Description)
			x.ReferencedGroupInfo = &types.ReferencedSecurityGroup{GroupId: r.GroupId, UserId: aws.String(s.Account)}
			out = append(out, x)
		}
	}
	return out, nil
}

// ruleKey is what makes a rule the same as another: direction, protocol,
// ports and peer.
func ruleKey(r types.SecurityGroupRule) string {
	peer := aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6) + aws.ToString(r.PrefixListId)
	if r.ReferencedGroupInfo != nil {
		peer = aws.ToString(r.ReferencedGroupInfo.GroupId)
	}
	return fmt.Sprintf("%t %s %d %d %s", aws.ToBool(r.IsEgress), aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort), peer)
}

// addRules adds permissions to a group as rules, refusing one it has.
func (b *Backend) addRules(tx *sqlite.Tx, s backend.Scope, sg types.SecurityGroup, egress bool, perms []types.IpPermission, tags []types.Tag) ([]types.SecurityGroupRule, error) {
	rules, err := rulesOf(s, sg, egress, perms)
	if err != nil {
		return nil, err
	}
	existing, err := all[types.SecurityGroupRule](tx, s, kindRule, *sg.GroupId)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		r := &rules[i]
		if g := r.ReferencedGroupInfo; g != nil && aws.ToString(g.GroupId) != *sg.GroupId {
			var peer types.SecurityGroup
			if err := get(tx, s, kindSecurityGroup, aws.ToString(g.GroupId), &peer); err != nil {
				return nil, err
			}
		}
		if slices.ContainsFunc(existing, func(e types.SecurityGroupRule) bool { return ruleKey(e) == ruleKey(*r) }) {
			return nil, awsproto.ClientError("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
				strings.Fields(ruleKey(*r))[4], strings.ToUpper(*r.IpProtocol), *r.FromPort, *r.ToPort)
		}
		id := b.id("sgr")
		r.SecurityGroupRuleId, r.SecurityGroupRuleArn, r.Tags = aws.String(id), aws.String(arn(s, "security-group-rule/"+id)), backend.OrEmpty(tags)
		if err := tx.Put(s.Row(kindRule, id, *sg.GroupId, ""), *r); err != nil {
			return nil, err
		}
		existing = append(existing, *r)
	}
	return rules, nil
}

// permissions gathers a group's rules of one direction into IpPermissions
// as EC2 reports them: one per protocol and port range.
func permissions(rules []types.SecurityGroupRule, egress bool) []types.IpPermission {
	out := []types.IpPermission{}
	type portRange struct {
		proto    string
		from, to int32
	}
	var ranges []portRange // of out's permissions, by index
	for _, r := range rules {
		if aws.ToBool(r.IsEgress) != egress {
			continue
		}
		key := portRange{*r.IpProtocol, aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort)}
		i := slices.Index(ranges, key)
		if i < 0 {
			p := types.IpPermission{IpProtocol: r.IpProtocol, IpRanges: []types.IpRange{}, Ipv6Ranges: []types.Ipv6Range{},
				PrefixListIds: []types.PrefixListId{}, UserIdGroupPairs: []types.UserIdGroupPair{}}
			if *r.IpProtocol != "-1" {
				p.FromPort, p.ToPort = r.FromPort, r.ToPort
			}
			out, ranges, i = append(out, p), append(ranges, key), len(out)
		}
		p := &out[i]
		switch {
		case r.CidrIpv4 != nil:
			p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: r.CidrIpv4, Description: r.Description})
		case r.CidrIpv6 != nil:
			p.Ipv6Ranges = append(p.Ipv6Ranges, types.Ipv6Range{CidrIpv6: r.CidrIpv6, Description: r.Description})
		case r.PrefixListId != nil:
			p.PrefixListIds = append(p.PrefixListIds, types.PrefixListId{PrefixListId: r.PrefixListId, Description: r.Description})
		case r.ReferencedGroupInfo != nil:
			p.UserIdGroupPairs = append(p.UserIdGroupPairs, types.UserIdGroupPair{
				GroupId: r.ReferencedGroupInfo.GroupId, UserId: r.ReferencedGroupInfo.UserId, Description: r.Description})
		}
	}
	return out
}

// legacyPermission is the permission of the top-level parameters that
// older callers use instead of IpPermissions.
func legacyPermission(proto *string, from, to *int32, cidr *string, group *string) []types.IpPermission {
	if proto == nil {
		return nil
	}
	p := types.IpPermission{IpProtocol: proto, FromPort: from, ToPort: to}
	if cidr != nil {
		p.IpRanges = []types.IpRange{{CidrIp: cidr}}
	}
	if group != nil {
		p.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: group}}
	}
	return []types.IpPermission{p}
}

// authorize adds rules to a group for the Authorize actions.
func (b *Backend) authorize(ctx context.Context, groupID, groupName string, egress bool, perms []types.IpPermission, specs []types.TagSpecification) ([]types.SecurityGroupRule, error) {
	if len(perms) == 0 {
		return nil, errMissing("IpPermissions")
	}
	var rules []types.SecurityGroupRule
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sg, err := groupNamed(tx, s, groupID, groupName)
		if err != nil {
			return err
		}
		rules, err = b.addRules(tx, s, sg, egress, perms, tagsFor(specs, types.ResourceTypeSecurityGroupRule))
		return err
	})
	return rules, err
}

// AuthorizeSecurityGroupIngress adds inbound rules to a group.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
func (b *Backend) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupIngressInput) (*ec2api.AuthorizeSecurityGroupIngressOutput, error) {
	perms := append(in.IpPermissions, legacyPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp, nil)...)
	rules, err := b.authorize(ctx, aws.ToString(in.GroupId), aws.ToString(in.GroupName), false, perms, in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(true), SecurityGroupRules: rules}, nil
}

// AuthorizeSecurityGroupEgress adds outbound rules to a group.
func (b *Backend) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupEgressInput) (*ec2api.AuthorizeSecurityGroupEgressOutput, error) {
	perms := append(in.IpPermissions, legacyPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp, nil)...)
	rules, err := b.authorize(ctx, aws.ToString(in.GroupId), "", true, perms, in.TagSpecifications)
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupEgressOutput{Return: aws.Bool(true), SecurityGroupRules: rules}, nil
}

// revoke removes rules from a group, by rule id or by permission.
func (b *Backend) revoke(ctx context.Context, groupID, groupName string, egress bool, perms []types.IpPermission, ids []string) ([]types.SecurityGroupRule, error) {
	var revoked []types.SecurityGroupRule
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sg, err := groupNamed(tx, s, groupID, groupName)
		if err != nil {
			return err
		}
		existing, err := all[types.SecurityGroupRule](tx, s, kindRule, *sg.GroupId)
		if err != nil {
			return err
		}
		wanted, err := rulesOf(s, sg, egress, perms)
		if err != nil {
			return err
		}
		for _, id := range ids {
			i := slices.IndexFunc(existing, func(r types.SecurityGroupRule) bool { return *r.SecurityGroupRuleId == id })
			if i < 0 || aws.ToBool(existing[i].IsEgress) != egress {
				return notFound(id)
			}
			revoked = append(revoked, existing[i])
		}
		for _, w := range wanted {
			i := slices.IndexFunc(existing, func(r types.SecurityGroupRule) bool { return ruleKey(r) == ruleKey(w) })
			if i < 0 {
				return awsproto.ClientError("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
			revoked = append(revoked, existing[i])
		}
		if len(revoked) == 0 {
			return errMissing("IpPermissions")
		}
		for _, r := range revoked {
			if err := tx.Delete(s.Key(kindRule, *r.SecurityGroupRuleId)); err != nil {
				return err
			}
		}
		return nil
	})
	return revoked, err
}

// RevokeSecurityGroupIngress removes inbound rules.
func (b *Backend) RevokeSecurityGroupIngress(ctx context.Context, in *ec2api.RevokeSecurityGroupIngressInput) (*ec2api.RevokeSecurityGroupIngressOutput, error) {
	perms := append(in.IpPermissions, legacyPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp, nil)...)
	rules, err := b.revoke(ctx, aws.ToString(in.GroupId), aws.ToString(in.GroupName), false, perms, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupIngressOutput{Return: aws.Bool(true), RevokedSecurityGroupRules: revokedRules(rules)}, nil
}

// RevokeSecurityGroupEgress removes outbound rules.
func (b *Backend) RevokeSecurityGroupEgress(ctx context.Context, in *ec2api.RevokeSecurityGroupEgressInput) (*ec2api.RevokeSecurityGroupEgressOutput, error) {
	perms := append(in.IpPermissions, legacyPermission(in.IpProtocol, in.FromPort, in.ToPort, in.CidrIp, nil)...)
	rules, err := b.revoke(ctx, aws.ToString(in.GroupId), "", true, perms, in.SecurityGroupRuleIds)
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupEgressOutput{Return: aws.Bool(true), RevokedSecurityGroupRules: revokedRules(rules)}, nil
}

func revokedRules(rules []types.SecurityGroupRule) []types.RevokedSecurityGroupRule {
	var out []types.RevokedSecurityGroupRule
	for _, r := range rules {
		x := types.RevokedSecurityGroupRule{SecurityGroupRuleId: r.SecurityGroupRuleId, GroupId: r.GroupId, IsEgress: r.IsEgress,
			IpProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CidrIpv4, CidrIpv6: r.CidrIpv6,
			PrefixListId: r.PrefixListId, Description: r.Description}
		if r.ReferencedGroupInfo != nil {
			x.ReferencedGroupId = r.ReferencedGroupInfo.GroupId
		}
		out = append(out, x)
	}
	return out
}

var groupFilter = filter[types.SecurityGroup]{
	id:   func(g types.SecurityGroup) string { return *g.GroupId },
	tags: func(g types.SecurityGroup) []types.Tag { return g.Tags },
	fields: map[string]func(types.SecurityGroup) []string{
		"group-id":    func(g types.SecurityGroup) []string { return str(g.GroupId) },
		"group-name":  func(g types.SecurityGroup) []string { return str(g.GroupName) },
		"vpc-id":      func(g types.SecurityGroup) []string { return str(g.VpcId) },
		"description": func(g types.SecurityGroup) []string { return str(g.Description) },
		"owner-id":    func(g types.SecurityGroup) []string { return str(g.OwnerId) },
	},
}

// DescribeSecurityGroups lists groups, with their permissions, by id,
// name (in the default VPC) and filters.
func (b *Backend) DescribeSecurityGroups(ctx context.Context, in *ec2api.DescribeSecurityGroupsInput) (*ec2api.DescribeSecurityGroupsOutput, error) {
	var groups []types.SecurityGroup
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		stored, err := all[types.SecurityGroup](tx, s, kindSecurityGroup, "")
		if err != nil {
			return err
		}
		ids := in.GroupIds
		for _, name := range in.GroupNames {
			sg, err := groupNamed(tx, s, "", name)
			if err != nil {
				return err
			}
			ids = append(ids, *sg.GroupId)
		}
		if groups, err = selected(stored, ids, in.Filters, groupFilter); err != nil {
			return err
		}
		for i := range groups {
			rules, err := all[types.SecurityGroupRule](tx, s, kindRule, *groups[i].GroupId)
			if err != nil {
				return err
			}
			groups[i].IpPermissions, groups[i].IpPermissionsEgress = permissions(rules, false), permissions(rules, true)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(groups, groupFilter.id, in.NextToken, in.MaxResults)
	return &ec2api.DescribeSecurityGroupsOutput{SecurityGroups: backend.OrEmpty(out), NextToken: next}, err
}

var ruleFilter = filter[types.SecurityGroupRule]{
	id:   func(r types.SecurityGroupRule) string { return *r.SecurityGroupRuleId },
	tags: func(r types.SecurityGroupRule) []types.Tag { return r.Tags },
	fields: map[string]func(types.SecurityGroupRule) []string{
		"group-id":               func(r types.SecurityGroupRule) []string { return str(r.GroupId) },
		"security-group-rule-id": func(r types.SecurityGroupRule) []string { return str(r.SecurityGroupRuleId) },
	},
}

// DescribeSecurityGroupRules lists rules by id and filters.
func (b *Backend) DescribeSecurityGroupRules(ctx context.Context, in *ec2api.DescribeSecurityGroupRulesInput) (*ec2api.DescribeSecurityGroupRulesOutput, error) {
	out, next, err := describe(ctx, b, stored[types.SecurityGroupRule](kindRule), ruleFilter,
		in.SecurityGroupRuleIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeSecurityGroupRulesOutput{SecurityGroupRules: backend.OrEmpty(out), NextToken: next}, err
}

// DeleteSecurityGroup deletes a group that no other group's rules refer
// to; a VPC's default group cannot be deleted.
func (b *Backend) DeleteSecurityGroup(ctx context.Context, in *ec2api.DeleteSecurityGroupInput) (*ec2api.DeleteSecurityGroupOutput, error) {
	var sg types.SecurityGroup
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		if sg, err = groupNamed(tx, s, aws.ToString(in.GroupId), aws.ToString(in.GroupName)); err != nil {
			return err
		}
		if *sg.GroupName == "default" {
			return awsproto.ClientError("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", *sg.GroupId)
		}
		rules, err := all[types.SecurityGroupRule](tx, s, kindRule, "")
		if err != nil {
			return err
		}
		for _, r := range rules {
			if r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == *sg.GroupId && *r.GroupId != *sg.GroupId {
				return errDependency("resource %s has a dependent object", *sg.GroupId)
			}
		}
		instances, err := all[instance](tx, s, kindInstance, *sg.VpcId)
		if err != nil {
			return err
		}
		for _, i := range instances {
			if i.Instance.State.Name != types.InstanceStateNameTerminated &&
				slices.ContainsFunc(i.Instance.SecurityGroups, func(g types.GroupIdentifier) bool { return *g.GroupId == *sg.GroupId }) {
				return errDependency("resource %s has a dependent object", *sg.GroupId)
			}
		}
		return b.deleteSecurityGroup(tx, s, *sg.GroupId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteSecurityGroupOutput{Return: aws.Bool(true), GroupId: sg.GroupId}, nil
}

// deleteSecurityGroup deletes a group and its rules.
func (b *Backend) deleteSecurityGroup(tx *sqlite.Tx, s backend.Scope, id string) error {
	if err := tx.DeleteAll(s.Query(kindRule, id)); err != nil {
		return err
	}
	return tx.Delete(s.Key(kindSecurityGroup, id))
}
