package kong

import (
	"fmt"
	"reflect"
	"strings"
)

// ProviderMethods makes Run bind the values returned by the Provide*
// methods of the selected command and its parents (see "Bindings" in the
// README).
//
// It is an option, not the default, in this copy of kong: finding methods
// by a prefix means enumerating them (reflect.Type.Method), and a program
// that can do that makes the Go linker keep every exported method of every
// type stored in an interface. Without the option nothing reachable does,
// and dead code elimination works again.
func ProviderMethods() Option {
	return OptionFunc(func(k *Kong) error {
		k.provideMethods = addProviderMethods
		return nil
	})
}

// addProviderMethods binds the Provide* methods of target and of its
// address.
func addProviderMethods(binds bindings, target reflect.Value) error {
	for _, p := range []reflect.Value{target, target.Addr()} {
		t := p.Type()
		for i := 0; i < p.NumMethod(); i++ {
			methodt := t.Method(i)
			if strings.HasPrefix(methodt.Name, "Provide") {
				method := p.Method(i)
				if err := binds.addProvider(method.Interface(), false /* singleton */); err != nil {
					return fmt.Errorf("%s.%s: %w", t.Name(), methodt.Name, err)
				}
			}
		}
	}
	return nil
}
