package route53

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/sqlite"
)

// Zone is a hosted zone as berth's DNS server answers for it.
type Zone struct {
	Account string
	ID      string
	// Name is the zone's name, lower case with a trailing dot, escapes
	// read (*.example.com., not \052.example.com.).
	Name string
	// Private is true for a zone that answers only in its VPCs.
	Private bool
	VPCs    []types.VPC
	// Records are the zone's record sets (names, and alias targets' DNS
	// names, as Name).
	Records []types.ResourceRecordSet
}

// Zones returns every hosted zone of every account.
func (b *Backend) Zones(ctx context.Context) ([]Zone, error) {
	var stored []sqlite.Keyed[zone]
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		stored, err = sqlite.ScanAll[zone](tx, kindZone, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Zone, len(stored))
	for i, k := range stored {
		z := k.Value
		records := slices.Clone(z.Records)
		for j := range records {
			name := display(*records[j].Name)
			records[j].Name = &name
			if a := records[j].AliasTarget; a != nil {
				target := *a
				dns := display(aws.ToString(a.DNSName))
				target.DNSName = &dns
				records[j].AliasTarget = &target
			}
		}
		out[i] = Zone{Account: k.Key.Account, ID: z.ID, Name: display(z.Name), Private: z.Private, VPCs: slices.Clone(z.VPCs), Records: records}
	}
	return out, nil
}
