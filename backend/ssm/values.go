package ssm

import (
	"strconv"

	"berth/backend"
	"berth/sqlite"
)

// kindValue is one version's value, stored apart from its parameter under
// the parameter's name and the version's number: listing parameters or
// reading one version decodes no other value. A parameter keeps up to 100
// versions of up to 8 KB each.
const kindValue = "ssm/value"

// value is a stored version's value.
type value struct{ Value string }

// valueID is the id of the value of version n of the parameter name.
func valueID(name string, n int64) string { return name + ":" + strconv.FormatInt(n, 10) }

// fill loads the value of v, a version of p stored in scope s, from its
// own row unless v holds it: a public parameter's, or a version not yet
// stored. A value is never empty, so an empty one is one to load.
func (p *parameter) fill(tx *sqlite.Tx, s backend.Scope, v *version) error {
	if v.Value != "" {
		return nil
	}
	var val value
	if err := tx.Get(s.Key(kindValue, valueID(p.Name, v.Version)), &val); err != nil {
		return err
	}
	v.Value = val.Value
	return nil
}

// save stores p in scope s: each value it holds in a row of its own, and
// the parameter without them; the values of versions it no longer keeps
// go.
func save(tx *sqlite.Tx, s backend.Scope, p *parameter) error {
	stored := *p
	stored.Versions = append([]version(nil), p.Versions...)
	keep := map[string]bool{}
	for i := range stored.Versions {
		v := &stored.Versions[i]
		id := valueID(p.Name, v.Version)
		keep[id] = true
		if v.Value == "" {
			continue
		}
		if err := tx.Put(s.Row(kindValue, id, p.Name, ""), value{v.Value}); err != nil {
			return err
		}
		v.Value = ""
	}
	ids, _, err := tx.ListIDs(s.Query(kindValue, p.Name))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !keep[id] {
			if err := tx.Delete(s.Key(kindValue, id)); err != nil {
				return err
			}
		}
	}
	return tx.Put(s.Row(kindParameter, p.Name, "", p.Name), &stored)
}

// remove deletes the parameter name of scope s with its values.
func remove(tx *sqlite.Tx, s backend.Scope, name string) error {
	if err := tx.Delete(s.Key(kindParameter, name)); err != nil {
		return err
	}
	return tx.DeleteAll(s.Query(kindValue, name))
}
