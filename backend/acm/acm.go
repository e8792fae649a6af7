// Package acm is the part of AWS Certificate Manager that load balancers
// need: certificates requested from berth (issued at once by its local
// authority, as if validated) or imported, with their details and tags.
// HTTPS and TLS listeners serve them.
// https://docs.aws.amazon.com/acm/latest/APIReference/Welcome.html
//
// Every exported method is one ACM operation with the SDK client's
// signature minus its options.
package acm

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmapi "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"berth/awsproto"
	"berth/backend"
	"berth/backend/pki"
	"berth/sqlite"
)

// Backend serves the ACM API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	ca    *pki.Authority
}

// New returns an ACM backend whose requested certificates ca signs.
func New(store *sqlite.Store, env backend.Env, ca *pki.Authority) *Backend {
	return &Backend{store: store, env: env, ca: ca}
}

const kindCertificate = "acm/certificate"

// certificate is a stored certificate: its details, PEM blobs and tags.
type certificate struct {
	Detail           types.CertificateDetail
	Cert, Chain, Key []byte
	Tags             []types.Tag
}

func errNotFound(arn string) error {
	return awsproto.Modeled(&types.ResourceNotFoundException{}, "Could not find certificate %s.", arn)
}

func errValidation(format string, args ...any) error {
	return awsproto.Modeled(&types.ValidationException{}, format, args...)
}

// key is the store key of a certificate ARN, in the ARN's own scope:
// arn:aws:acm:<region>:<account>:certificate/<id>.
func key(arn string) (sqlite.Key, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm" || !strings.HasPrefix(parts[5], "certificate/") {
		return sqlite.Key{}, awsproto.Modeled(&types.InvalidArnException{}, "String '%s' is not a valid ARN.", arn)
	}
	return backend.Scope{Account: parts[4], Region: parts[3]}.Key(kindCertificate, arn), nil
}

// lookup returns the stored certificate of arn and its key, or
// ResourceNotFoundException. A certificate of another account than s's
// is not found: ACM has no resource policies to share one, so another
// account's certificate is never the caller's to read, change or serve.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-services-that-work-with-iam.html
// (ACM: no resource-based policies).
func lookup(tx *sqlite.Tx, s backend.Scope, arn string) (certificate, sqlite.Key, error) {
	var c certificate
	k, err := key(arn)
	if err != nil {
		return c, k, err
	}
	if k.Account != s.Account {
		return c, k, errNotFound(arn)
	}
	if err := tx.Get(k, &c); errors.Is(err, sqlite.ErrNotFound) {
		return c, k, errNotFound(arn)
	} else if err != nil {
		return c, k, err
	}
	return c, k, nil
}

// read is lookup in a transaction of its own.
func (b *Backend) read(ctx context.Context, arn string) (c certificate, err error) {
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, _, err = lookup(tx, backend.ScopeFrom(ctx), arn)
		return err
	})
	return c, err
}

// KeyPair returns the certificate (with its chain) and private key of an
// ACM certificate ARN, in PEM, for a listener of scope s to serve; ok is
// false when s has no such certificate.
func KeyPair(tx *sqlite.Tx, s backend.Scope, arn string) (cert, privateKey []byte, ok bool, err error) {
	c, _, err := lookup(tx, s, arn)
	var ae *awsproto.Error
	if errors.As(err, &ae) { // not an ACM ARN, or not found
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return append(slices.Clone(c.Cert), c.Chain...), c.Key, true, nil
}

func (b *Backend) newARN(s backend.Scope) string {
	return "arn:aws:acm:" + s.Region + ":" + s.Account + ":certificate/" + backend.NewUUID(b.env.IDs)
}

// RequestCertificate issues a certificate for a domain at once: berth
// cannot validate domains, so it treats every request as validated.
func (b *Backend) RequestCertificate(ctx context.Context, in *acmapi.RequestCertificateInput) (*acmapi.RequestCertificateOutput, error) {
	s := backend.ScopeFrom(ctx)
	domain := aws.ToString(in.DomainName)
	if err := validDomain(domain); err != nil {
		return nil, err
	}
	names := []string{domain}
	for _, n := range in.SubjectAlternativeNames {
		if err := validDomain(n); err != nil {
			return nil, err
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > 100 {
		return nil, errValidation("The subject alternative names can hold at most 100 names.")
	}
	algorithm := string(in.KeyAlgorithm)
	if algorithm == "" {
		algorithm = string(types.KeyAlgorithmRsa2048)
	}
	if !slices.Contains(types.KeyAlgorithm("").Values(), types.KeyAlgorithm(algorithm)) || algorithm == string(types.KeyAlgorithmRsa1024) {
		return nil, errValidation("Value '%s' at 'keyAlgorithm' failed to satisfy constraint: Member must satisfy enum value set.", algorithm)
	}
	method := in.ValidationMethod
	if method == "" {
		method = types.ValidationMethodEmail
	}
	now := b.env.Clock().UTC().Truncate(time.Second)
	certPEM, chain, keyPEM, err := b.ca.Issue(names, algorithm, now)
	if err != nil {
		return nil, err
	}
	c, err := describe(certPEM, now)
	if err != nil {
		return nil, err
	}
	arn := b.newARN(s)
	c.CertificateArn, c.Type, c.CreatedAt, c.IssuedAt = &arn, types.CertificateTypeAmazonIssued, &now, &now
	c.DomainName, c.SubjectAlternativeNames = &domain, names
	c.RenewalEligibility = types.RenewalEligibilityIneligible
	for _, n := range names {
		dv := types.DomainValidation{DomainName: aws.String(n), ValidationDomain: aws.String(n),
			ValidationMethod: method, ValidationStatus: types.DomainStatusSuccess}
		if method == types.ValidationMethodDns {
			h := sha256.Sum256([]byte(arn + n))
			base := strings.TrimPrefix(n, "*.")
			dv.ResourceRecord = &types.ResourceRecord{Type: types.RecordTypeCname,
				Name:  aws.String("_" + hex.EncodeToString(h[:16]) + "." + base + "."),
				Value: aws.String("_" + hex.EncodeToString(h[16:]) + ".acm-validations.aws.")}
		}
		c.DomainValidationOptions = append(c.DomainValidationOptions, dv)
	}
	c.Options = in.Options
	if c.Options == nil {
		c.Options = &types.CertificateOptions{CertificateTransparencyLoggingPreference: types.CertificateTransparencyLoggingPreferenceEnabled}
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		return tx.Put(s.Row(kindCertificate, arn, "", domain), certificate{Detail: c, Cert: certPEM, Chain: chain, Key: keyPEM, Tags: in.Tags})
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.RequestCertificateOutput{CertificateArn: &arn}, nil
}

func validDomain(d string) error {
	if len(d) < 1 || len(d) > 253 || strings.ContainsAny(d, " /:@") || strings.Contains(d, "..") {
		return errValidation("The domain name '%s' is not valid.", d)
	}
	return nil
}

// ImportCertificate stores a certificate and key the caller brings, or
// replaces those of CertificateArn.
func (b *Backend) ImportCertificate(ctx context.Context, in *acmapi.ImportCertificateInput) (*acmapi.ImportCertificateOutput, error) {
	s := backend.ScopeFrom(ctx)
	if len(in.Certificate) == 0 || len(in.PrivateKey) == 0 {
		return nil, errValidation("The certificate and the private key must be specified.")
	}
	if _, err := tls.X509KeyPair(append(slices.Clone(in.Certificate), in.CertificateChain...), in.PrivateKey); err != nil {
		return nil, errValidation("The certificate and private key cannot be used together: %v", err)
	}
	now := b.env.Clock().UTC().Truncate(time.Second)
	c, err := describe(in.Certificate, now)
	if err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	arn := aws.ToString(in.CertificateArn)
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		tags := in.Tags
		if arn != "" {
			old, _, err := lookup(tx, backend.ScopeFrom(ctx), arn)
			if err != nil {
				return err
			}
			if old.Detail.Type != types.CertificateTypeImported {
				return errValidation("Certificate %s was not imported; only imported certificates can be reimported.", arn)
			}
			if len(tags) > 0 {
				return errValidation("Tags cannot be given when a certificate is reimported.")
			}
			tags, c.CreatedAt = old.Tags, old.Detail.CreatedAt
		} else {
			arn = b.newARN(s)
			c.CreatedAt = &now
		}
		c.CertificateArn, c.Type, c.ImportedAt = &arn, types.CertificateTypeImported, &now
		c.RenewalEligibility = types.RenewalEligibilityIneligible
		return tx.Put(s.Row(kindCertificate, arn, "", aws.ToString(c.DomainName)),
			certificate{Detail: c, Cert: in.Certificate, Chain: in.CertificateChain, Key: in.PrivateKey, Tags: tags})
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.ImportCertificateOutput{CertificateArn: &arn}, nil
}

// describe fills the details that the certificate itself says, as of now.
func describe(certPEM []byte, now time.Time) (types.CertificateDetail, error) {
	var d types.CertificateDetail
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return d, errValidation("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return d, errValidation("Unable to parse certificate: %v", err)
	}
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	domain := c.Subject.CommonName
	if domain == "" && len(names) > 0 {
		domain = names[0]
	}
	serial := strings.Join(hexPairs(c.SerialNumber.Bytes()), ":")
	d = types.CertificateDetail{
		DomainName: aws.String(domain), SubjectAlternativeNames: names, Serial: aws.String(serial),
		Subject: aws.String(c.Subject.String()), Issuer: aws.String(issuer(c)),
		NotBefore: aws.Time(c.NotBefore.UTC()), NotAfter: aws.Time(c.NotAfter.UTC()),
		KeyAlgorithm: types.KeyAlgorithm(pki.Algorithm(c)), SignatureAlgorithm: aws.String(signature(c)),
		Status: types.CertificateStatusIssued, InUseBy: []string{},
		KeyUsages: []types.KeyUsage{{Name: types.KeyUsageNameDigitalSignature}},
		ExtendedKeyUsages: []types.ExtendedKeyUsage{
			{Name: types.ExtendedKeyUsageNameTlsWebServerAuthentication, OID: aws.String("1.3.6.1.5.5.7.3.1")},
		},
	}
	if c.NotAfter.Before(now) {
		d.Status = types.CertificateStatusExpired
	}
	return d, nil
}

func hexPairs(b []byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = hex.EncodeToString([]byte{x})
	}
	return out
}

func issuer(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

// signature names the signature algorithm as ACM does (SHA256WITHRSA).
func signature(c *x509.Certificate) string {
	return strings.ToUpper(strings.ReplaceAll(c.SignatureAlgorithm.String(), "-", "WITH"))
}

// DescribeCertificate returns a certificate's details.
func (b *Backend) DescribeCertificate(ctx context.Context, in *acmapi.DescribeCertificateInput) (*acmapi.DescribeCertificateOutput, error) {
	c, err := b.read(ctx, aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return &acmapi.DescribeCertificateOutput{Certificate: &c.Detail}, nil
}

// GetCertificate returns a certificate and its chain, in PEM.
func (b *Backend) GetCertificate(ctx context.Context, in *acmapi.GetCertificateInput) (*acmapi.GetCertificateOutput, error) {
	c, err := b.read(ctx, aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	out := &acmapi.GetCertificateOutput{Certificate: aws.String(string(c.Cert))}
	if len(c.Chain) > 0 {
		out.CertificateChain = aws.String(string(c.Chain))
	}
	return out, nil
}

// ListCertificates lists certificates by status and, as ACM does, only
// those with RSA_2048 keys unless Includes.KeyTypes says otherwise.
func (b *Backend) ListCertificates(ctx context.Context, in *acmapi.ListCertificatesInput) (*acmapi.ListCertificatesOutput, error) {
	s := backend.ScopeFrom(ctx)
	max := 1000
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, errValidation("Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000.", *in.MaxItems)
		}
		max = int(*in.MaxItems)
	}
	keyTypes := []types.KeyAlgorithm{types.KeyAlgorithmRsa2048}
	if in.Includes != nil && len(in.Includes.KeyTypes) > 0 {
		keyTypes = in.Includes.KeyTypes
	}
	keep := func(c certificate) bool {
		d := c.Detail
		return (len(in.CertificateStatuses) == 0 || slices.Contains(in.CertificateStatuses, d.Status)) &&
			slices.Contains(keyTypes, d.KeyAlgorithm)
	}
	q := s.Query(kindCertificate, "")
	q.Token, q.Limit = aws.ToString(in.NextToken), max
	var page []certificate
	var next string
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		page, next, err = sqlite.ListPage(tx, q, keep)
		return err
	})
	if errors.Is(err, sqlite.ErrBadToken) {
		return nil, awsproto.Modeled(&types.InvalidArgsException{}, "The NextToken is not valid.")
	}
	if err != nil {
		return nil, err
	}
	out := &acmapi.ListCertificatesOutput{CertificateSummaryList: []types.CertificateSummary{}}
	for _, c := range page {
		d := c.Detail
		out.CertificateSummaryList = append(out.CertificateSummaryList, types.CertificateSummary{
			CertificateArn: d.CertificateArn, DomainName: d.DomainName, SubjectAlternativeNameSummaries: d.SubjectAlternativeNames,
			Status: d.Status, Type: d.Type, KeyAlgorithm: d.KeyAlgorithm, InUse: aws.Bool(false),
			NotBefore: d.NotBefore, NotAfter: d.NotAfter, CreatedAt: d.CreatedAt, IssuedAt: d.IssuedAt, ImportedAt: d.ImportedAt,
			RenewalEligibility: d.RenewalEligibility, HasAdditionalSubjectAlternativeNames: aws.Bool(false),
		})
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

// DeleteCertificate deletes a certificate.
func (b *Backend) DeleteCertificate(ctx context.Context, in *acmapi.DeleteCertificateInput) (*acmapi.DeleteCertificateOutput, error) {
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		_, k, err := lookup(tx, backend.ScopeFrom(ctx), aws.ToString(in.CertificateArn))
		if err != nil {
			return err
		}
		return tx.Delete(k)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.DeleteCertificateOutput{}, nil
}

// AddTagsToCertificate adds or replaces tags.
func (b *Backend) AddTagsToCertificate(ctx context.Context, in *acmapi.AddTagsToCertificateInput) (*acmapi.AddTagsToCertificateOutput, error) {
	if len(in.Tags) == 0 {
		return nil, errValidation("Tags must be specified.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	return &acmapi.AddTagsToCertificateOutput{}, b.retag(ctx, aws.ToString(in.CertificateArn), func(tags []types.Tag) ([]types.Tag, error) {
		for _, t := range in.Tags {
			tags = slices.DeleteFunc(tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			tags = append(tags, t)
		}
		return tags, validTags(tags)
	})
}

// RemoveTagsFromCertificate removes tags: by key, or by key and value when
// a value is given.
func (b *Backend) RemoveTagsFromCertificate(ctx context.Context, in *acmapi.RemoveTagsFromCertificateInput) (*acmapi.RemoveTagsFromCertificateOutput, error) {
	return &acmapi.RemoveTagsFromCertificateOutput{}, b.retag(ctx, aws.ToString(in.CertificateArn), func(tags []types.Tag) ([]types.Tag, error) {
		return slices.DeleteFunc(tags, func(o types.Tag) bool {
			return slices.ContainsFunc(in.Tags, func(t types.Tag) bool {
				return aws.ToString(o.Key) == aws.ToString(t.Key) && (t.Value == nil || aws.ToString(o.Value) == aws.ToString(t.Value))
			})
		}), nil
	})
}

// retag replaces a certificate's tags with change's result.
func (b *Backend) retag(ctx context.Context, arn string, change func([]types.Tag) ([]types.Tag, error)) error {
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, k, err := lookup(tx, backend.ScopeFrom(ctx), arn)
		if err != nil {
			return err
		}
		if c.Tags, err = change(slices.Clone(c.Tags)); err != nil {
			return err
		}
		return tx.Put(sqlite.Row{Key: k, Name: aws.ToString(c.Detail.DomainName)}, c)
	})
}

// ListTagsForCertificate lists a certificate's tags.
func (b *Backend) ListTagsForCertificate(ctx context.Context, in *acmapi.ListTagsForCertificateInput) (*acmapi.ListTagsForCertificateOutput, error) {
	c, err := b.read(ctx, aws.ToString(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return &acmapi.ListTagsForCertificateOutput{Tags: backend.OrEmpty(c.Tags)}, nil
}

func validTags(tags []types.Tag) error {
	if len(tags) > 50 {
		return awsproto.Modeled(&types.TooManyTagsException{}, "A certificate can have at most 50 tags.")
	}
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256 || strings.HasPrefix(k, "aws:") {
			return awsproto.Modeled(&types.InvalidTagException{}, "The tag '%s' is not valid.", k)
		}
	}
	return nil
}
