// Package sigv4 parses AWS Signature Version 4 credentials from a request
// and, when asked, verifies the signature.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"berth/awsproto"
)

// MaxSkew is how far the time of a signature may be from the server's
// clock: AWS refuses a request that "reached the service more than 15
// minutes after the date stamp on the request ... or the date stamp on the
// request is more than 15 minutes in the future" (RequestExpired, in
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).
const MaxSkew = 15 * time.Minute

// MaxExpires is the longest validity a presigned request may ask for in
// X-Amz-Expires: seven days, in seconds
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
const MaxExpires = 7 * 24 * 60 * 60

// dateLayout is the ISO 8601 basic format of X-Amz-Date.
const dateLayout = "20060102T150405Z"

// Algorithm is the only signing algorithm berth accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Credential is what a signature says about its signer.
type Credential struct {
	AccessKey     string
	Date          string // yyyymmdd of the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
	Presigned     bool
}

// Parse reads the credential from the Authorization header or, failing that,
// from presigned query parameters. ok is false when the request carries no
// signature at all. A signature that is present but malformed is the error
// the SDKs expect for it (IncompleteSignature or InvalidClientTokenId).
func Parse(r *http.Request) (c Credential, ok bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		c, err = ParseHeader(h)
		return c, true, err
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "" && q.Get("X-Amz-Credential") == "" {
		return Credential{}, false, nil
	}
	if q.Get("X-Amz-Algorithm") != Algorithm {
		return c, true, incomplete("Unsupported AWS 'algorithm': '%s'", q.Get("X-Amz-Algorithm"))
	}
	c, err = parseScope(q.Get("X-Amz-Credential"))
	if err != nil {
		return c, true, err
	}
	c.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	c.Signature = q.Get("X-Amz-Signature")
	c.Presigned = true
	if c.Signature == "" {
		return c, true, incomplete("Signature missing in presigned query")
	}
	return c, true, nil
}

// ParseHeader parses an Authorization header of the form
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
func ParseHeader(h string) (Credential, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return Credential{}, incomplete("Unsupported AWS 'algorithm': '%s'", alg)
	}
	var c Credential
	var haveCred, haveHeaders, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return Credential{}, incomplete("Authorization header requires each component to be of the form key=value: '%s'", part)
		}
		switch k {
		case "Credential":
			sc, err := parseScope(v)
			if err != nil {
				return Credential{}, err
			}
			c.AccessKey, c.Date, c.Region, c.Service = sc.AccessKey, sc.Date, sc.Region, sc.Service
			haveCred = true
		case "SignedHeaders":
			c.SignedHeaders = strings.Split(v, ";")
			haveHeaders = true
		case "Signature":
			c.Signature = v
			haveSig = true
		}
	}
	if !haveCred || !haveHeaders || !haveSig {
		return Credential{}, incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	return c, nil
}

func parseScope(s string) (Credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return Credential{}, incomplete("Credential should be scoped to a valid region, service and aws4_request terminator: '%s'", s)
	}
	if parts[0] == "" {
		return Credential{}, awsproto.StatusError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	if len(parts[1]) != 8 || parts[2] == "" || parts[3] == "" {
		return Credential{}, incomplete("Credential should be scoped to a valid date, region and service: '%s'", s)
	}
	return Credential{AccessKey: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, nil
}

func incomplete(format string, args ...any) *awsproto.Error {
	return awsproto.ClientError("IncompleteSignature", format, args...)
}

// Verify checks the signature of r (whose body is body) against secret
// and its time against now: a request signed more than MaxSkew away from
// now, or a presigned one past its X-Amz-Expires, is RequestExpired. It
// returns nil when the signature matches and is current.
func Verify(r *http.Request, body []byte, c Credential, secret string, now time.Time) error {
	amzDate := r.Header.Get("X-Amz-Date")
	if c.Presigned {
		amzDate = r.URL.Query().Get("X-Amz-Date")
	}
	if amzDate == "" {
		return incomplete("Authorization requires the X-Amz-Date header or parameter")
	}
	if err := current(r, c, amzDate, now); err != nil {
		return err
	}
	payload, err := payloadHash(r, body, c)
	if err != nil {
		return err
	}
	canonical := canonicalRequest(r, payload, c)
	sum := sha256.Sum256([]byte(canonical))
	scope := strings.Join([]string{c.Date, c.Region, c.Service, "aws4_request"}, "/")
	toSign := strings.Join([]string{Algorithm, amzDate, scope, hex.EncodeToString(sum[:])}, "\n")
	key := hmacSHA256([]byte("AWS4"+secret), c.Date)
	for _, s := range []string{c.Region, c.Service, "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.Signature)) != 1 {
		return awsproto.StatusError(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// current checks the signature's time, amzDate, against now.
func current(r *http.Request, c Credential, amzDate string, now time.Time) error {
	signed, err := time.Parse(dateLayout, amzDate)
	if err != nil {
		return incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	if c.Date != amzDate[:8] {
		return awsproto.StatusError(http.StatusForbidden, "SignatureDoesNotMatch",
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'", c.Date, amzDate[:8])
	}
	now = now.UTC()
	if signed.After(now.Add(MaxSkew)) {
		return expired("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(MaxSkew).Format(dateLayout), now.Format(dateLayout))
	}
	if !c.Presigned || !r.URL.Query().Has("X-Amz-Expires") {
		if signed.Before(now.Add(-MaxSkew)) {
			return expired("Signature expired: %s is now earlier than %s (%s - 15 min.)",
				amzDate, now.Add(-MaxSkew).Format(dateLayout), now.Format(dateLayout))
		}
		return nil
	}
	seconds, err := strconv.Atoi(r.URL.Query().Get("X-Amz-Expires"))
	if err != nil || seconds < 1 || seconds > MaxExpires {
		return incomplete("X-Amz-Expires must be a whole number of seconds from 1 to %d: '%s'", MaxExpires, r.URL.Query().Get("X-Amz-Expires"))
	}
	if until := signed.Add(time.Duration(seconds) * time.Second); now.After(until) {
		return expired("Request has expired: it was valid until %s and it is now %s", until.Format(dateLayout), now.Format(dateLayout))
	}
	return nil
}

// expired is RequestExpired, a 400 in every service's common errors
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html).
func expired(format string, args ...any) *awsproto.Error {
	return awsproto.ClientError("RequestExpired", format, args...)
}

func canonicalRequest(r *http.Request, payload string, c Credential) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path + "\n")
	q := r.URL.Query()
	if c.Presigned {
		q.Del("X-Amz-Signature")
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	})
	var pairs []string
	for _, k := range keys {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	b.WriteString(strings.Join(pairs, "&") + "\n")
	for _, h := range c.SignedHeaders {
		v := r.Header.Get(h)
		switch {
		case h == "host":
			v = r.Host
		case h == "content-length" && v == "" && r.ContentLength >= 0:
			v = strconv.FormatInt(r.ContentLength, 10)
		}
		b.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	b.WriteString("\n" + strings.Join(c.SignedHeaders, ";") + "\n" + payload)
	return b.String()
}

// unsignedPayload is the payload hash of a request that does not sign its
// body; berth's services take it only for an empty body.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// payloadHash is the hash the canonical request ends with: always the
// body's own SHA-256, so that the signature covers the body whatever a
// client claims. A claimed hash (the X-Amz-Content-Sha256 header, or the
// presigned parameter) that differs from it is refused, as S3 refuses it
// (XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD is taken for an empty
// body only, where there is nothing to cover.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request
func payloadHash(r *http.Request, body []byte, c Credential) (string, error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	if claimed == "" && c.Presigned {
		claimed = r.URL.Query().Get("X-Amz-Content-Sha256")
	}
	switch {
	case claimed == "" || strings.EqualFold(claimed, actual):
		return actual, nil
	case claimed == unsignedPayload && len(body) == 0:
		return unsignedPayload, nil
	}
	return "", awsproto.ClientError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
}

// uriEncode escapes as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~.
func uriEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
