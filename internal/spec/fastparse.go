//go:build goexperiment.jsonv2

package spec

import (
	"bytes"
	"encoding/json/jsontext"
	"io"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fastParse decodes a config without reflection, through decode_gen.go: the
// reflective decoder's first use in a process (every create, which is a new
// process) costs 0.5-1 ms building its per-type tables, on the critical path
// of a container's start (bench/README.md).
//
// It takes only the plain form of a config: exact member names, no member
// twice in an object, valid UTF-8, and values of the field's type. On
// anything else (a name that matches a field only case-insensitively, a
// duplicate, a type mismatch, a syntax error, trailing data) it reports
// ok=false and Parse decodes with encoding/json, whose result and error
// messages are then the authoritative ones. FuzzFastParse checks that on
// every input it accepts, it yields what encoding/json does.
func fastParse(data []byte) (s *specs.Spec, unknown Unknown, ok bool) {
	d := &fastDecoder{dec: jsontext.NewDecoder(bytes.NewReader(data))}
	s = new(specs.Spec)
	if !decSpec(d, s) {
		return nil, Unknown{}, false
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		return nil, Unknown{}, false // trailing data, or a syntax error after the object
	}
	return s, d.unknown, true
}

// fastDecoder is the state of one fastParse.
type fastDecoder struct {
	dec     *jsontext.Decoder
	path    []string // member names from the top, for naming unknown members
	unknown Unknown
}

// object reads a JSON object, calling member for each name with the
// decoder positioned at its value; null leaves the value as it is, as
// encoding/json does for a struct.
func (d *fastDecoder) object(member func(name string) bool) bool {
	switch d.dec.PeekKind() {
	case 'n':
		_, err := d.dec.ReadToken()
		return err == nil
	case '{':
	default:
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	for d.dec.PeekKind() == '"' {
		tok, err := d.dec.ReadToken()
		if err != nil || !member(tok.String()) {
			return false
		}
	}
	tok, err := d.dec.ReadToken()
	return err == nil && tok.Kind() == '}'
}

// member decodes the value of the member name into p.
func member[T any](d *fastDecoder, name string, p *T, dec func(*fastDecoder, *T) bool) bool {
	d.path = append(d.path, name)
	ok := dec(d, p)
	d.path = d.path[:len(d.path)-1]
	return ok
}

// unknownMember skips the value of a member no field has and records its
// path; a name that folds to a field's bails out, since encoding/json
// would decode it into that field.
func (d *fastDecoder) unknownMember(name string, names []string) bool {
	for _, n := range names {
		if foldsAlike(name, n) {
			return false
		}
	}
	if len(d.unknown.Paths) < maxUnknown {
		d.unknown.Paths = append(d.unknown.Paths, strings.Join(append(d.path, name), "."))
	} else {
		d.unknown.More++
	}
	return d.dec.SkipValue() == nil
}

// foldsAlike says whether encoding/json might match a and b: equal under
// Unicode case folding, ignoring '-' and '_' (v2's folding, which is looser
// than v1's strings.EqualFold, so this errs on the side of bailing out).
func foldsAlike(a, b string) bool {
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '_' {
				return -1
			}
			return r
		}, s)
	}
	return strings.EqualFold(strip(a), strip(b))
}

// null consumes a JSON null if one is next.
func (d *fastDecoder) null() bool {
	if d.dec.PeekKind() != 'n' {
		return false
	}
	_, err := d.dec.ReadToken()
	return err == nil
}

// scalar reads a scalar token of kind k ('"', '0', or 't' for a boolean).
func (d *fastDecoder) scalar(k jsontext.Kind) (jsontext.Token, bool) {
	pk := d.dec.PeekKind()
	if pk == 'f' {
		pk = 't'
	}
	if pk != k {
		return jsontext.Token{}, false
	}
	tok, err := d.dec.ReadToken()
	return tok, err == nil
}

func decString[T ~string](d *fastDecoder, p *T) bool {
	if d.null() {
		return true
	}
	tok, ok := d.scalar('"')
	*p = T(tok.String())
	return ok
}

func decBool[T ~bool](d *fastDecoder, p *T) bool {
	if d.null() {
		return true
	}
	tok, ok := d.scalar('t')
	*p = T(ok && tok.Bool())
	return ok
}

func decInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *fastDecoder, p *T) bool {
	if d.null() {
		return true
	}
	tok, ok := d.scalar('0')
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(tok.String(), 10, 64)
	if err != nil || int64(T(n)) != n {
		return false // a fraction, an exponent or an overflow: encoding/json says which
	}
	*p = T(n)
	return true
}

func decUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](d *fastDecoder, p *T) bool {
	if d.null() {
		return true
	}
	tok, ok := d.scalar('0')
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(tok.String(), 10, 64)
	if err != nil || uint64(T(n)) != n {
		return false
	}
	*p = T(n)
	return true
}

// decAny takes only null: a field of type any (in runtime-spec, only
// Windows ones) holds whatever JSON it gets, which encoding/json decodes.
func decAny(d *fastDecoder, p *any) bool { return d.null() }

// decPtr decodes into a new T; null leaves the pointer nil.
func decPtr[T any](d *fastDecoder, p **T, dec func(*fastDecoder, *T) bool) bool {
	if d.null() {
		return true
	}
	v := new(T)
	*p = v
	return dec(d, v)
}

// decSlice decodes a JSON array; [] is an empty, non-nil slice, null a nil one.
func decSlice[T any](d *fastDecoder, p *[]T, dec func(*fastDecoder, *T) bool) bool {
	if d.null() {
		return true
	}
	if d.dec.PeekKind() != '[' {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	s := []T{}
	for d.dec.PeekKind() != ']' {
		var v T
		if d.dec.PeekKind() == 0 || !dec(d, &v) {
			return false
		}
		s = append(s, v)
	}
	*p = s
	_, err := d.dec.ReadToken()
	return err == nil
}

// decMap decodes a JSON object into a new map.
func decMap[T any](d *fastDecoder, p *map[string]T, dec func(*fastDecoder, *T) bool) bool {
	if d.null() {
		return true
	}
	if d.dec.PeekKind() != '{' {
		return false
	}
	m := map[string]T{}
	*p = m
	if _, err := d.dec.ReadToken(); err != nil {
		return false
	}
	for d.dec.PeekKind() == '"' {
		tok, err := d.dec.ReadToken()
		if err != nil {
			return false
		}
		k := tok.String() // before the next read, which invalidates tok
		var v T
		if !dec(d, &v) {
			return false
		}
		m[k] = v
	}
	tok, err := d.dec.ReadToken()
	return err == nil && tok.Kind() == '}'
}
