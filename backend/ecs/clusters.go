package ecs

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// defaultCluster is the cluster ECS assumes when a call names none.
const defaultCluster = "default"

// CreateCluster creates a cluster, or returns the existing ACTIVE cluster of
// that name unchanged, as ECS does.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html
func (b *Backend) CreateCluster(ctx context.Context, in *ecsapi.CreateClusterInput) (*ecsapi.CreateClusterOutput, error) {
	s := scopeOf(ctx)
	name := defaultCluster
	if in.ClusterName != nil {
		name = *in.ClusterName
	}
	if err := validName("Cluster name", name); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := b.defaultNamespace(ctx, in.ServiceConnectDefaults); err != nil {
		return nil, err
	}
	var out *types.Cluster
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		arn := s.arn("cluster/" + name)
		var existing types.Cluster
		err := tx.Get(s.Key(kindCluster, arn), &existing)
		if err == nil && aws.ToString(existing.Status) == "ACTIVE" {
			out, err = b.describeCluster(tx, s, existing, allClusterFields)
			return err
		}
		if err != nil && !errors.Is(err, sqlite.ErrNotFound) {
			return err
		}
		c := types.Cluster{
			ClusterArn:                      aws.String(arn),
			ClusterName:                     aws.String(name),
			Status:                          aws.String("ACTIVE"),
			CapacityProviders:               backend.OrEmpty(in.CapacityProviders),
			DefaultCapacityProviderStrategy: backend.OrEmpty(in.DefaultCapacityProviderStrategy),
			Settings:                        in.Settings,
			Configuration:                   in.Configuration,
			ServiceConnectDefaults:          namespaceDefaults(in.ServiceConnectDefaults),
		}
		if c.Settings == nil {
			c.Settings = []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}
		}
		if err := validCapacityProviders(tx, s, c.CapacityProviders, c.DefaultCapacityProviderStrategy); err != nil {
			return err
		}
		if err := tx.Put(s.Row(kindCluster, arn, "", name), c); err != nil {
			return err
		}
		if len(b.fleet.hosts) > 1 {
			// A fleet's hosts join every new cluster, as agents configured
			// for it register; the local engine alone joins a cluster when
			// it first places an EC2 task, so that a Fargate cluster shows
			// no instance.
			for _, h := range b.fleet.hosts {
				if _, err := b.hostInstance(tx, s, c, h); err != nil {
					return err
				}
			}
		}
		if err := tx.Delete(s.Key(kindTags, arn)); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			if err := setTags(tx, s, arn, in.Tags); err != nil {
				return err
			}
		}
		out, err = b.describeCluster(tx, s, c, allClusterFields)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.CreateClusterOutput{Cluster: out}, nil
}

// namespaceDefaults is the cluster's serviceConnectDefaults as the
// request sets them: none for an empty namespace ("If you update the
// cluster with an empty string "" for the namespace name, the cluster
// configuration for Service Connect is removed").
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterServiceConnectDefaultsRequest.html
func namespaceDefaults(in *types.ClusterServiceConnectDefaultsRequest) *types.ClusterServiceConnectDefaults {
	if in == nil || aws.ToString(in.Namespace) == "" {
		return nil
	}
	return &types.ClusterServiceConnectDefaults{Namespace: in.Namespace}
}

func validSettings(settings []types.ClusterSetting) error {
	for _, st := range settings {
		if st.Name != types.ClusterSettingNameContainerInsights {
			return errInvalidParameter("Invalid cluster setting name: %s", st.Name)
		}
		switch aws.ToString(st.Value) {
		case "enabled", "disabled", "enhanced":
		default:
			return errInvalidParameter("Invalid value for containerInsights setting: %s. Valid values are enabled, disabled and enhanced.", aws.ToString(st.Value))
		}
	}
	return nil
}

// allClusterFields is every DescribeClusters include option.
var allClusterFields = []types.ClusterField{
	types.ClusterFieldAttachments, types.ClusterFieldConfigurations,
	types.ClusterFieldSettings, types.ClusterFieldStatistics, types.ClusterFieldTags,
}

// describeCluster fills the counts ECS computes and drops the parts that
// were not asked for with include.
func (b *Backend) describeCluster(tx *sqlite.Tx, s scope, c types.Cluster, include []types.ClusterField) (*types.Cluster, error) {
	arn := aws.ToString(c.ClusterArn)
	tasks, err := liveTasks[taskKeys](tx, s.Scope, arn) // stopped tasks count for nothing
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		switch aws.ToString(t.LastStatus) {
		case statusRunning:
			c.RunningTasksCount++
		case statusProvisioning, statusPending, statusActivating:
			c.PendingTasksCount++
		}
	}
	active := s.Query(kindService, arn)
	active.Name = "ACTIVE"
	services, err := tx.Count(active)
	if err != nil {
		return nil, err
	}
	c.ActiveServicesCount = int32(services)
	instances, err := sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, arn))
	if err != nil {
		return nil, err
	}
	for _, ci := range instances {
		if aws.ToString(ci.Status) != "INACTIVE" {
			c.RegisteredContainerInstancesCount++
		}
	}
	c.Statistics, c.Tags, c.Attachments = nil, nil, nil
	if !slices.Contains(include, types.ClusterFieldSettings) {
		c.Settings = nil
	}
	if !slices.Contains(include, types.ClusterFieldConfigurations) {
		c.Configuration = nil
	}
	if slices.Contains(include, types.ClusterFieldStatistics) {
		c.Statistics = []types.KeyValuePair{}
	}
	if slices.Contains(include, types.ClusterFieldAttachments) {
		c.Attachments = []types.Attachment{}
	}
	if slices.Contains(include, types.ClusterFieldTags) {
		if c.Tags, err = tags(tx, s, arn); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// cluster loads the cluster ref names (a name or ARN; nil for "default").
func (b *Backend) cluster(tx *sqlite.Tx, s scope, ref *string) (types.Cluster, error) {
	name := defaultCluster
	if ref != nil && *ref != "" {
		name = s.name(*ref, "cluster")
	}
	var c types.Cluster
	err := tx.Get(s.Key(kindCluster, s.arn("cluster/"+name)), &c)
	return c, notFound(err, errClusterNotFound)
}

// activeCluster is cluster for mutations: the cluster must be ACTIVE, and
// the default cluster is created on first use, as ECS does for calls such
// as RunTask and CreateService that name no cluster.
func (b *Backend) activeCluster(tx *sqlite.Tx, s scope, ref *string) (types.Cluster, error) {
	c, err := b.cluster(tx, s, ref)
	isDefault := ref == nil || *ref == "" || *ref == defaultCluster
	if isDefault && (isNotFound(err) || (err == nil && aws.ToString(c.Status) != "ACTIVE")) {
		arn := s.arn("cluster/" + defaultCluster)
		c = types.Cluster{
			ClusterArn: aws.String(arn), ClusterName: aws.String(defaultCluster), Status: aws.String("ACTIVE"),
			CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
			Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}},
		}
		return c, tx.Put(s.Row(kindCluster, arn, "", defaultCluster), c)
	}
	if err != nil {
		return c, err
	}
	if aws.ToString(c.Status) != "ACTIVE" {
		return c, errClusterNotFound()
	}
	return c, nil
}

func isNotFound(err error) bool {
	return awsproto.HasCode(err, &types.ClusterNotFoundException{})
}

// DescribeClusters describes up to 100 clusters; unknown ones are failures
// with reason MISSING.
func (b *Backend) DescribeClusters(ctx context.Context, in *ecsapi.DescribeClustersInput) (*ecsapi.DescribeClustersOutput, error) {
	s := scopeOf(ctx)
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{defaultCluster}
	}
	if len(refs) > 100 {
		return nil, errInvalidParameter("clusters can have at most 100 items.")
	}
	out := &ecsapi.DescribeClustersOutput{Clusters: []types.Cluster{}, Failures: []types.Failure{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		for _, ref := range refs {
			c, err := b.cluster(tx, s, aws.String(ref))
			if isNotFound(err) {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(clusterArnFor(s, ref)), Reason: aws.String("MISSING")})
				continue
			}
			if err != nil {
				return err
			}
			d, err := b.describeCluster(tx, s, c, in.Include)
			if err != nil {
				return err
			}
			out.Clusters = append(out.Clusters, *d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func clusterArnFor(s scope, ref string) string {
	if resourceName(ref, "cluster") != ref {
		return ref
	}
	return s.arn("cluster/" + ref)
}

// ListClusters lists the ARNs of ACTIVE clusters in creation order.
func (b *Backend) ListClusters(ctx context.Context, in *ecsapi.ListClustersInput) (*ecsapi.ListClustersOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListClustersOutput{ClusterArns: []string{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		q := s.Query(kindCluster, "")
		q.Token, q.Limit = ptrValue(in.NextToken), limit
		page, next, err := sqlite.ListPage(tx, q, func(c types.Cluster) bool { return aws.ToString(c.Status) == "ACTIVE" })
		for _, c := range page {
			out.ClusterArns = append(out.ClusterArns, *c.ClusterArn)
		}
		out.NextToken = nextToken(next)
		return pageToken(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateCluster changes a cluster's settings, configuration and Service
// Connect defaults.
func (b *Backend) UpdateCluster(ctx context.Context, in *ecsapi.UpdateClusterInput) (*ecsapi.UpdateClusterOutput, error) {
	if in.Cluster == nil {
		return nil, errInvalidParameter("Cluster must be specified.")
	}
	if err := validSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := b.defaultNamespace(ctx, in.ServiceConnectDefaults); err != nil {
		return nil, err
	}
	c, err := b.updateCluster(ctx, in.Cluster, func(c *types.Cluster) error {
		if in.Settings != nil {
			c.Settings = mergeSettings(c.Settings, in.Settings)
		}
		if in.Configuration != nil {
			c.Configuration = in.Configuration
		}
		if in.ServiceConnectDefaults != nil {
			c.ServiceConnectDefaults = namespaceDefaults(in.ServiceConnectDefaults)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateClusterOutput{Cluster: c}, nil
}

// UpdateClusterSettings changes a cluster's settings (containerInsights).
func (b *Backend) UpdateClusterSettings(ctx context.Context, in *ecsapi.UpdateClusterSettingsInput) (*ecsapi.UpdateClusterSettingsOutput, error) {
	if in.Cluster == nil || in.Settings == nil {
		return nil, errInvalidParameter("Cluster and settings must be specified.")
	}
	if err := validSettings(in.Settings); err != nil {
		return nil, err
	}
	c, err := b.updateCluster(ctx, in.Cluster, func(c *types.Cluster) error {
		c.Settings = mergeSettings(c.Settings, in.Settings)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateClusterSettingsOutput{Cluster: c}, nil
}

// PutClusterCapacityProviders replaces a cluster's capacity providers and
// default strategy.
func (b *Backend) PutClusterCapacityProviders(ctx context.Context, in *ecsapi.PutClusterCapacityProvidersInput) (*ecsapi.PutClusterCapacityProvidersOutput, error) {
	if in.Cluster == nil || in.CapacityProviders == nil || in.DefaultCapacityProviderStrategy == nil {
		return nil, errInvalidParameter("cluster, capacityProviders and defaultCapacityProviderStrategy are required.")
	}
	s := scopeOf(ctx)
	c, err := b.updateClusterTx(ctx, in.Cluster, func(tx *sqlite.Tx, c *types.Cluster) error {
		if err := validCapacityProviders(tx, s, in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
			return err
		}
		c.CapacityProviders = in.CapacityProviders
		c.DefaultCapacityProviderStrategy = in.DefaultCapacityProviderStrategy
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutClusterCapacityProvidersOutput{Cluster: c}, nil
}

func mergeSettings(have, set []types.ClusterSetting) []types.ClusterSetting {
	out := slices.Clone(have)
	for _, st := range set {
		i := slices.IndexFunc(out, func(h types.ClusterSetting) bool { return h.Name == st.Name })
		if i >= 0 {
			out[i] = st
		} else {
			out = append(out, st)
		}
	}
	return out
}

func (b *Backend) updateCluster(ctx context.Context, ref *string, change func(*types.Cluster) error) (*types.Cluster, error) {
	return b.updateClusterTx(ctx, ref, func(_ *sqlite.Tx, c *types.Cluster) error { return change(c) })
}

func (b *Backend) updateClusterTx(ctx context.Context, ref *string, change func(*sqlite.Tx, *types.Cluster) error) (*types.Cluster, error) {
	s := scopeOf(ctx)
	var out *types.Cluster
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, ref)
		if err != nil {
			return err
		}
		if aws.ToString(c.Status) != "ACTIVE" {
			return errClusterNotFound()
		}
		if err := change(tx, &c); err != nil {
			return err
		}
		if err := tx.Put(s.Row(kindCluster, *c.ClusterArn, "", *c.ClusterName), c); err != nil {
			return err
		}
		out, err = b.describeCluster(tx, s, c, allClusterFields)
		return err
	})
	return out, err
}

// DeleteCluster marks a cluster INACTIVE. It refuses while the cluster has
// active services, running tasks or registered container instances.
func (b *Backend) DeleteCluster(ctx context.Context, in *ecsapi.DeleteClusterInput) (*ecsapi.DeleteClusterOutput, error) {
	if in.Cluster == nil {
		return nil, errInvalidParameter("Cluster must be specified.")
	}
	s := scopeOf(ctx)
	var out *types.Cluster
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		if aws.ToString(c.Status) != "ACTIVE" {
			return errClusterNotFound()
		}
		d, err := b.describeCluster(tx, s, c, nil)
		if err != nil {
			return err
		}
		switch {
		case d.ActiveServicesCount > 0 || hasDrainingServices(tx, s, *c.ClusterArn):
			return awsproto.Modeled(&types.ClusterContainsServicesException{}, "The Cluster cannot be deleted while Services are active.")
		case d.RunningTasksCount > 0 || d.PendingTasksCount > 0:
			return awsproto.Modeled(&types.ClusterContainsTasksException{}, "The Cluster cannot be deleted while Tasks are active.")
		case d.RegisteredContainerInstancesCount > 0 && !b.onlyHosts(tx, s, c):
			return awsproto.Modeled(&types.ClusterContainsContainerInstancesException{}, "The Cluster cannot be deleted while Container Instances are active or draining.")
		}
		if err := b.deregisterHosts(tx, s, c); err != nil {
			return err
		}
		c.Status = aws.String("INACTIVE")
		if err := tx.Put(s.Row(kindCluster, *c.ClusterArn, "", *c.ClusterName), c); err != nil {
			return err
		}
		out, err = b.describeCluster(tx, s, c, allClusterFields)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteClusterOutput{Cluster: out}, nil
}

func hasDrainingServices(tx *sqlite.Tx, s scope, clusterArn string) bool {
	q := s.Query(kindService, clusterArn)
	q.Name = "DRAINING"
	n, _ := tx.Count(q)
	return n > 0
}
