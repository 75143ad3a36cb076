package protocol

import (
	"bytes"
	"encoding/json"

	"github.com/vmihailenco/msgpack/v5"
)

// kv is one key of an ordered object.
type kv struct {
	k string
	v any
}

// obj is an object whose keys are written in the given order, in both JSON
// and msgpack, so that Go produces the same bytes as Node for the same
// message.
type obj []kv

var (
	_ msgpack.CustomEncoder = obj(nil)
	_ json.Marshaler        = obj(nil)
)

// EncodeMsgpack implements msgpack.CustomEncoder.
func (o obj) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(len(o)); err != nil {
		return err
	}
	for _, e := range o {
		if err := enc.EncodeString(e.k); err != nil {
			return err
		}
		if err := enc.Encode(e.v); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalJSONValue(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalJSON encodes a wire value tree as JSON without HTML escaping, as
// JSON.stringify does.
func marshalJSON(v any) ([]byte, error) {
	b, err := marshalJSONValue(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func marshalJSONValue(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// unmarshalJSON decodes an untrusted JSON payload into a normalized tree.
func unmarshalJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v, nil
}
