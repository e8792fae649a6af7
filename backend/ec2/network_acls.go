package ec2

import (
	"cmp"
	"context"
	"net/netip"
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

// Network ACLs, as records: their entries and subnet associations are
// kept and described, and no traffic is filtered by them.
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html

// kindACLAssociation is a subnet's association with a network ACL other
// than its first one (types.NetworkAclAssociation, by subnet id). A subnet
// without one is associated with its VPC's default ACL.
const kindACLAssociation = "ec2/network-acl-association"

// The rule numbers a user may give an entry; 32767 is the catch-all deny.
const (
	minRuleNumber = 1
	maxRuleNumber = 32766
	denyAllNumber = 32767
)

// newNetworkACL is a network ACL with only the catch-all deny entries, as
// a new custom ACL has; defaultNetworkACL adds the entries that allow all.
func newNetworkACL(s backend.Scope, id, vpcID string, tags []types.Tag) types.NetworkAcl {
	deny := func(egress bool) types.NetworkAclEntry {
		return types.NetworkAclEntry{RuleNumber: aws.Int32(denyAllNumber), Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny,
			Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")}
	}
	return types.NetworkAcl{NetworkAclId: aws.String(id), VpcId: aws.String(vpcID), OwnerId: aws.String(s.Account), IsDefault: aws.Bool(false),
		Entries: []types.NetworkAclEntry{deny(true), deny(false)}, Associations: []types.NetworkAclAssociation{}, Tags: backend.OrEmpty(tags)}
}

// defaultNetworkACL is a VPC's default network ACL: all traffic allowed
// both ways, then the catch-all deny.
func defaultNetworkACL(s backend.Scope, id, vpcID string) types.NetworkAcl {
	acl := newNetworkACL(s, id, vpcID, nil)
	acl.IsDefault = aws.Bool(true)
	for _, egress := range []bool{true, false} {
		acl.Entries = append(acl.Entries, types.NetworkAclEntry{RuleNumber: aws.Int32(100), Protocol: aws.String("-1"),
			RuleAction: types.RuleActionAllow, Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")})
	}
	sortEntries(acl.Entries)
	return acl
}

// sortEntries orders entries as EC2 lists them: outbound first, each
// direction by rule number.
func sortEntries(entries []types.NetworkAclEntry) {
	slices.SortFunc(entries, func(a, b types.NetworkAclEntry) int {
		if ea, eb := aws.ToBool(a.Egress), aws.ToBool(b.Egress); ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return cmp.Compare(aws.ToInt32(a.RuleNumber), aws.ToInt32(b.RuleNumber))
	})
}

var networkACLFilter = filter[types.NetworkAcl]{
	id:   func(a types.NetworkAcl) string { return *a.NetworkAclId },
	tags: func(a types.NetworkAcl) []types.Tag { return a.Tags },
	fields: map[string]func(types.NetworkAcl) []string{
		"network-acl-id": func(a types.NetworkAcl) []string { return str(a.NetworkAclId) },
		"vpc-id":         func(a types.NetworkAcl) []string { return str(a.VpcId) },
		"default":        func(a types.NetworkAcl) []string { return boolean(a.IsDefault) },
		"owner-id":       func(a types.NetworkAcl) []string { return str(a.OwnerId) },
		"association.subnet-id": func(a types.NetworkAcl) []string {
			return each(a.Associations, func(x types.NetworkAclAssociation) *string { return x.SubnetId })
		},
		"association.association-id": func(a types.NetworkAcl) []string {
			return each(a.Associations, func(x types.NetworkAclAssociation) *string { return x.NetworkAclAssociationId })
		},
		"association.network-acl-id": func(a types.NetworkAcl) []string {
			return each(a.Associations, func(x types.NetworkAclAssociation) *string { return x.NetworkAclId })
		},
		// An entry filter matches an ACL with any entry that has the
		// value; the provider finds an aws_network_acl_rule by
		// entry.egress and entry.rule-number.
		"entry.cidr":      entryField(func(e types.NetworkAclEntry) []string { return str(e.CidrBlock) }),
		"entry.ipv6-cidr": entryField(func(e types.NetworkAclEntry) []string { return str(e.Ipv6CidrBlock) }),
		"entry.egress":    entryField(func(e types.NetworkAclEntry) []string { return boolean(e.Egress) }),
		"entry.protocol":  entryField(func(e types.NetworkAclEntry) []string { return str(e.Protocol) }),
		"entry.rule-action": entryField(func(e types.NetworkAclEntry) []string {
			return []string{string(e.RuleAction)}
		}),
		"entry.rule-number": entryField(func(e types.NetworkAclEntry) []string { return intValue(e.RuleNumber) }),
		"entry.icmp.code": entryField(func(e types.NetworkAclEntry) []string {
			if e.IcmpTypeCode == nil {
				return nil
			}
			return intValue(e.IcmpTypeCode.Code)
		}),
		"entry.icmp.type": entryField(func(e types.NetworkAclEntry) []string {
			if e.IcmpTypeCode == nil {
				return nil
			}
			return intValue(e.IcmpTypeCode.Type)
		}),
		"entry.port-range.from": entryField(func(e types.NetworkAclEntry) []string {
			if e.PortRange == nil {
				return nil
			}
			return intValue(e.PortRange.From)
		}),
		"entry.port-range.to": entryField(func(e types.NetworkAclEntry) []string {
			if e.PortRange == nil {
				return nil
			}
			return intValue(e.PortRange.To)
		}),
	},
}

// entryField is an ACL filter over its entries: the values of all of them.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkAcls.html
func entryField(f func(types.NetworkAclEntry) []string) func(types.NetworkAcl) []string {
	return func(a types.NetworkAcl) []string {
		var out []string
		for _, e := range a.Entries {
			for _, v := range f(e) {
				if v != "" {
					out = append(out, v)
				}
			}
		}
		return out
	}
}

// intValue is a filter value of an optional integer: none when absent.
func intValue(v *int32) []string {
	if v == nil {
		return nil
	}
	return []string{strconv.Itoa(int(*v))}
}

// aclAssociations returns every subnet's network ACL association: the one
// stored, or the first, with its VPC's default ACL.
func aclAssociations(tx *sqlite.Tx, s backend.Scope) ([]types.NetworkAclAssociation, error) {
	subnets, err := all[types.Subnet](tx, s, kindSubnet, "")
	if err != nil {
		return nil, err
	}
	defaults := map[string]string{} // by VPC id
	var out []types.NetworkAclAssociation
	for _, sn := range subnets {
		var a types.NetworkAclAssociation
		err := tx.Get(s.Key(kindACLAssociation, *sn.SubnetId), &a)
		if isNotFound(err) {
			vpcID := *sn.VpcId
			if _, ok := defaults[vpcID]; !ok {
				var v vpc
				if err := get(tx, s, kindVpc, vpcID, &v); err != nil {
					return nil, err
				}
				defaults[vpcID] = v.DefaultNetworkACL
			}
			a, err = types.NetworkAclAssociation{NetworkAclId: aws.String(defaults[vpcID]), SubnetId: sn.SubnetId,
				NetworkAclAssociationId: aws.String("aclassoc-" + strings.TrimPrefix(*sn.SubnetId, "subnet-"))}, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// networkACLs loads the network ACLs with their associations.
func networkACLs(tx *sqlite.Tx, s backend.Scope) ([]types.NetworkAcl, error) {
	acls, err := all[types.NetworkAcl](tx, s, kindNetworkACL, "")
	if err != nil {
		return nil, err
	}
	associations, err := aclAssociations(tx, s)
	if err != nil {
		return nil, err
	}
	for i, acl := range acls {
		for _, a := range associations {
			if *a.NetworkAclId == *acl.NetworkAclId {
				acls[i].Associations = append(acls[i].Associations, a)
			}
		}
	}
	return acls, nil
}

// DescribeNetworkAcls lists network ACLs by id and filters, each with the
// subnets associated with it.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkAcls.html
func (b *Backend) DescribeNetworkAcls(ctx context.Context, in *ec2api.DescribeNetworkAclsInput) (*ec2api.DescribeNetworkAclsOutput, error) {
	out, next, err := describe(ctx, b, networkACLs, networkACLFilter, in.NetworkAclIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeNetworkAclsOutput{NetworkAcls: backend.OrEmpty(out), NextToken: next}, err
}

// CreateNetworkAcl creates a custom network ACL in a VPC: it denies all
// traffic until entries are added.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAcl.html
func (b *Backend) CreateNetworkAcl(ctx context.Context, in *ec2api.CreateNetworkAclInput) (*ec2api.CreateNetworkAclOutput, error) {
	if in.VpcId == nil {
		return nil, errMissing("VpcId")
	}
	var acl types.NetworkAcl
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, *in.VpcId, &v); err != nil {
			return err
		}
		acl = newNetworkACL(s, b.id("acl"), *in.VpcId, tagsFor(in.TagSpecifications, types.ResourceTypeNetworkAcl))
		return tx.Put(s.Row(kindNetworkACL, *acl.NetworkAclId, *in.VpcId, ""), acl)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkAclOutput{NetworkAcl: &acl, ClientToken: in.ClientToken}, nil
}

// DeleteNetworkAcl deletes a custom network ACL no subnet is associated
// with.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNetworkAcl.html
func (b *Backend) DeleteNetworkAcl(ctx context.Context, in *ec2api.DeleteNetworkAclInput) (*ec2api.DeleteNetworkAclOutput, error) {
	id := aws.ToString(in.NetworkAclId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var acl types.NetworkAcl
		if err := get(tx, s, kindNetworkACL, id, &acl); err != nil {
			return err
		}
		if aws.ToBool(acl.IsDefault) {
			return errInvalid("cannot delete default network ACL %s", id)
		}
		associations, err := aclAssociations(tx, s)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(associations, func(a types.NetworkAclAssociation) bool { return *a.NetworkAclId == id }) {
			return errDependency("The network ACL '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.Delete(s.Key(kindNetworkACL, id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclOutput{}, nil
}

// ReplaceNetworkAclAssociation moves a subnet to another network ACL of
// its VPC; the association gets a new id.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclAssociation.html
func (b *Backend) ReplaceNetworkAclAssociation(ctx context.Context, in *ec2api.ReplaceNetworkAclAssociationInput) (*ec2api.ReplaceNetworkAclAssociationOutput, error) {
	if in.AssociationId == nil {
		return nil, errMissing("AssociationId")
	}
	if in.NetworkAclId == nil {
		return nil, errMissing("NetworkAclId")
	}
	var id string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var acl types.NetworkAcl
		if err := get(tx, s, kindNetworkACL, *in.NetworkAclId, &acl); err != nil {
			return err
		}
		associations, err := aclAssociations(tx, s)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(associations, func(a types.NetworkAclAssociation) bool { return *a.NetworkAclAssociationId == *in.AssociationId })
		if i < 0 {
			return notFound(*in.AssociationId)
		}
		a := associations[i]
		var sn types.Subnet
		if err := get(tx, s, kindSubnet, *a.SubnetId, &sn); err != nil {
			return err
		}
		if *sn.VpcId != *acl.VpcId {
			return errInvalid("Network ACL %s and subnet %s belong to different networks", *acl.NetworkAclId, *sn.SubnetId)
		}
		id = b.id("aclassoc")
		a.NetworkAclAssociationId, a.NetworkAclId = aws.String(id), acl.NetworkAclId
		return tx.Put(s.Row(kindACLAssociation, *sn.SubnetId, *acl.NetworkAclId, ""), a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclAssociationOutput{NewAssociationId: aws.String(id)}, nil
}

// aclEntry is the fields of an entry that Create and Replace take.
type aclEntry struct {
	acl, cidr, ipv6, protocol *string
	number                    *int32
	egress                    *bool
	action                    types.RuleAction
	ports                     *types.PortRange
	icmp                      *types.IcmpTypeCode
}

// entry checks e and returns it as EC2 describes it: the protocol by its
// number, ports only for TCP and UDP, ICMP types only for ICMP.
func (e aclEntry) entry() (types.NetworkAclEntry, error) {
	var out types.NetworkAclEntry
	switch {
	case e.number == nil:
		return out, errMissing("RuleNumber")
	case e.protocol == nil:
		return out, errMissing("Protocol")
	case e.action == "":
		return out, errMissing("RuleAction")
	case e.cidr == nil && e.ipv6 == nil:
		return out, errMissing("CidrBlock")
	case e.cidr != nil && e.ipv6 != nil:
		return out, errInvalid("You may specify either an IPv4 CIDR block or an IPv6 CIDR block, but not both.")
	case *e.number < minRuleNumber || *e.number > maxRuleNumber:
		return out, errInvalid("Invalid value '%d' for ruleNumber. The rule number must be between %d and %d.", *e.number, minRuleNumber, maxRuleNumber)
	case e.action != types.RuleActionAllow && e.action != types.RuleActionDeny:
		return out, errInvalid("Invalid value '%s' for ruleAction. Valid values: allow, deny.", e.action)
	}
	name, err := protocol(*e.protocol)
	if err != nil {
		return out, err
	}
	number := map[string]string{"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}[name]
	if number == "" {
		number = name
	}
	out = types.NetworkAclEntry{RuleNumber: e.number, Protocol: aws.String(number), RuleAction: e.action, Egress: aws.Bool(aws.ToBool(e.egress))}
	for _, block := range []struct {
		value **string
		name  string
		v6    bool
	}{{&e.cidr, "cidrBlock", false}, {&e.ipv6, "ipv6CidrBlock", true}} {
		if *block.value == nil {
			continue
		}
		p, err := netip.ParsePrefix(**block.value)
		if err != nil || p.Addr().Is6() != block.v6 {
			return out, errInvalid("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", **block.value, block.name)
		}
		*block.value = aws.String(p.Masked().String())
	}
	out.CidrBlock, out.Ipv6CidrBlock = e.cidr, e.ipv6
	switch number {
	case "6", "17":
		if e.ports == nil || e.ports.From == nil || e.ports.To == nil {
			return out, errMissing("PortRange")
		}
		if *e.ports.From < 0 || *e.ports.To > 65535 || *e.ports.From > *e.ports.To {
			return out, errInvalid("Invalid value for portRange.")
		}
		out.PortRange = &types.PortRange{From: e.ports.From, To: e.ports.To}
	case "1", "58":
		if e.icmp == nil {
			return out, errMissing("IcmpTypeCode")
		}
		out.IcmpTypeCode = &types.IcmpTypeCode{Type: e.icmp.Type, Code: e.icmp.Code}
	}
	return out, nil
}

// putEntry adds an entry to a network ACL, or with replace, replaces the
// entry of its number and direction.
func (b *Backend) putEntry(ctx context.Context, e aclEntry, replace bool) error {
	if e.acl == nil {
		return errMissing("NetworkAclId")
	}
	entry, err := e.entry()
	if err != nil {
		return err
	}
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var acl types.NetworkAcl
		if err := get(tx, s, kindNetworkACL, *e.acl, &acl); err != nil {
			return err
		}
		i := entryIndex(acl.Entries, *entry.RuleNumber, *entry.Egress)
		switch {
		case replace && i < 0:
			return entryNotFound(*entry.RuleNumber, *entry.Egress, *e.acl)
		case replace:
			acl.Entries[i] = entry
		case i >= 0:
			return awsproto.ClientError("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", *entry.RuleNumber)
		default:
			acl.Entries = append(acl.Entries, entry)
		}
		sortEntries(acl.Entries)
		return tx.Put(s.Row(kindNetworkACL, *acl.NetworkAclId, *acl.VpcId, ""), acl)
	})
}

func entryIndex(entries []types.NetworkAclEntry, number int32, egress bool) int {
	return slices.IndexFunc(entries, func(x types.NetworkAclEntry) bool {
		return *x.RuleNumber == number && aws.ToBool(x.Egress) == egress
	})
}

func entryNotFound(number int32, egress bool, acl string) error {
	direction := "ingress"
	if egress {
		direction = "egress"
	}
	return awsproto.ClientError("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d (%s) does not exist in %s.", number, direction, acl)
}

// CreateNetworkAclEntry adds a numbered entry to a network ACL.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
func (b *Backend) CreateNetworkAclEntry(ctx context.Context, in *ec2api.CreateNetworkAclEntryInput) (*ec2api.CreateNetworkAclEntryOutput, error) {
	err := b.putEntry(ctx, aclEntry{acl: in.NetworkAclId, cidr: in.CidrBlock, ipv6: in.Ipv6CidrBlock, protocol: in.Protocol,
		number: in.RuleNumber, egress: in.Egress, action: in.RuleAction, ports: in.PortRange, icmp: in.IcmpTypeCode}, false)
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkAclEntryOutput{}, nil
}

// ReplaceNetworkAclEntry replaces the entry of a rule number and
// direction.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceNetworkAclEntry.html
func (b *Backend) ReplaceNetworkAclEntry(ctx context.Context, in *ec2api.ReplaceNetworkAclEntryInput) (*ec2api.ReplaceNetworkAclEntryOutput, error) {
	err := b.putEntry(ctx, aclEntry{acl: in.NetworkAclId, cidr: in.CidrBlock, ipv6: in.Ipv6CidrBlock, protocol: in.Protocol,
		number: in.RuleNumber, egress: in.Egress, action: in.RuleAction, ports: in.PortRange, icmp: in.IcmpTypeCode}, true)
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceNetworkAclEntryOutput{}, nil
}

// DeleteNetworkAclEntry removes the entry of a rule number and direction.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNetworkAclEntry.html
func (b *Backend) DeleteNetworkAclEntry(ctx context.Context, in *ec2api.DeleteNetworkAclEntryInput) (*ec2api.DeleteNetworkAclEntryOutput, error) {
	switch {
	case in.NetworkAclId == nil:
		return nil, errMissing("NetworkAclId")
	case in.RuleNumber == nil:
		return nil, errMissing("RuleNumber")
	case in.Egress == nil:
		return nil, errMissing("Egress")
	}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var acl types.NetworkAcl
		if err := get(tx, s, kindNetworkACL, *in.NetworkAclId, &acl); err != nil {
			return err
		}
		i := entryIndex(acl.Entries, *in.RuleNumber, *in.Egress)
		if i < 0 || *in.RuleNumber == denyAllNumber {
			return entryNotFound(*in.RuleNumber, *in.Egress, *in.NetworkAclId)
		}
		acl.Entries = slices.Delete(acl.Entries, i, i+1)
		return tx.Put(s.Row(kindNetworkACL, *acl.NetworkAclId, *acl.VpcId, ""), acl)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkAclEntryOutput{}, nil
}
