package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoute53CLI drives Route 53 with the aws CLI: a zone, a batch of
// record sets from a JSON file, its change, the listing, a batch that
// fails, and the zone's deletion.
func TestRoute53CLI(t *testing.T) {
	t.Parallel()
	region := newRegion()
	aws := cli{t: t, url: shared.url, region: region}
	name := region + ".cli.example.org"

	var created struct {
		HostedZone struct {
			Id, Name string
			Config   struct{ PrivateZone bool }
		}
		ChangeInfo    struct{ Id, Status string }
		DelegationSet struct{ NameServers []string }
		Location      string
	}
	aws.run(&created, "route53", "create-hosted-zone", "--name", name, "--caller-reference", "cli-"+region)
	if !zoneID.MatchString(created.HostedZone.Id) || created.HostedZone.Name != name+"." || created.ChangeInfo.Status != "PENDING" || len(created.DelegationSet.NameServers) != 4 {
		t.Fatalf("create-hosted-zone = %+v", created)
	}
	id := strings.TrimPrefix(created.HostedZone.Id, "/hostedzone/")

	batch := filepath.Join(t.TempDir(), "batch.json")
	os.WriteFile(batch, []byte(`{"Comment": "web", "Changes": [
		{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.`+name+`", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.1"}]}},
		{"Action": "CREATE", "ResourceRecordSet": {"Name": "*.`+name+`", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": "\"hello\""}]}}
	]}`), 0o644)
	var change struct {
		ChangeInfo struct{ Id, Status, Comment string }
	}
	aws.run(&change, "route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", "file://"+batch)
	if change.ChangeInfo.Status != "PENDING" || change.ChangeInfo.Comment != "web" {
		t.Fatalf("change-resource-record-sets = %+v", change)
	}
	var got struct{ ChangeInfo struct{ Status string } }
	aws.run(&got, "route53", "get-change", "--id", change.ChangeInfo.Id)
	if got.ChangeInfo.Status != "INSYNC" {
		t.Fatalf("get-change = %+v", got)
	}
	var list struct {
		ResourceRecordSets []struct {
			Name, Type      string
			TTL             int
			ResourceRecords []struct{ Value string }
		}
	}
	aws.run(&list, "route53", "list-resource-record-sets", "--hosted-zone-id", id)
	var seen []string
	for _, s := range list.ResourceRecordSets {
		seen = append(seen, s.Name+" "+s.Type)
	}
	// The wildcard comes back escaped as \052
	// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html).
	if want := name + ". NS," + name + ". SOA," + `\052.` + name + ". TXT,www." + name + ". A"; strings.Join(seen, ",") != want {
		t.Fatalf("list-resource-record-sets = %q, want %q", seen, want)
	}
	// The same batch again fails as a whole.
	aws.fails("InvalidChangeBatch", "route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", "file://"+batch)
	aws.fails("HostedZoneNotEmpty", "route53", "delete-hosted-zone", "--id", id)
	aws.fails("NoSuchHostedZone", "route53", "get-hosted-zone", "--id", "Z00000000000000NOPE")

	del := strings.ReplaceAll(mustRead(t, batch), `"CREATE"`, `"DELETE"`)
	os.WriteFile(batch, []byte(del), 0o644)
	aws.run(nil, "route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", "file://"+batch)
	aws.run(nil, "route53", "delete-hosted-zone", "--id", id)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
