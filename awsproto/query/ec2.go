package query

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"berth/awsproto"
)

// The EC2 dialect of the query protocol
// (https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html):
// lists are flattened (X.N, from 1) under a name that is usually the
// member's in the singular; response elements are the member's name with
// a lower first letter, list items are <item>, and the response has no
// Result wrapper. The Smithy model names some members otherwise
// (ec2Names); the round trip through the SDK's own serializers in the
// tests checks both.

// EC2Namespace is the XML namespace of EC2 responses.
const EC2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// DecodeEC2 fills the SDK input struct that v points to from an EC2 query
// request's form values.
func DecodeEC2(form url.Values, v any) error {
	d := newDecoder(form, ec2Query{})
	_, err := d.value(reflect.ValueOf(v).Elem(), "")
	return err
}

// WriteEC2Response writes out as <action>Response with the request id.
func WriteEC2Response(w http.ResponseWriter, action, requestID string, out any) {
	var buf bytes.Buffer
	buf.WriteString(`<` + action + `Response xmlns="` + EC2Namespace + `"><requestId>`)
	escape(&buf, requestID)
	buf.WriteString(`</requestId>`)
	if rv := reflect.ValueOf(out); rv.IsValid() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		encoder{&buf, ec2Query{}}.members(reflect.Indirect(rv))
	}
	buf.WriteString(`</` + action + `Response>`)
	write(w, http.StatusOK, requestID, buf.Bytes())
}

// WriteEC2Error writes err as EC2's <Response><Errors>.
func WriteEC2Error(w http.ResponseWriter, requestID string, err *awsproto.Error) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>`)
	escape(&buf, err.Code)
	buf.WriteString(`</Code><Message>`)
	escape(&buf, err.Message)
	buf.WriteString(`</Message></Error></Errors><RequestID>`)
	escape(&buf, requestID)
	buf.WriteString(`</RequestID></Response>`)
	write(w, err.Status, requestID, buf.Bytes())
}

type ec2Query struct{}

func (ec2Query) inputName(t reflect.Type, f awsproto.Field) string {
	if n, ok := ec2Names[t.Name()+"."+f.GoName]; ok && n.in != "" {
		return n.in
	}
	if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() != reflect.Uint8 {
		return singular(f.GoName)
	}
	return f.GoName
}

func (ec2Query) inputItem(name string, i int) string { return name + "." + strconv.Itoa(i) }

func (ec2Query) outputName(t reflect.Type, f awsproto.Field) string {
	if n, ok := ec2Names[t.Name()+"."+f.GoName]; ok && n.out != "" {
		return n.out
	}
	r, size := utf8.DecodeRuneInString(f.GoName)
	return string(unicode.ToLower(r)) + f.GoName[size:]
}

// outputItem is <item>, but <member> for the lists the EC2 model marks so,
// and the names of ec2ItemNames.
func (ec2Query) outputItem(t reflect.Type, f *awsproto.Field, elem reflect.Type) string {
	if f != nil {
		if n, ok := ec2ItemNames[t.Name()+"."+f.GoName]; ok {
			return n
		}
	}
	if elem.Name() == "InferenceDeviceInfo" {
		return "member"
	}
	return "item"
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"):
		return s[:len(s)-2]
	}
	return strings.TrimSuffix(s, "s")
}

// ec2ItemNames are the element names of the items of the lists, by SDK
// type and field, that the EC2 model names otherwise than <item>.
var ec2ItemNames = map[string]string{
	"LaunchTemplateInstanceNetworkInterfaceSpecification.Groups": "groupId",
}

// ec2Names are the members of the shapes berth serves whose wire names
// the rules above do not give, by SDK type and field: in, the request
// form name; out, the response element name.
var ec2Names = map[string]struct{ in, out string }{
	"GpuDeviceInfo.Workloads":                                                          {out: "workloadSet"},
	"InstanceRequirements.AcceleratorManufacturers":                                    {out: "acceleratorManufacturerSet"},
	"InstanceRequirements.AcceleratorNames":                                            {out: "acceleratorNameSet"},
	"InstanceRequirements.AcceleratorTypes":                                            {out: "acceleratorTypeSet"},
	"InstanceRequirements.AllowedInstanceTypes":                                        {out: "allowedInstanceTypeSet"},
	"InstanceRequirements.CpuManufacturers":                                            {out: "cpuManufacturerSet"},
	"InstanceRequirements.ExcludedInstanceTypes":                                       {out: "excludedInstanceTypeSet"},
	"InstanceRequirements.InstanceGenerations":                                         {out: "instanceGenerationSet"},
	"InstanceRequirements.LocalStorageTypes":                                           {out: "localStorageTypeSet"},
	"CpuPerformanceFactorRequest.References":                                           {in: "Reference"},
	"CpuPerformanceFactor.References":                                                  {out: "referenceSet"},
	"InstanceTypeSpecification.SupportedInstanceTypes":                                 {out: "supportedInstanceTypeSet"},
	"InstanceTypeSpecification.UnsupportedInstanceTypes":                               {out: "unsupportedInstanceTypeSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecification.Groups":                       {out: "groupSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecification.Ipv4Prefixes":                 {out: "ipv4PrefixSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecification.Ipv6Addresses":                {out: "ipv6AddressesSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecification.Ipv6Prefixes":                 {out: "ipv6PrefixSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecification.PrivateIpAddresses":           {out: "privateIpAddressesSet"},
	"LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.Groups":                {in: "SecurityGroupId"},
	"LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.Ipv4Prefixes":          {in: "Ipv4Prefix"},
	"LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.Ipv6Prefixes":          {in: "Ipv6Prefix"},
	"LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.Ipv6Addresses":         {in: "Ipv6Addresses"},
	"LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.PrivateIpAddresses":    {in: "PrivateIpAddresses"},
	"LaunchTemplateInstanceSecondaryInterfaceSpecification.PrivateIpAddresses":         {out: "privateIpAddressesSet"},
	"LaunchTemplateTagSpecification.Tags":                                              {out: "tagSet"},
	"NetworkCardInfo.InterfaceTypes":                                                   {out: "interfaceTypeSet"},
	"ValidationWarning.Errors":                                                         {out: "errorSet"},
	"VolumeAttachment.State":                                                           {out: "status"},
	"Image.BlockDeviceMappings":                                                        {out: "blockDeviceMapping"},
	"Image.ImageWatermarks":                                                            {out: "imageWatermarkSet"},
	"Image.OwnerId":                                                                    {out: "imageOwnerId"},
	"Image.Public":                                                                     {out: "isPublic"},
	"Image.State":                                                                      {out: "imageState"},
	"Image.Tags":                                                                       {out: "tagSet"},
	"InstanceStatus.Events":                                                            {out: "eventsSet"},
	"ResponseLaunchTemplateData.BlockDeviceMappings":                                   {out: "blockDeviceMappingSet"},
	"ResponseLaunchTemplateData.ElasticGpuSpecifications":                              {out: "elasticGpuSpecificationSet"},
	"ResponseLaunchTemplateData.ElasticInferenceAccelerators":                          {out: "elasticInferenceAcceleratorSet"},
	"ResponseLaunchTemplateData.LicenseSpecifications":                                 {out: "licenseSet"},
	"ResponseLaunchTemplateData.NetworkInterfaces":                                     {out: "networkInterfaceSet"},
	"ResponseLaunchTemplateData.SecondaryInterfaces":                                   {out: "secondaryInterfaceSet"},
	"ResponseLaunchTemplateData.SecurityGroupIds":                                      {out: "securityGroupIdSet"},
	"ResponseLaunchTemplateData.SecurityGroups":                                        {out: "securityGroupSet"},
	"ResponseLaunchTemplateData.TagSpecifications":                                     {out: "tagSpecificationSet"},
	"Volume.Attachments":                                                               {out: "attachmentSet"},
	"Volume.State":                                                                     {out: "status"},
	"Volume.Tags":                                                                      {out: "tagSet"},
	"DescribeImagesInput.ExecutableUsers":                                              {in: "ExecutableBy"},
	"DescribeImagesInput.Owners":                                                       {in: "Owner"},
	"DescribeImagesOutput.Images":                                                      {out: "imagesSet"},
	"DeleteLaunchTemplateVersionsInput.Versions":                                       {in: "LaunchTemplateVersion"},
	"DeleteLaunchTemplateVersionsOutput.SuccessfullyDeletedLaunchTemplateVersions":     {out: "successfullyDeletedLaunchTemplateVersionSet"},
	"DeleteLaunchTemplateVersionsOutput.UnsuccessfullyDeletedLaunchTemplateVersions":   {out: "unsuccessfullyDeletedLaunchTemplateVersionSet"},
	"DescribeLaunchTemplateVersionsInput.Versions":                                     {in: "LaunchTemplateVersion"},
	"DescribeLaunchTemplateVersionsOutput.LaunchTemplateVersions":                      {out: "launchTemplateVersionSet"},
	"DescribeLaunchTemplatesOutput.LaunchTemplates":                                    {out: "launchTemplates"},
	"LaunchTemplate.Tags":                                                              {out: "tagSet"},
	"ModifyInstanceAttributeInput.Groups":                                              {in: "GroupId"},
	"ModifyLaunchTemplateInput.DefaultVersion":                                         {in: "SetDefaultVersion"},
	"DescribeInstanceAttributeOutput.BlockDeviceMappings":                              {out: "blockDeviceMapping"},
	"DescribeInstanceAttributeOutput.Groups":                                           {out: "groupSet"},
	"DescribeInstanceAttributeOutput.KernelId":                                         {out: "kernel"},
	"DescribeInstanceAttributeOutput.RamdiskId":                                        {out: "ramdisk"},
	"DescribeInstanceCreditSpecificationsOutput.InstanceCreditSpecifications":          {out: "instanceCreditSpecificationSet"},
	"DescribeInstanceStatusOutput.InstanceStatuses":                                    {out: "instanceStatusSet"},
	"DescribeVolumesOutput.Volumes":                                                    {out: "volumeSet"},
	"DescribeVolumesModificationsOutput.VolumesModifications":                          {out: "volumeModificationSet"},
	"ModifyInstanceCreditSpecificationOutput.SuccessfulInstanceCreditSpecifications":   {out: "successfulInstanceCreditSpecificationSet"},
	"ModifyInstanceCreditSpecificationOutput.UnsuccessfulInstanceCreditSpecifications": {out: "unsuccessfulInstanceCreditSpecificationSet"},
	"StartInstancesOutput.StartingInstances":                                           {out: "instancesSet"},
	"StopInstancesOutput.StoppingInstances":                                            {out: "instancesSet"},
	"ProductCode.ProductCodeId":                                                        {out: "productCode"},
	"ProductCode.ProductCodeType":                                                      {out: "type"},
	"InstanceSecondaryInterface.PrivateIpAddresses":                                    {out: "privateIpAddressSet"},
	"DescribeAddressesOutput.Addresses":                                                {out: "addressesSet"},
	"DescribeAddressesAttributeOutput.Addresses":                                       {out: "addressSet"},
	"DescribeInstanceTypesOutput.InstanceTypes":                                        {out: "instanceTypeSet"},
	"EbsInfo.EbsCards":                                                                 {out: "ebsCardSet"},
	"InferenceAcceleratorInfo.Accelerators":                                            {out: "accelerators"},
	"DescribeInstanceTypeOfferingsOutput.InstanceTypeOfferings":                        {out: "instanceTypeOfferingSet"},
	"CreateNetworkAclEntryInput.IcmpTypeCode":                                          {in: "Icmp"},
	"ReplaceNetworkAclEntryInput.IcmpTypeCode":                                         {in: "Icmp"},
	"NatGateway.AttachedAppliances":                                                    {out: "attachedApplianceSet"},
	"NatGateway.NatGatewayAddresses":                                                   {out: "natGatewayAddressSet"},
	"NatGateway.Tags":                                                                  {out: "tagSet"},
	"RunInstancesOutput.Groups":                                                        {out: "groupSet"},
	"RunInstancesOutput.Instances":                                                     {out: "instancesSet"},
	"DescribeInstancesOutput.Reservations":                                             {out: "reservationSet"},
	"TerminateInstancesOutput.TerminatingInstances":                                    {out: "instancesSet"},
	"Reservation.Groups":                                                               {out: "groupSet"},
	"Reservation.Instances":                                                            {out: "instancesSet"},
	"Instance.BlockDeviceMappings":                                                     {out: "blockDeviceMapping"},
	"Instance.ElasticGpuAssociations":                                                  {out: "elasticGpuAssociationSet"},
	"Instance.ElasticInferenceAcceleratorAssociations":                                 {out: "elasticInferenceAcceleratorAssociationSet"},
	"Instance.Licenses":                                                                {out: "licenseSet"},
	"Instance.NetworkInterfaces":                                                       {out: "networkInterfaceSet"},
	"Instance.PublicDnsName":                                                           {out: "dnsName"},
	"Instance.PublicIpAddress":                                                         {out: "ipAddress"},
	"Instance.SecondaryInterfaces":                                                     {out: "secondaryInterfaceSet"},
	"Instance.SecurityGroups":                                                          {out: "groupSet"},
	"Instance.State":                                                                   {out: "instanceState"},
	"Instance.StateTransitionReason":                                                   {out: "reason"},
	"Instance.Tags":                                                                    {out: "tagSet"},
	"InstanceNetworkInterfaceSpecification.Groups":                                     {in: "SecurityGroupId"},
	"InstanceNetworkInterfaceSpecification.Ipv4Prefixes":                               {in: "Ipv4Prefix"},
	"InstanceNetworkInterfaceSpecification.Ipv6Addresses":                              {in: "Ipv6Addresses"},
	"InstanceNetworkInterfaceSpecification.Ipv6Prefixes":                               {in: "Ipv6Prefix"},
	"InstanceNetworkInterfaceSpecification.PrivateIpAddresses":                         {in: "PrivateIpAddresses"},
	"DescribeNatGatewaysOutput.NatGateways":                                            {out: "natGatewaySet"},
	"Address.Tags":                                                                     {out: "tagSet"},
	"InstanceNetworkInterface.Groups":                                                  {out: "groupSet"},
	"InstanceNetworkInterface.Ipv4Prefixes":                                            {out: "ipv4PrefixSet"},
	"InstanceNetworkInterface.Ipv6Addresses":                                           {out: "ipv6AddressesSet"},
	"InstanceNetworkInterface.Ipv6Prefixes":                                            {out: "ipv6PrefixSet"},
	"InstanceNetworkInterface.PrivateIpAddresses":                                      {out: "privateIpAddressesSet"},
	"AuthorizeSecurityGroupEgressInput.IpPermissions":                                  {in: "IpPermissions"},
	"AuthorizeSecurityGroupIngressInput.IpPermissions":                                 {in: "IpPermissions"},
	"RevokeSecurityGroupEgressInput.IpPermissions":                                     {in: "IpPermissions"},
	"RevokeSecurityGroupIngressInput.IpPermissions":                                    {in: "IpPermissions"},
	"CreateSecurityGroupInput.Description":                                             {in: "GroupDescription"},
	"CreateTagsInput.Resources":                                                        {in: "ResourceId"},
	"DeleteTagsInput.Resources":                                                        {in: "ResourceId"},
	"IpPermission.IpRanges":                                                            {in: "IpRanges"},
	"IpPermission.Ipv6Ranges":                                                          {in: "Ipv6Ranges"},
	"IpPermission.PrefixListIds":                                                       {in: "PrefixListIds"},
	"IpPermission.UserIdGroupPairs":                                                    {in: "Groups", out: "groups"},
	"AccountAttribute.AttributeValues":                                                 {out: "attributeValueSet"},
	"AuthorizeSecurityGroupEgressOutput.SecurityGroupRules":                            {out: "securityGroupRuleSet"},
	"AuthorizeSecurityGroupIngressOutput.SecurityGroupRules":                           {out: "securityGroupRuleSet"},
	"AvailabilityZone.Messages":                                                        {out: "messageSet"},
	"AvailabilityZone.State":                                                           {out: "zoneState"},
	"CreateSecurityGroupOutput.Tags":                                                   {out: "tagSet"},
	"DescribeAccountAttributesOutput.AccountAttributes":                                {out: "accountAttributeSet"},
	"DescribeAvailabilityZonesOutput.AvailabilityZones":                                {out: "availabilityZoneInfo"},
	"DescribeInternetGatewaysOutput.InternetGateways":                                  {out: "internetGatewaySet"},
	"DescribeNetworkAclsOutput.NetworkAcls":                                            {out: "networkAclSet"},
	"DescribeNetworkInterfacesOutput.NetworkInterfaces":                                {out: "networkInterfaceSet"},
	"DescribeRegionsOutput.Regions":                                                    {out: "regionInfo"},
	"DescribeRouteTablesOutput.RouteTables":                                            {out: "routeTableSet"},
	"DescribeSecurityGroupRulesOutput.SecurityGroupRules":                              {out: "securityGroupRuleSet"},
	"DescribeSecurityGroupsOutput.SecurityGroups":                                      {out: "securityGroupInfo"},
	"DescribeSubnetsOutput.Subnets":                                                    {out: "subnetSet"},
	"DescribeTagsOutput.Tags":                                                          {out: "tagSet"},
	"DescribeVpcsOutput.Vpcs":                                                          {out: "vpcSet"},
	"InternetGateway.Attachments":                                                      {out: "attachmentSet"},
	"InternetGateway.Tags":                                                             {out: "tagSet"},
	"NetworkAcl.Associations":                                                          {out: "associationSet"},
	"NetworkAcl.Entries":                                                               {out: "entrySet"},
	"NetworkAcl.IsDefault":                                                             {out: "default"},
	"NetworkAcl.Tags":                                                                  {out: "tagSet"},
	"NetworkInterface.Groups":                                                          {out: "groupSet"},
	"NetworkInterface.PrivateIpAddresses":                                              {out: "privateIpAddressesSet"},
	"NetworkInterface.TagSet":                                                          {out: "tagSet"},
	"Region.Endpoint":                                                                  {out: "regionEndpoint"},
	"RevokeSecurityGroupEgressOutput.RevokedSecurityGroupRules":                        {out: "revokedSecurityGroupRuleSet"},
	"RevokeSecurityGroupEgressOutput.UnknownIpPermissions":                             {out: "unknownIpPermissionSet"},
	"RevokeSecurityGroupIngressOutput.RevokedSecurityGroupRules":                       {out: "revokedSecurityGroupRuleSet"},
	"RevokeSecurityGroupIngressOutput.UnknownIpPermissions":                            {out: "unknownIpPermissionSet"},
	"RouteTable.Associations":                                                          {out: "associationSet"},
	"RouteTable.PropagatingVgws":                                                       {out: "propagatingVgwSet"},
	"RouteTable.Routes":                                                                {out: "routeSet"},
	"RouteTable.Tags":                                                                  {out: "tagSet"},
	"SecurityGroup.Description":                                                        {out: "groupDescription"},
	"SecurityGroup.Tags":                                                               {out: "tagSet"},
	"SecurityGroupRule.Tags":                                                           {out: "tagSet"},
	"Subnet.Tags":                                                                      {out: "tagSet"},
	"Vpc.Tags":                                                                         {out: "tagSet"},
	"VpcEncryptionControl.Tags":                                                        {out: "tagSet"},
	"AvailabilityZone.Geography":                                                       {out: "geographySet"},
	"AvailabilityZone.SubGeography":                                                    {out: "subGeographySet"},
	"Region.Geography":                                                                 {out: "geographySet"},
	"NetworkInterface.AssociatedSubnets":                                               {out: "associatedSubnetSet"},
	"NetworkInterface.Ipv4Prefixes":                                                    {out: "ipv4PrefixSet"},
	"NetworkInterface.Ipv6Addresses":                                                   {out: "ipv6AddressesSet"},
	"NetworkInterface.Ipv6Prefixes":                                                    {out: "ipv6PrefixSet"},
}
