package codec

import "encoding/json"

// Member is one key of an [Object]. It is an alias of an unnamed struct so
// that schemas can write Object{{"type", 1}} without naming the fields.
type Member = struct {
	Key   string
	Value any
}

// Object is an object whose keys are written in the given order, in both
// JSON and msgpack: Go maps have no order, and Node writes the keys of a
// message in the order its code sets them.
type Object []Member

var _ json.Marshaler = Object(nil)

// MarshalJSON implements json.Marshaler, for an Object nested in a value
// that goes through encoding/json.
func (o Object) MarshalJSON() ([]byte, error) {
	return MarshalJSON(o)
}
