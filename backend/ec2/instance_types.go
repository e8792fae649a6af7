package ec2

import (
	"context"
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

// Instance types: the common general purpose, compute and memory
// optimized sizes that ECS hosts use, with their vCPUs, memory and
// network limits as the instance type specifications give them. Every
// type is offered in every zone of every region.
// https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html
// https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html
// https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html

// instanceSize is one size of a family: vCPUs, memory, and the network
// interfaces it may have with IPv4 addresses each.
type instanceSize struct {
	name        string
	vcpus       int32
	memoryMiB   int64
	enis, ips   int32
	performance string
}

// instanceFamily is a family of sizes on one processor architecture.
type instanceFamily struct {
	name      string
	arch      types.ArchitectureType
	burstable bool
	// nitro families run two threads per core on x86; Xen ones (t2) and
	// Graviton ones one.
	nitro bool
	sizes []instanceSize
}

// burstableSizes are the t3/t3a/t4g sizes; t2 has fewer interfaces on
// its larger sizes.
var burstableSizes = []instanceSize{
	{"nano", 2, 512, 2, 2, "Up to 5 Gigabit"}, {"micro", 2, 1024, 2, 2, "Up to 5 Gigabit"},
	{"small", 2, 2048, 3, 4, "Up to 5 Gigabit"}, {"medium", 2, 4096, 3, 6, "Up to 5 Gigabit"},
	{"large", 2, 8192, 3, 12, "Up to 5 Gigabit"}, {"xlarge", 4, 16384, 4, 15, "Up to 5 Gigabit"},
	{"2xlarge", 8, 32768, 4, 15, "Up to 5 Gigabit"},
}

// sizes are the large to 4xlarge sizes of a family with memory GiB per
// vCPU.
func sizes(memoryPerVCPU int64, performance string) []instanceSize {
	return []instanceSize{
		{"large", 2, 2 * memoryPerVCPU * 1024, 3, 10, performance}, {"xlarge", 4, 4 * memoryPerVCPU * 1024, 4, 15, performance},
		{"2xlarge", 8, 8 * memoryPerVCPU * 1024, 4, 15, performance}, {"4xlarge", 16, 16 * memoryPerVCPU * 1024, 8, 30, performance},
	}
}

var instanceFamilies = []instanceFamily{
	{name: "t2", arch: types.ArchitectureTypeX8664, burstable: true, sizes: []instanceSize{
		{"nano", 1, 512, 2, 2, "Low to Moderate"}, {"micro", 1, 1024, 2, 2, "Low to Moderate"},
		{"small", 1, 2048, 3, 4, "Low to Moderate"}, {"medium", 2, 4096, 3, 6, "Low to Moderate"},
		{"large", 2, 8192, 3, 12, "Low to Moderate"}, {"xlarge", 4, 16384, 3, 15, "Moderate"},
		{"2xlarge", 8, 32768, 3, 15, "Moderate"},
	}},
	{name: "t3", arch: types.ArchitectureTypeX8664, burstable: true, nitro: true, sizes: burstableSizes},
	{name: "t3a", arch: types.ArchitectureTypeX8664, burstable: true, nitro: true, sizes: burstableSizes},
	{name: "t4g", arch: types.ArchitectureTypeArm64, burstable: true, nitro: true, sizes: burstableSizes},
	{name: "m5", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(4, "Up to 10 Gigabit")},
	{name: "m6i", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(4, "Up to 12.5 Gigabit")},
	{name: "m6g", arch: types.ArchitectureTypeArm64, nitro: true, sizes: sizes(4, "Up to 10 Gigabit")},
	{name: "m7g", arch: types.ArchitectureTypeArm64, nitro: true, sizes: sizes(4, "Up to 12.5 Gigabit")},
	{name: "c5", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(2, "Up to 10 Gigabit")},
	{name: "c6i", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(2, "Up to 12.5 Gigabit")},
	{name: "c6g", arch: types.ArchitectureTypeArm64, nitro: true, sizes: sizes(2, "Up to 10 Gigabit")},
	{name: "c7g", arch: types.ArchitectureTypeArm64, nitro: true, sizes: sizes(2, "Up to 12.5 Gigabit")},
	{name: "r5", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(8, "Up to 10 Gigabit")},
	{name: "r6i", arch: types.ArchitectureTypeX8664, nitro: true, sizes: sizes(8, "Up to 12.5 Gigabit")},
	{name: "r6g", arch: types.ArchitectureTypeArm64, nitro: true, sizes: sizes(8, "Up to 10 Gigabit")},
}

// freeTier are the types AWS's free tier covers.
var freeTier = []string{"t2.micro", "t3.micro"}

// instanceTypes is the catalogue, in name order.
func instanceTypes() []types.InstanceTypeInfo {
	var out []types.InstanceTypeInfo
	for _, f := range instanceFamilies {
		for _, sz := range f.sizes {
			name := f.name + "." + sz.name
			threads := int32(1)
			if f.nitro && f.arch == types.ArchitectureTypeX8664 {
				threads = 2
			}
			hypervisor := types.InstanceTypeHypervisorNitro
			if !f.nitro {
				hypervisor = types.InstanceTypeHypervisorXen
			}
			out = append(out, types.InstanceTypeInfo{
				InstanceType: types.InstanceType(name), CurrentGeneration: aws.Bool(true), FreeTierEligible: aws.Bool(slices.Contains(freeTier, name)),
				SupportedUsageClasses:        []types.UsageClassType{types.UsageClassTypeOnDemand, types.UsageClassTypeSpot},
				SupportedRootDeviceTypes:     []types.RootDeviceType{types.RootDeviceTypeEbs},
				SupportedVirtualizationTypes: []types.VirtualizationType{types.VirtualizationTypeHvm},
				SupportedBootModes:           []types.BootModeType{types.BootModeTypeLegacyBios, types.BootModeTypeUefi},
				BareMetal:                    aws.Bool(false), Hypervisor: hypervisor,
				ProcessorInfo: &types.ProcessorInfo{SupportedArchitectures: []types.ArchitectureType{f.arch}},
				VCpuInfo: &types.VCpuInfo{DefaultVCpus: aws.Int32(sz.vcpus), DefaultCores: aws.Int32(max(1, sz.vcpus/threads)),
					DefaultThreadsPerCore: aws.Int32(threads)},
				MemoryInfo:               &types.MemoryInfo{SizeInMiB: aws.Int64(sz.memoryMiB)},
				InstanceStorageSupported: aws.Bool(false),
				EbsInfo: &types.EbsInfo{EbsOptimizedSupport: types.EbsOptimizedSupportDefault, EncryptionSupport: types.EbsEncryptionSupportSupported,
					NvmeSupport: types.EbsNvmeSupportRequired},
				NetworkInfo: &types.NetworkInfo{NetworkPerformance: aws.String(sz.performance), MaximumNetworkInterfaces: aws.Int32(sz.enis),
					MaximumNetworkCards: aws.Int32(1), DefaultNetworkCardIndex: aws.Int32(0),
					Ipv4AddressesPerInterface: aws.Int32(sz.ips), Ipv6AddressesPerInterface: aws.Int32(sz.ips), Ipv6Supported: aws.Bool(true),
					EnaSupport: types.EnaSupportRequired, EfaSupported: aws.Bool(false), EncryptionInTransitSupported: aws.Bool(false)},
				PlacementGroupInfo:            &types.PlacementGroupInfo{SupportedStrategies: []types.PlacementGroupStrategy{types.PlacementGroupStrategyPartition, types.PlacementGroupStrategySpread}},
				HibernationSupported:          aws.Bool(f.arch == types.ArchitectureTypeX8664),
				BurstablePerformanceSupported: aws.Bool(f.burstable),
				DedicatedHostsSupported:       aws.Bool(!f.burstable),
				AutoRecoverySupported:         aws.Bool(true),
			})
		}
	}
	slices.SortFunc(out, func(a, b types.InstanceTypeInfo) int {
		return strings.Compare(string(a.InstanceType), string(b.InstanceType))
	})
	return out
}

var instanceTypeFilter = filter[types.InstanceTypeInfo]{
	id:   func(t types.InstanceTypeInfo) string { return string(t.InstanceType) },
	tags: func(types.InstanceTypeInfo) []types.Tag { return nil },
	fields: map[string]func(types.InstanceTypeInfo) []string{
		"instance-type":                      func(t types.InstanceTypeInfo) []string { return []string{string(t.InstanceType)} },
		"current-generation":                 func(t types.InstanceTypeInfo) []string { return boolean(t.CurrentGeneration) },
		"free-tier-eligible":                 func(t types.InstanceTypeInfo) []string { return boolean(t.FreeTierEligible) },
		"burstable-performance-supported":    func(t types.InstanceTypeInfo) []string { return boolean(t.BurstablePerformanceSupported) },
		"bare-metal":                         func(t types.InstanceTypeInfo) []string { return boolean(t.BareMetal) },
		"hypervisor":                         func(t types.InstanceTypeInfo) []string { return []string{string(t.Hypervisor)} },
		"vcpu-info.default-vcpus":            func(t types.InstanceTypeInfo) []string { return number(t.VCpuInfo.DefaultVCpus) },
		"vcpu-info.default-cores":            func(t types.InstanceTypeInfo) []string { return number(t.VCpuInfo.DefaultCores) },
		"vcpu-info.default-threads-per-core": func(t types.InstanceTypeInfo) []string { return number(t.VCpuInfo.DefaultThreadsPerCore) },
		"memory-info.size-in-mib": func(t types.InstanceTypeInfo) []string {
			return []string{strconv.FormatInt(*t.MemoryInfo.SizeInMiB, 10)}
		},
		"network-info.maximum-network-interfaces": func(t types.InstanceTypeInfo) []string {
			return number(t.NetworkInfo.MaximumNetworkInterfaces)
		},
		"processor-info.supported-architecture": func(t types.InstanceTypeInfo) []string {
			return []string{string(t.ProcessorInfo.SupportedArchitectures[0])}
		},
		"supported-usage-class": func(t types.InstanceTypeInfo) []string {
			return []string{string(types.UsageClassTypeOnDemand), string(types.UsageClassTypeSpot)}
		},
	},
}

func number(v *int32) []string { return []string{strconv.Itoa(int(aws.ToInt32(v)))} }

// DescribeInstanceTypes describes instance types by name and filter.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html
func (b *Backend) DescribeInstanceTypes(ctx context.Context, in *ec2api.DescribeInstanceTypesInput) (*ec2api.DescribeInstanceTypesOutput, error) {
	all := instanceTypes()
	var unknown []string
	for _, t := range in.InstanceTypes {
		if !slices.ContainsFunc(all, func(i types.InstanceTypeInfo) bool { return i.InstanceType == t }) {
			unknown = append(unknown, string(t))
		}
	}
	if len(unknown) > 0 {
		return nil, awsproto.ClientError("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(unknown, ", "))
	}
	names := make([]string, len(in.InstanceTypes))
	for i, t := range in.InstanceTypes {
		names[i] = string(t)
	}
	load := func(*sqlite.Tx, backend.Scope) ([]types.InstanceTypeInfo, error) { return all, nil }
	out, next, err := describe(ctx, b, load, instanceTypeFilter, names, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeInstanceTypesOutput{InstanceTypes: backend.OrEmpty(out), NextToken: next}, nil
}

// DescribeInstanceTypeOfferings lists where each instance type is
// offered: the region, or each of its zones by name or id.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html
func (b *Backend) DescribeInstanceTypeOfferings(ctx context.Context, in *ec2api.DescribeInstanceTypeOfferingsInput) (*ec2api.DescribeInstanceTypeOfferingsOutput, error) {
	region := backend.ScopeFrom(ctx).Region
	var locations []string
	switch in.LocationType {
	case "", types.LocationTypeRegion:
		locations = []string{region}
	case types.LocationTypeAvailabilityZone:
		for _, z := range zones(region) {
			locations = append(locations, z.name)
		}
	case types.LocationTypeAvailabilityZoneId:
		for _, z := range zones(region) {
			locations = append(locations, z.id)
		}
	default:
		return nil, errInvalid("Value (%s) for parameter locationType is invalid. Valid values: region, availability-zone, availability-zone-id", in.LocationType)
	}
	locationType := in.LocationType
	if locationType == "" {
		locationType = types.LocationTypeRegion
	}
	var offerings []types.InstanceTypeOffering
	for _, t := range instanceTypes() {
		for _, l := range locations {
			offerings = append(offerings, types.InstanceTypeOffering{InstanceType: t.InstanceType, LocationType: locationType, Location: aws.String(l)})
		}
	}
	f := filter[types.InstanceTypeOffering]{
		id:   func(o types.InstanceTypeOffering) string { return string(o.InstanceType) + "@" + *o.Location },
		tags: func(types.InstanceTypeOffering) []types.Tag { return nil },
		fields: map[string]func(types.InstanceTypeOffering) []string{
			"instance-type": func(o types.InstanceTypeOffering) []string { return []string{string(o.InstanceType)} },
			"location":      func(o types.InstanceTypeOffering) []string { return str(o.Location) },
		},
	}
	load := func(*sqlite.Tx, backend.Scope) ([]types.InstanceTypeOffering, error) { return offerings, nil }
	out, next, err := describe(ctx, b, load, f, nil, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeInstanceTypeOfferingsOutput{InstanceTypeOfferings: backend.OrEmpty(out), NextToken: next}, nil
}
