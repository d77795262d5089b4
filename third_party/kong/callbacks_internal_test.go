package kong

import (
	"reflect"
	"testing"
)

type everyHook struct{}

func (everyHook) Run() error           { return nil }
func (everyHook) BeforeReset() error   { return nil }
func (everyHook) BeforeResolve() error { return nil }
func (everyHook) BeforeApply() error   { return nil }
func (everyHook) AfterApply() error    { return nil }
func (everyHook) AfterRun() error      { return nil }

// Every name kong looks a method up by has its constant lookup.
func TestMethodByNameKnowsEveryHook(t *testing.T) {
	v := reflect.ValueOf(everyHook{})
	for _, name := range []string{"Run", "BeforeReset", "BeforeResolve", "BeforeApply", "AfterApply", "AfterRun"} {
		if !methodByName(v, name).IsValid() {
			t.Errorf("methodByName(%q) found nothing", name)
		}
		if _, ok := typeMethodByName(v.Type(), name); !ok {
			t.Errorf("typeMethodByName(%q) found nothing", name)
		}
	}
}
