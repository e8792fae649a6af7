package servicediscovery

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/backend"
	"berth/sqlite"
)

// operation is a stored operation: what a namespace change or an
// instance registration returns the id of. berth completes each at once,
// so it is stored SUCCESS.
type operation struct {
	ID      string
	Type    types.OperationType
	Status  types.OperationStatus
	Targets map[string]string
	Created time.Time
	Updated time.Time
}

// record stores a completed operation of type typ on targets (by
// types.OperationTargetType) and returns its id.
func (b *Backend) record(tx *sqlite.Tx, s backend.Scope, typ types.OperationType, targets map[types.OperationTargetType]string) (string, error) {
	now := b.now()
	op := operation{ID: b.operationID(), Type: typ, Status: types.OperationStatusSuccess, Targets: map[string]string{}, Created: now, Updated: now}
	for k, v := range targets {
		op.Targets[string(k)] = v
	}
	return op.ID, tx.Put(s.Row(kindOperation, op.ID, "", string(typ)), op)
}

func (o operation) sdk(s backend.Scope) *types.Operation {
	return &types.Operation{Id: aws.String(o.ID), Type: o.Type, Status: o.Status, Targets: o.Targets,
		CreateDate: aws.Time(o.Created), UpdateDate: aws.Time(o.Updated), OwnerAccount: aws.String(s.Account)}
}

// GetOperation describes an operation.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html
func (b *Backend) GetOperation(ctx context.Context, in *sd.GetOperationInput) (*sd.GetOperationOutput, error) {
	var op operation
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		if err := tx.Get(s.Key(kindOperation, aws.ToString(in.OperationId)), &op); err != nil {
			return notFound(err, errOperationNotFound(aws.ToString(in.OperationId)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.GetOperationOutput{Operation: op.sdk(backend.ScopeFrom(ctx))}, nil
}

// ListOperations lists operations, those matching every filter:
// NAMESPACE_ID and SERVICE_ID (EQ), STATUS and TYPE (EQ or IN),
// UPDATE_DATE (BETWEEN two Unix times, the start first).
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ListOperations.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_OperationFilter.html
func (b *Backend) ListOperations(ctx context.Context, in *sd.ListOperationsInput) (*sd.ListOperationsOutput, error) {
	var keep []func(operation) bool
	for _, f := range in.Filters {
		match, err := operationFilter(f)
		if err != nil {
			return nil, err
		}
		keep = append(keep, match)
	}
	var ops []operation
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		all, err := sqlite.ListAll[operation](tx, s.Query(kindOperation, ""))
		ops = slices.DeleteFunc(all, func(o operation) bool {
			return slices.ContainsFunc(keep, func(k func(operation) bool) bool { return !k(o) })
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ops, func(a, b operation) int { return cmpStrings(a.ID, b.ID) })
	page, next, err := page(ops, func(o operation) string { return o.ID }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &sd.ListOperationsOutput{Operations: []types.OperationSummary{}, NextToken: next}
	for _, o := range page {
		out.Operations = append(out.Operations, types.OperationSummary{Id: aws.String(o.ID), Status: o.Status})
	}
	return out, nil
}

// operationFilter is the test of one ListOperations filter.
func operationFilter(f types.OperationFilter) (func(operation) bool, error) {
	cond := f.Condition
	if cond == "" {
		cond = types.FilterConditionEq
	}
	if len(f.Values) == 0 {
		return nil, errInvalid("A filter needs at least one value.")
	}
	eq := func(get func(operation) string) (func(operation) bool, error) {
		switch {
		case cond == types.FilterConditionEq && len(f.Values) == 1:
			return func(o operation) bool { return get(o) == f.Values[0] }, nil
		case cond == types.FilterConditionIn && (f.Name == types.OperationFilterNameStatus || f.Name == types.OperationFilterNameType):
			return func(o operation) bool { return slices.Contains(f.Values, get(o)) }, nil
		}
		return nil, errInvalid("Condition %s with %d values is not supported for filter %s.", cond, len(f.Values), f.Name)
	}
	switch f.Name {
	case types.OperationFilterNameNamespaceId:
		return eq(func(o operation) string { return o.Targets[string(types.OperationTargetTypeNamespace)] })
	case types.OperationFilterNameServiceId:
		return eq(func(o operation) string { return o.Targets[string(types.OperationTargetTypeService)] })
	case types.OperationFilterNameStatus:
		return eq(func(o operation) string { return string(o.Status) })
	case types.OperationFilterNameType:
		return eq(func(o operation) string { return string(o.Type) })
	case types.OperationFilterNameUpdateDate:
		if cond != types.FilterConditionBetween || len(f.Values) != 2 {
			return nil, errInvalid("Filter UPDATE_DATE takes condition BETWEEN with a start and an end date.")
		}
		from, err1 := unixTime(f.Values[0])
		to, err2 := unixTime(f.Values[1])
		if err1 != nil || err2 != nil {
			return nil, errInvalid("UPDATE_DATE values must be Unix times.")
		}
		return func(o operation) bool { return !o.Updated.Before(from) && !o.Updated.After(to) }, nil
	}
	return nil, errInvalid("Unknown filter %s.", f.Name)
}

// unixTime reads a date as a filter gives it: seconds since the epoch,
// with a fraction or not.
func unixTime(v string) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(f * 1000)).UTC(), nil
}
