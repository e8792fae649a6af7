package route53

import (
	"fmt"
	"strconv"
	"strings"
)

// maxNameLength is the longest domain name, in octets of its presentation
// form without escapes (RFC 1035's 255 less the wire form's length bytes
// and root label).
const maxNameLength = 253

// normalize is a domain name as Route 53 stores and returns it: lower
// case, with a trailing dot, and every character other than a–z, 0–9,
// hyphen, underscore and dot as a three-digit octal escape (\052 for *).
// Escapes in the input are read first, so "*.example.com" and
// "\052.example.com." are the same name.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
func normalize(name string) (string, error) {
	raw, err := unescape(name)
	if err != nil {
		return "", err
	}
	raw = strings.TrimSuffix(raw, ".")
	if raw == "" || len(raw) > maxNameLength {
		return "", fmt.Errorf("the name must have 1 to %d characters", maxNameLength)
	}
	var b strings.Builder
	for _, label := range strings.Split(raw, ".") {
		if label == "" {
			return "", fmt.Errorf("the name has an empty label")
		}
		if len(label) > 63 {
			return "", fmt.Errorf("a label is longer than 63 characters")
		}
		for i := range len(label) {
			c := label[i]
			switch {
			case c >= 'A' && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "\\%03o", c)
			}
		}
		b.WriteByte('.')
	}
	return b.String(), nil
}

// unescape reads the \ddd octal escapes of a name.
func unescape(name string) (string, error) {
	if !strings.Contains(name, `\`) {
		return name, nil
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '\\' {
			b.WriteByte(name[i])
			continue
		}
		if i+3 >= len(name) {
			return "", fmt.Errorf("the escape at %d is not three octal digits", i)
		}
		v, err := strconv.ParseUint(name[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("the escape at %d is not three octal digits", i)
		}
		b.WriteByte(byte(v))
		i += 3
	}
	return b.String(), nil
}

// sortKey orders names as Route 53 lists record sets: by their labels
// from the right (com.example.www), so that a zone's names group under
// their parents.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
func sortKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

// within reports whether name is zone or below it.
func within(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// bareID is an id without the path prefix Route 53 returns it with
// (/hostedzone/Z123, /change/C123, /healthcheck/...).
func bareID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
