package secretsmanager

import (
	"slices"

	"berth/sqlite"
)

// kindValue is one version's value, stored apart from its secret, under
// the secret's ARN and the version's id: reading one version, describing
// or listing secrets decodes no other value. A secret holds up to 100
// versions of up to 64 KiB each.
const kindValue = "secretsmanager/value"

// value is a stored version's value.
type value struct {
	String *string `json:",omitempty"`
	Binary []byte  `json:",omitempty"`
}

// valueKey is where the value of version id of the secret arn, stored at
// k, lives.
func valueKey(k sqlite.Key, arn, id string) sqlite.Key {
	return sqlite.Key{Account: k.Account, Region: k.Region, Kind: kindValue, ID: arn + "/" + id}
}

// valuesOf selects the values of the secret arn stored at k.
func valuesOf(k sqlite.Key, arn string) sqlite.Query {
	return sqlite.Query{Account: k.Account, Region: k.Region, Kind: kindValue, Parent: arn}
}

// inline reports whether v holds its value itself: a version not yet
// stored.
func (v *version) inline() bool { return v.String != nil || v.Binary != nil }

// loadValue fills in the value of v, a version of the secret arn stored
// at k, from its own row unless v holds it.
func loadValue(tx *sqlite.Tx, k sqlite.Key, arn string, v *version) error {
	if v.inline() {
		return nil
	}
	var val value
	if err := tx.Get(valueKey(k, arn, v.ID), &val); err != nil {
		return err
	}
	v.String, v.Binary = val.String, val.Binary
	return nil
}

// put stores sec at k: each value it holds inline in a row of its own,
// and the secret without them; the values of versions it no longer has
// go.
func put(tx *sqlite.Tx, k sqlite.Key, sec secret) error {
	sec.Versions = slices.Clone(sec.Versions)
	keep := map[string]bool{}
	for i := range sec.Versions {
		v := &sec.Versions[i]
		vk := valueKey(k, sec.ARN, v.ID)
		keep[vk.ID] = true
		if !v.inline() {
			continue
		}
		if err := tx.Put(sqlite.Row{Key: vk, Parent: sec.ARN}, value{String: v.String, Binary: v.Binary}); err != nil {
			return err
		}
		v.String, v.Binary = nil, nil
	}
	ids, _, err := tx.ListIDs(valuesOf(k, sec.ARN))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !keep[id] {
			if err := tx.Delete(sqlite.Key{Account: k.Account, Region: k.Region, Kind: kindValue, ID: id}); err != nil {
				return err
			}
		}
	}
	return tx.Put(sqlite.Row{Key: k, Name: sec.ARN}, sec)
}

// drop removes the secret arn stored at k, values included.
func drop(tx *sqlite.Tx, k sqlite.Key, arn string) error {
	if err := tx.Delete(k); err != nil {
		return err
	}
	return tx.DeleteAll(valuesOf(k, arn))
}
