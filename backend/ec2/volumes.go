package ec2

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// EBS volumes are records: an instance's are made when it launches, one
// for each EBS block device of its image and its request, and deleted
// with it when they are to be deleted on termination (else they stay,
// available).
// https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html

// launchDevices are the EBS block devices an instance launches with: its
// image's, with the sizes, types and other settings the request gives for
// the same device names, without those the request suppresses (NoDevice),
// and with the request's other EBS devices.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-device-mapping-concepts.html
func launchDevices(img types.Image, req []types.BlockDeviceMapping) ([]types.BlockDeviceMapping, error) {
	var out []types.BlockDeviceMapping
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			ebs := *m.Ebs
			out = append(out, types.BlockDeviceMapping{DeviceName: m.DeviceName, Ebs: &ebs})
		}
	}
	for _, r := range req {
		name := aws.ToString(r.DeviceName)
		if name == "" {
			return nil, errMissing("BlockDeviceMapping.DeviceName")
		}
		i := slices.IndexFunc(out, func(m types.BlockDeviceMapping) bool { return *m.DeviceName == name })
		if r.NoDevice != nil {
			if i >= 0 {
				out = slices.Delete(out, i, i+1)
			}
			continue
		}
		if r.Ebs == nil {
			continue // an instance store volume: none on the types berth has
		}
		if i < 0 {
			out = append(out, types.BlockDeviceMapping{DeviceName: r.DeviceName, Ebs: &types.EbsBlockDevice{DeleteOnTermination: aws.Bool(true),
				Encrypted: aws.Bool(false), VolumeType: types.VolumeTypeGp2}})
			i = len(out) - 1
		}
		have, want := out[i].Ebs, r.Ebs
		if want.VolumeSize != nil {
			if have.VolumeSize != nil && have.SnapshotId != nil && *want.VolumeSize < *have.VolumeSize {
				return nil, awsproto.ClientError("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB",
					*want.VolumeSize, *have.SnapshotId, *have.VolumeSize)
			}
			have.VolumeSize = want.VolumeSize
		}
		if want.VolumeType != "" && want.VolumeType != have.VolumeType {
			have.VolumeType, have.Iops, have.Throughput = want.VolumeType, nil, nil
		}
		if want.SnapshotId != nil {
			have.SnapshotId = want.SnapshotId
		}
		for _, v := range []struct{ to, from **bool }{{&have.DeleteOnTermination, &want.DeleteOnTermination}, {&have.Encrypted, &want.Encrypted}} {
			if *v.from != nil {
				*v.to = *v.from
			}
		}
		for _, v := range []struct{ to, from **int32 }{{&have.Iops, &want.Iops}, {&have.Throughput, &want.Throughput}} {
			if *v.from != nil {
				*v.to = *v.from
			}
		}
		if want.KmsKeyId != nil {
			have.KmsKeyId, have.Encrypted = want.KmsKeyId, aws.Bool(true)
		}
	}
	for _, m := range out {
		e := m.Ebs
		if e.VolumeSize == nil {
			return nil, errMissing("BlockDeviceMapping.Ebs.VolumeSize")
		}
		if (e.VolumeType == types.VolumeTypeIo1 || e.VolumeType == types.VolumeTypeIo2) && e.Iops == nil {
			return nil, awsproto.ClientError("InvalidParameterCombination", "The parameter iops must be specified for %s volumes.", e.VolumeType)
		}
		if e.Throughput != nil && e.VolumeType != types.VolumeTypeGp3 {
			return nil, awsproto.ClientError("InvalidParameterCombination", "The parameter throughput is not supported for %s volumes.", e.VolumeType)
		}
	}
	return out, nil
}

// defaultKMSKey is the ARN of the scope's AWS managed key for EBS
// (alias/aws/ebs), which encrypts volumes no key is given for.
func defaultKMSKey(s backend.Scope) string {
	d := digest(32, s.Account, s.Region, "alias/aws/ebs")
	return "arn:aws:kms:" + s.Region + ":" + s.Account + ":key/" + d[:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32]
}

// attachNewVolume makes the volume of a block device for an instance and
// returns the instance's mapping of it.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html
func (b *Backend) attachNewVolume(tx *sqlite.Tx, s backend.Scope, inst *types.Instance, d types.BlockDeviceMapping,
	tags []types.Tag, now time.Time) (types.InstanceBlockDeviceMapping, error) {
	e := d.Ebs
	v := types.Volume{
		VolumeId: aws.String(b.id("vol")), Size: e.VolumeSize, VolumeType: e.VolumeType, SnapshotId: aws.String(aws.ToString(e.SnapshotId)),
		AvailabilityZone: inst.Placement.AvailabilityZone, AvailabilityZoneId: inst.Placement.AvailabilityZoneId, CreateTime: &now,
		Encrypted: aws.Bool(aws.ToBool(e.Encrypted)), MultiAttachEnabled: aws.Bool(false), State: types.VolumeStateInUse,
		Iops: e.Iops, Throughput: e.Throughput, Tags: backend.OrEmpty(slices.Clone(tags)),
		Attachments: []types.VolumeAttachment{{VolumeId: nil, InstanceId: inst.InstanceId, Device: d.DeviceName, AttachTime: &now,
			State: types.VolumeAttachmentStateAttached, DeleteOnTermination: aws.Bool(aws.ToBool(e.DeleteOnTermination))}},
	}
	v.Attachments[0].VolumeId = v.VolumeId
	switch v.VolumeType {
	case types.VolumeTypeGp3: // 3,000 IOPS and 125 MiB/s unless more are asked for
		v.Iops, v.Throughput = aws.Int32(max(3000, aws.ToInt32(e.Iops))), aws.Int32(max(125, aws.ToInt32(e.Throughput)))
	case types.VolumeTypeGp2: // 3 IOPS per GiB, at least 100, at most 16,000
		v.Iops = aws.Int32(min(16000, max(100, 3**e.VolumeSize)))
	}
	if aws.ToBool(v.Encrypted) {
		v.KmsKeyId = aws.String(aws.ToString(e.KmsKeyId))
		if *v.KmsKeyId == "" {
			v.KmsKeyId = aws.String(defaultKMSKey(s))
		}
	}
	if err := tx.Put(s.Row(kindVolume, *v.VolumeId, *inst.InstanceId, ""), v); err != nil {
		return types.InstanceBlockDeviceMapping{}, err
	}
	return types.InstanceBlockDeviceMapping{DeviceName: d.DeviceName, Ebs: &types.EbsInstanceBlockDevice{VolumeId: v.VolumeId,
		AttachTime: &now, DeleteOnTermination: v.Attachments[0].DeleteOnTermination, Status: types.AttachmentStatusAttached}}, nil
}

// releaseVolumes deletes the volumes of a terminated instance that are
// deleted on termination and detaches the others.
func releaseVolumes(tx *sqlite.Tx, s backend.Scope, inst *types.Instance) error {
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		var v types.Volume
		if err := tx.Get(s.Key(kindVolume, *m.Ebs.VolumeId), &v); isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		if aws.ToBool(m.Ebs.DeleteOnTermination) {
			if err := tx.Delete(s.Key(kindVolume, *v.VolumeId)); err != nil {
				return err
			}
			if err := tx.Delete(s.Key(kindVolumeModification, *v.VolumeId)); err != nil {
				return err
			}
			continue
		}
		v.State, v.Attachments = types.VolumeStateAvailable, []types.VolumeAttachment{}
		if err := tx.Put(s.Row(kindVolume, *v.VolumeId, "", ""), v); err != nil {
			return err
		}
	}
	inst.BlockDeviceMappings = []types.InstanceBlockDeviceMapping{}
	return nil
}

// setDeleteOnTermination changes whether an instance's volume at device
// is deleted when it terminates.
func setDeleteOnTermination(tx *sqlite.Tx, s backend.Scope, inst *types.Instance, device string, del bool) error {
	i := slices.IndexFunc(inst.BlockDeviceMappings, func(m types.InstanceBlockDeviceMapping) bool { return aws.ToString(m.DeviceName) == device })
	if i < 0 || inst.BlockDeviceMappings[i].Ebs == nil {
		return errInvalid("The device '%s' is not attached to instance %s.", device, *inst.InstanceId)
	}
	m := inst.BlockDeviceMappings[i].Ebs
	m.DeleteOnTermination = aws.Bool(del)
	var v types.Volume
	if err := get(tx, s, kindVolume, *m.VolumeId, &v); err != nil {
		return err
	}
	for j := range v.Attachments {
		v.Attachments[j].DeleteOnTermination = aws.Bool(del)
	}
	return tx.Put(s.Row(kindVolume, *v.VolumeId, *inst.InstanceId, ""), v)
}

var volumeFilter = filter[types.Volume]{
	id:   func(v types.Volume) string { return *v.VolumeId },
	tags: func(v types.Volume) []types.Tag { return v.Tags },
	fields: map[string]func(types.Volume) []string{
		"volume-id":         func(v types.Volume) []string { return str(v.VolumeId) },
		"volume-type":       func(v types.Volume) []string { return []string{string(v.VolumeType)} },
		"size":              func(v types.Volume) []string { return number(v.Size) },
		"status":            func(v types.Volume) []string { return []string{string(v.State)} },
		"availability-zone": func(v types.Volume) []string { return str(v.AvailabilityZone) },
		"encrypted":         func(v types.Volume) []string { return boolean(v.Encrypted) },
		"snapshot-id":       func(v types.Volume) []string { return str(v.SnapshotId) },
		"create-time":       func(v types.Volume) []string { return []string{v.CreateTime.UTC().Format(time.RFC3339)} },
		"multi-attach-enabled": func(v types.Volume) []string {
			return boolean(v.MultiAttachEnabled)
		},
		"attachment.instance-id": func(v types.Volume) []string {
			return each(v.Attachments, func(a types.VolumeAttachment) *string { return a.InstanceId })
		},
		"attachment.device": func(v types.Volume) []string {
			return each(v.Attachments, func(a types.VolumeAttachment) *string { return a.Device })
		},
		"attachment.status": func(v types.Volume) []string {
			return each(v.Attachments, func(a types.VolumeAttachment) *string { return aws.String(string(a.State)) })
		},
		"attachment.delete-on-termination": func(v types.Volume) []string {
			return each(v.Attachments, func(a types.VolumeAttachment) *string {
				return aws.String(strconv.FormatBool(aws.ToBool(a.DeleteOnTermination)))
			})
		},
	},
}

// DescribeVolumes lists EBS volumes by id and filter.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html
func (b *Backend) DescribeVolumes(ctx context.Context, in *ec2api.DescribeVolumesInput) (*ec2api.DescribeVolumesOutput, error) {
	out, next, err := describe(ctx, b, stored[types.Volume](kindVolume), volumeFilter, in.VolumeIds, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeVolumesOutput{Volumes: backend.OrEmpty(out), NextToken: next}, nil
}

// ModifyVolume changes a volume's size (never smaller), type, IOPS or
// throughput. A record changes at once: EC2 answers that the
// modification is modifying, and DescribeVolumesModifications then shows
// it completed.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVolume.html
func (b *Backend) ModifyVolume(ctx context.Context, in *ec2api.ModifyVolumeInput) (*ec2api.ModifyVolumeOutput, error) {
	if aws.ToString(in.VolumeId) == "" {
		return nil, errMissing("VolumeId")
	}
	var m types.VolumeModification
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v types.Volume
		if err := get(tx, s, kindVolume, *in.VolumeId, &v); err != nil {
			return err
		}
		now := b.env.Clock().UTC()
		m = types.VolumeModification{VolumeId: v.VolumeId, StartTime: &now, EndTime: &now, Progress: aws.Int64(100),
			ModificationState: types.VolumeModificationStateCompleted,
			OriginalSize:      v.Size, OriginalVolumeType: v.VolumeType, OriginalIops: v.Iops, OriginalThroughput: v.Throughput,
			OriginalMultiAttachEnabled: v.MultiAttachEnabled}
		if in.Size != nil {
			if *in.Size < *v.Size {
				return errInvalid("New size cannot be smaller than existing size")
			}
			v.Size = in.Size
		}
		if in.VolumeType != "" && in.VolumeType != v.VolumeType {
			v.VolumeType, v.Iops, v.Throughput = in.VolumeType, nil, nil
		}
		if in.Iops != nil {
			if v.VolumeType == types.VolumeTypeGp2 || v.VolumeType == types.VolumeTypeSt1 || v.VolumeType == types.VolumeTypeSc1 || v.VolumeType == types.VolumeTypeStandard {
				return awsproto.ClientError("InvalidParameterCombination", "The parameter iops is not supported for %s volumes.", v.VolumeType)
			}
			v.Iops = in.Iops
		}
		if in.Throughput != nil {
			if v.VolumeType != types.VolumeTypeGp3 {
				return awsproto.ClientError("InvalidParameterCombination", "The parameter throughput is not supported for %s volumes.", v.VolumeType)
			}
			v.Throughput = in.Throughput
		}
		switch v.VolumeType {
		case types.VolumeTypeGp3:
			v.Iops, v.Throughput = aws.Int32(max(3000, aws.ToInt32(v.Iops))), aws.Int32(max(125, aws.ToInt32(v.Throughput)))
		case types.VolumeTypeGp2:
			v.Iops, v.Throughput = aws.Int32(min(16000, max(100, 3**v.Size))), nil
		case types.VolumeTypeIo1, types.VolumeTypeIo2:
			if v.Iops == nil {
				return awsproto.ClientError("InvalidParameterCombination", "The parameter iops must be specified for %s volumes.", v.VolumeType)
			}
		}
		if in.MultiAttachEnabled != nil {
			v.MultiAttachEnabled = in.MultiAttachEnabled
		}
		m.TargetSize, m.TargetVolumeType, m.TargetIops, m.TargetThroughput, m.TargetMultiAttachEnabled = v.Size, v.VolumeType, v.Iops, v.Throughput, v.MultiAttachEnabled
		parent := ""
		if len(v.Attachments) > 0 {
			parent = *v.Attachments[0].InstanceId
		}
		if err := tx.Put(s.Row(kindVolume, *v.VolumeId, parent, ""), v); err != nil {
			return err
		}
		return tx.Put(s.Row(kindVolumeModification, *v.VolumeId, "", ""), m)
	})
	if err != nil {
		return nil, err
	}
	shown := m
	shown.ModificationState, shown.Progress, shown.EndTime = types.VolumeModificationStateModifying, aws.Int64(0), nil
	return &ec2api.ModifyVolumeOutput{VolumeModification: &shown}, nil
}

var modificationFilter = filter[types.VolumeModification]{
	id:   func(m types.VolumeModification) string { return *m.VolumeId },
	tags: func(types.VolumeModification) []types.Tag { return nil },
	fields: map[string]func(types.VolumeModification) []string{
		"volume-id":          func(m types.VolumeModification) []string { return str(m.VolumeId) },
		"modification-state": func(m types.VolumeModification) []string { return []string{string(m.ModificationState)} },
		"target-size":        func(m types.VolumeModification) []string { return number(m.TargetSize) },
		"target-volume-type": func(m types.VolumeModification) []string { return []string{string(m.TargetVolumeType)} },
	},
}

// DescribeVolumesModifications reports the latest modification of each
// volume named (or of every volume modified).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumesModifications.html
func (b *Backend) DescribeVolumesModifications(ctx context.Context, in *ec2api.DescribeVolumesModificationsInput) (*ec2api.DescribeVolumesModificationsOutput, error) {
	for _, id := range in.VolumeIds {
		err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error { return get(tx, s, kindVolume, id, &types.Volume{}) })
		if err != nil {
			return nil, err
		}
	}
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.VolumeModification, error) {
		ms, err := all[types.VolumeModification](tx, s, kindVolumeModification, "")
		if err != nil || len(in.VolumeIds) == 0 {
			return ms, err
		}
		return slices.DeleteFunc(ms, func(m types.VolumeModification) bool { return !slices.Contains(in.VolumeIds, *m.VolumeId) }), nil
	}
	out, next, err := describe(ctx, b, load, modificationFilter, nil, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeVolumesModificationsOutput{VolumesModifications: backend.OrEmpty(out), NextToken: next}, nil
}
