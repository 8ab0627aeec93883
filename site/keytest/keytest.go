// Package keytest helps tests prove that a cache key is made of every part
// of what it stands for, so that a kept page is never served for another.
package keytest

import "reflect"

// Variants returns values that each differ from v in one part: for a
// string, bool or integer, a changed value; for a struct, one per variant of
// each exported field; for a slice, one per variant of each element, plus
// one shorter and one longer. Unexported fields are left as they are.
func Variants(v reflect.Value) []reflect.Value {
	var out []reflect.Value
	switch v.Kind() {
	case reflect.String:
		out = append(out, reflect.ValueOf(v.String()+"x").Convert(v.Type()))
	case reflect.Bool:
		out = append(out, reflect.ValueOf(!v.Bool()).Convert(v.Type()))
	case reflect.Int, reflect.Int64:
		n := reflect.New(v.Type()).Elem()
		n.SetInt(v.Int() + 1)
		out = append(out, n)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			for _, f := range Variants(v.Field(i)) {
				c := reflect.New(v.Type()).Elem()
				c.Set(v)
				c.Field(i).Set(f)
				out = append(out, c)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			for _, e := range Variants(v.Index(i)) {
				c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
				reflect.Copy(c, v)
				c.Index(i).Set(e)
				out = append(out, c)
			}
		}
		if v.Len() > 0 {
			out = append(out, v.Slice(0, v.Len()-1))
		}
		out = append(out, reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
	}
	return out
}
