package ecs

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// PublishDNSClients gives publish the table of the tasks berth's DNS
// server knows in a VPC (a task's address → its VPC's id), now and after
// every change to tasks, until ctx ends: the server answers a private
// zone to the clients in its VPCs. An awsvpc task is in its subnet's
// VPC; the others share their host's address, and are in no VPC the
// server can tell.
func (b *Backend) PublishDNSClients(ctx context.Context, publish func(map[netip.Addr]string), log zerolog.Logger) {
	// A subnet stays in the VPC it was made in: what EC2 said of one
	// holds for the next tables.
	vpcs := map[subnetKey]string{}
	backend.Republish(ctx, b.dnsWake, b.env.Clock, func(ctx context.Context) (time.Time, error) {
		clients, err := b.dnsClients(ctx, vpcs)
		if err != nil {
			return time.Time{}, err
		}
		publish(clients)
		// The table is read from every live task: under a stream of
		// changes (thousands of tasks placed) it is built again at most
		// every dnsClientsInterval, the changes meanwhile together.
		select {
		case <-ctx.Done():
		case <-time.After(dnsClientsInterval):
		}
		return time.Time{}, nil
	}, log)
}

// dnsClientsInterval is the least time between two tables of DNS
// clients: a scan of 10,000 live tasks costs about 85 ms of CPU.
const dnsClientsInterval = 500 * time.Millisecond

// subnetKey is a subnet of a scope.
type subnetKey struct {
	scope  backend.Scope
	subnet string
}

// dnsClients is the table of the live awsvpc tasks' addresses and their
// VPCs. vpcs caches the VPC of each subnet asked about: a subnet EC2 no
// longer has (or no EC2 at all) leaves its tasks out.
func (b *Backend) dnsClients(ctx context.Context, vpcs map[subnetKey]string) (map[netip.Addr]string, error) {
	var tasks []sqlite.Keyed[struct{ Attachments []types.Attachment }]
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tasks, err = scanLiveTasks[struct{ Attachments []types.Attachment }](tx)
		return err
	}); err != nil {
		return nil, err
	}
	out := map[netip.Addr]string{}
	for _, t := range tasks {
		s := backend.Scope{Account: t.Key.Account, Region: t.Key.Region}
		for _, att := range t.Value.Attachments {
			if aws.ToString(att.Type) != "ElasticNetworkInterface" {
				continue
			}
			var subnet string
			var addr netip.Addr
			for _, kv := range att.Details {
				switch aws.ToString(kv.Name) {
				case "subnetId":
					subnet = aws.ToString(kv.Value)
				case "privateIPv4Address":
					addr, _ = netip.ParseAddr(aws.ToString(kv.Value))
				}
			}
			if !addr.IsValid() || subnet == "" {
				continue
			}
			vpc, err := b.subnetVPC(ctx, subnetKey{s, subnet}, vpcs)
			if err != nil {
				return nil, err
			}
			if vpc != "" {
				out[addr.Unmap()] = vpc
			}
		}
	}
	return out, nil
}

// subnetVPC is the id of the VPC of subnet k, from vpcs or else EC2; ""
// when EC2 has no such subnet, or berth no EC2.
func (b *Backend) subnetVPC(ctx context.Context, k subnetKey, vpcs map[subnetKey]string) (string, error) {
	if vpc, ok := vpcs[k]; ok {
		return vpc, nil
	}
	if b.Network == nil {
		return "", nil
	}
	out, err := b.Network.DescribeSubnets(backend.WithScope(ctx, k.scope), &ec2.DescribeSubnetsInput{SubnetIds: []string{k.subnet}})
	var refused *awsproto.Error
	vpc := ""
	switch {
	case errors.As(err, &refused) && refused.Sender:
		// InvalidSubnetID.NotFound: deleted since the task started.
	case err != nil:
		return "", err
	case len(out.Subnets) == 1:
		vpc = aws.ToString(out.Subnets[0].VpcId)
	}
	vpcs[k] = vpc
	return vpc, nil
}
