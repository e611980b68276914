// A stand-in for testify's assert and require packages (github.com/stretchr/testify),
// which test files such as HumanEval-X's import and the sandbox cannot download.
//
// The harness removes the import and declares a variable of the imported name, so that
// assert.Equal(t, want, got) and assert.New(t).Equal(want, got) still read the same. The
// comparisons follow testify's (ObjectsAreEqual is reflect.DeepEqual with []byte
// compared by content); failures are reported with t.Errorf (assert) or t.Errorf and
// t.FailNow (require), at the line of the test.
package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type assay__Testify struct{ fatal bool }

var assay__assertPackage = assay__Testify{fatal: false}
var assay__requirePackage = assay__Testify{fatal: true}

// Assertions is what assert.New(t) returns: the same checks without the t argument.
type assay__Assertions struct {
	t     testing.TB
	fatal bool
}

func (p assay__Testify) New(t testing.TB) *assay__Assertions {
	return &assay__Assertions{t: t, fatal: p.fatal}
}

func assay__conclude(t testing.TB, fatal bool, ok bool, failure string, msgAndArgs []any) bool {
	t.Helper()
	if ok {
		return true
	}
	if extra := assay__userMessage(msgAndArgs); extra != "" {
		failure += "\nMessages: " + extra
	}
	t.Errorf("%s", failure)
	if fatal {
		t.FailNow()
	}
	return false
}

func assay__userMessage(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if format, ok := msgAndArgs[0].(string); ok && len(msgAndArgs) > 1 {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

func assay__show(value any) string {
	if _, isString := value.(string); isString {
		return fmt.Sprintf("%q", value)
	}
	return fmt.Sprintf("%#v", value)
}

func assay__objectsAreEqual(expected, actual any) bool {
	if expected == nil || actual == nil {
		return expected == actual
	}
	wantBytes, ok := expected.([]byte)
	if !ok {
		return reflect.DeepEqual(expected, actual)
	}
	gotBytes, ok := actual.([]byte)
	if !ok {
		return false
	}
	if wantBytes == nil || gotBytes == nil {
		return wantBytes == nil && gotBytes == nil
	}
	return bytes.Equal(wantBytes, gotBytes)
}

func assay__objectsAreEqualValues(expected, actual any) bool {
	if assay__objectsAreEqual(expected, actual) {
		return true
	}
	if expected == nil || actual == nil {
		return false
	}
	want, got := reflect.ValueOf(expected), reflect.ValueOf(actual)
	if !want.Type().ConvertibleTo(got.Type()) {
		return false
	}
	return reflect.DeepEqual(want.Convert(got.Type()).Interface(), actual)
}

func assay__notEqualMessage(expected, actual any) string {
	return fmt.Sprintf("Not equal:\nexpected: %s\nactual  : %s", assay__show(expected),
		assay__show(actual))
}

func assay__isNil(value any) bool {
	if value == nil {
		return true
	}
	v := reflect.ValueOf(value)
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer,
		reflect.Slice, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

func assay__isEmpty(value any) bool {
	if value == nil {
		return true
	}
	v := reflect.ValueOf(value)
	switch v.Kind() {
	case reflect.Chan, reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil() || assay__isEmpty(v.Elem().Interface())
	}
	return v.IsZero()
}

func assay__length(value any) (int, bool) {
	v := reflect.ValueOf(value)
	switch v.Kind() {
	case reflect.Chan, reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return v.Len(), true
	}
	return 0, false
}

// assay__contains reports whether container (string, slice, array, map keys) holds element.
func assay__contains(container, element any) (found, ok bool) {
	v := reflect.ValueOf(container)
	switch v.Kind() {
	case reflect.String:
		sub, isString := element.(string)
		return isString && strings.Contains(v.String(), sub), true
	case reflect.Map:
		for _, key := range v.MapKeys() {
			if assay__objectsAreEqual(key.Interface(), element) {
				return true, true
			}
		}
		return false, true
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if assay__objectsAreEqual(v.Index(i).Interface(), element) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func assay__elementsMatch(listA, listB any) bool {
	a, b := reflect.ValueOf(listA), reflect.ValueOf(listB)
	if assay__isEmpty(listA) && assay__isEmpty(listB) {
		return true
	}
	if (a.Kind() != reflect.Slice && a.Kind() != reflect.Array) ||
		(b.Kind() != reflect.Slice && b.Kind() != reflect.Array) || a.Len() != b.Len() {
		return false
	}
	used := make([]bool, b.Len())
	for i := 0; i < a.Len(); i++ {
		matched := false
		for j := 0; j < b.Len(); j++ {
			if !used[j] && assay__objectsAreEqual(a.Index(i).Interface(), b.Index(j).Interface()) {
				used[j], matched = true, true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func assay__float(value any) (float64, bool) {
	v := reflect.ValueOf(value)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Uintptr:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

// assay__compare orders two numbers or two strings of the same type: -1, 0, 1.
func assay__compare(e1, e2 any) (int, bool) {
	if e1 == nil || e2 == nil || reflect.TypeOf(e1) != reflect.TypeOf(e2) {
		return 0, false
	}
	if s1, ok := e1.(string); ok {
		return strings.Compare(s1, e2.(string)), true
	}
	f1, ok1 := assay__float(e1)
	f2, ok2 := assay__float(e2)
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case f1 < f2:
		return -1, true
	case f1 > f2:
		return 1, true
	}
	return 0, true
}

func assay__ordered(e1, e2 any, want func(int) bool, relation string) (bool, string) {
	order, ok := assay__compare(e1, e2)
	if !ok {
		return false, fmt.Sprintf("cannot compare %s and %s", assay__show(e1), assay__show(e2))
	}
	return want(order), fmt.Sprintf("%s is not %s %s", assay__show(e1), relation,
		assay__show(e2))
}

func assay__panics(f func()) (panicked bool, value any) {
	defer func() {
		if value = recover(); value != nil {
			panicked = true
		}
	}()
	f()
	return false, nil
}

// ---- the checks, as package functions (assert.X(t, ...)) -------------------------------

func (p assay__Testify) Equal(t testing.TB, expected, actual any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, assay__objectsAreEqual(expected, actual),
		assay__notEqualMessage(expected, actual), msgAndArgs)
}

func (p assay__Testify) Exactly(t testing.TB, expected, actual any, msgAndArgs ...any) bool {
	t.Helper()
	same := reflect.TypeOf(expected) == reflect.TypeOf(actual)
	return assay__conclude(t, p.fatal, same && assay__objectsAreEqual(expected, actual),
		assay__notEqualMessage(expected, actual), msgAndArgs)
}

func (p assay__Testify) EqualValues(t testing.TB, expected, actual any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, assay__objectsAreEqualValues(expected, actual),
		assay__notEqualMessage(expected, actual), msgAndArgs)
}

func (p assay__Testify) NotEqual(t testing.TB, expected, actual any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, !assay__objectsAreEqual(expected, actual),
		"Should not be: "+assay__show(actual), msgAndArgs)
}

func (p assay__Testify) NotEqualValues(t testing.TB, expected, actual any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, !assay__objectsAreEqualValues(expected, actual),
		"Should not be: "+assay__show(actual), msgAndArgs)
}

func (p assay__Testify) True(t testing.TB, value bool, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, value, "Should be true", msgAndArgs)
}

func (p assay__Testify) False(t testing.TB, value bool, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, !value, "Should be false", msgAndArgs)
}

func (p assay__Testify) Nil(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, assay__isNil(object),
		"Expected nil, but got: "+assay__show(object), msgAndArgs)
}

func (p assay__Testify) NotNil(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, !assay__isNil(object), "Expected value not to be nil.",
		msgAndArgs)
}

func (p assay__Testify) Empty(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, assay__isEmpty(object),
		"Should be empty, but was "+assay__show(object), msgAndArgs)
}

func (p assay__Testify) NotEmpty(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, !assay__isEmpty(object),
		"Should NOT be empty, but was "+assay__show(object), msgAndArgs)
}

func (p assay__Testify) Zero(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	zero := object == nil || reflect.ValueOf(object).IsZero()
	return assay__conclude(t, p.fatal, zero, "Should be zero, but was "+assay__show(object),
		msgAndArgs)
}

func (p assay__Testify) NotZero(t testing.TB, object any, msgAndArgs ...any) bool {
	t.Helper()
	zero := object == nil || reflect.ValueOf(object).IsZero()
	return assay__conclude(t, p.fatal, !zero, "Should not be zero, but was "+
		assay__show(object), msgAndArgs)
}

func (p assay__Testify) Len(t testing.TB, object any, length int, msgAndArgs ...any) bool {
	t.Helper()
	got, ok := assay__length(object)
	failure := fmt.Sprintf("%s should have %d item(s), but has %d", assay__show(object),
		length, got)
	if !ok {
		failure = fmt.Sprintf("could not get the length of %s", assay__show(object))
	}
	return assay__conclude(t, p.fatal, ok && got == length, failure, msgAndArgs)
}

func (p assay__Testify) Contains(t testing.TB, s, contains any, msgAndArgs ...any) bool {
	t.Helper()
	found, ok := assay__contains(s, contains)
	return assay__conclude(t, p.fatal, ok && found, fmt.Sprintf("%s does not contain %s",
		assay__show(s), assay__show(contains)), msgAndArgs)
}

func (p assay__Testify) NotContains(t testing.TB, s, contains any, msgAndArgs ...any) bool {
	t.Helper()
	found, ok := assay__contains(s, contains)
	return assay__conclude(t, p.fatal, ok && !found, fmt.Sprintf("%s should not contain %s",
		assay__show(s), assay__show(contains)), msgAndArgs)
}

func (p assay__Testify) ElementsMatch(t testing.TB, listA, listB any, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, assay__elementsMatch(listA, listB),
		fmt.Sprintf("elements differ:\nlistA: %s\nlistB: %s", assay__show(listA),
			assay__show(listB)), msgAndArgs)
}

func (p assay__Testify) InDelta(t testing.TB, expected, actual any, delta float64, msgAndArgs ...any) bool {
	t.Helper()
	want, ok1 := assay__float(expected)
	got, ok2 := assay__float(actual)
	diff := want - got
	if diff < 0 {
		diff = -diff
	}
	return assay__conclude(t, p.fatal, ok1 && ok2 && diff <= delta,
		fmt.Sprintf("Max difference between %v and %v allowed is %v, but difference was %v",
			expected, actual, delta, diff), msgAndArgs)
}

func (p assay__Testify) InEpsilon(t testing.TB, expected, actual any, epsilon float64, msgAndArgs ...any) bool {
	t.Helper()
	want, ok1 := assay__float(expected)
	got, ok2 := assay__float(actual)
	relative := (want - got) / want
	if relative < 0 {
		relative = -relative
	}
	return assay__conclude(t, p.fatal, ok1 && ok2 && want != 0 && relative <= epsilon,
		fmt.Sprintf("Relative error between %v and %v is too high: %v (allowed %v)",
			expected, actual, relative, epsilon), msgAndArgs)
}

func (p assay__Testify) Greater(t testing.TB, e1, e2 any, msgAndArgs ...any) bool {
	t.Helper()
	ok, failure := assay__ordered(e1, e2, func(o int) bool { return o > 0 }, "greater than")
	return assay__conclude(t, p.fatal, ok, failure, msgAndArgs)
}

func (p assay__Testify) GreaterOrEqual(t testing.TB, e1, e2 any, msgAndArgs ...any) bool {
	t.Helper()
	ok, failure := assay__ordered(e1, e2, func(o int) bool { return o >= 0 },
		"greater than or equal to")
	return assay__conclude(t, p.fatal, ok, failure, msgAndArgs)
}

func (p assay__Testify) Less(t testing.TB, e1, e2 any, msgAndArgs ...any) bool {
	t.Helper()
	ok, failure := assay__ordered(e1, e2, func(o int) bool { return o < 0 }, "less than")
	return assay__conclude(t, p.fatal, ok, failure, msgAndArgs)
}

func (p assay__Testify) LessOrEqual(t testing.TB, e1, e2 any, msgAndArgs ...any) bool {
	t.Helper()
	ok, failure := assay__ordered(e1, e2, func(o int) bool { return o <= 0 },
		"less than or equal to")
	return assay__conclude(t, p.fatal, ok, failure, msgAndArgs)
}

func (p assay__Testify) NoError(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, err == nil, fmt.Sprintf("Received unexpected error: %v",
		err), msgAndArgs)
}

func (p assay__Testify) Error(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, err != nil, "An error is expected but got nil.",
		msgAndArgs)
}

func (p assay__Testify) EqualError(t testing.TB, err error, errString string, msgAndArgs ...any) bool {
	t.Helper()
	if err == nil {
		return assay__conclude(t, p.fatal, false, "An error is expected but got nil.",
			msgAndArgs)
	}
	return assay__conclude(t, p.fatal, err.Error() == errString,
		fmt.Sprintf("Error message not equal:\nexpected: %q\nactual  : %q", errString,
			err.Error()), msgAndArgs)
}

func (p assay__Testify) Panics(t testing.TB, f func(), msgAndArgs ...any) bool {
	t.Helper()
	panicked, _ := assay__panics(f)
	return assay__conclude(t, p.fatal, panicked, "func should panic", msgAndArgs)
}

func (p assay__Testify) NotPanics(t testing.TB, f func(), msgAndArgs ...any) bool {
	t.Helper()
	panicked, value := assay__panics(f)
	return assay__conclude(t, p.fatal, !panicked,
		fmt.Sprintf("func should not panic, but panicked with: %v", value), msgAndArgs)
}

func (p assay__Testify) Fail(t testing.TB, failureMessage string, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, p.fatal, false, failureMessage, msgAndArgs)
}

func (p assay__Testify) FailNow(t testing.TB, failureMessage string, msgAndArgs ...any) bool {
	t.Helper()
	return assay__conclude(t, true, false, failureMessage, msgAndArgs)
}

// ---- the same checks on assert.New(t) ---------------------------------------------------

func (a *assay__Assertions) p() assay__Testify { return assay__Testify{fatal: a.fatal} }

func (a *assay__Assertions) Equal(expected, actual any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Equal(a.t, expected, actual, msgAndArgs...)
}

func (a *assay__Assertions) Exactly(expected, actual any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Exactly(a.t, expected, actual, msgAndArgs...)
}

func (a *assay__Assertions) EqualValues(expected, actual any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().EqualValues(a.t, expected, actual, msgAndArgs...)
}

func (a *assay__Assertions) NotEqual(expected, actual any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotEqual(a.t, expected, actual, msgAndArgs...)
}

func (a *assay__Assertions) NotEqualValues(expected, actual any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotEqualValues(a.t, expected, actual, msgAndArgs...)
}

func (a *assay__Assertions) True(value bool, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().True(a.t, value, msgAndArgs...)
}

func (a *assay__Assertions) False(value bool, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().False(a.t, value, msgAndArgs...)
}

func (a *assay__Assertions) Nil(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Nil(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) NotNil(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotNil(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) Empty(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Empty(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) NotEmpty(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotEmpty(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) Zero(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Zero(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) NotZero(object any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotZero(a.t, object, msgAndArgs...)
}

func (a *assay__Assertions) Len(object any, length int, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Len(a.t, object, length, msgAndArgs...)
}

func (a *assay__Assertions) Contains(s, contains any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Contains(a.t, s, contains, msgAndArgs...)
}

func (a *assay__Assertions) NotContains(s, contains any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotContains(a.t, s, contains, msgAndArgs...)
}

func (a *assay__Assertions) ElementsMatch(listA, listB any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().ElementsMatch(a.t, listA, listB, msgAndArgs...)
}

func (a *assay__Assertions) InDelta(expected, actual any, delta float64, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().InDelta(a.t, expected, actual, delta, msgAndArgs...)
}

func (a *assay__Assertions) InEpsilon(expected, actual any, epsilon float64, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().InEpsilon(a.t, expected, actual, epsilon, msgAndArgs...)
}

func (a *assay__Assertions) Greater(e1, e2 any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Greater(a.t, e1, e2, msgAndArgs...)
}

func (a *assay__Assertions) GreaterOrEqual(e1, e2 any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().GreaterOrEqual(a.t, e1, e2, msgAndArgs...)
}

func (a *assay__Assertions) Less(e1, e2 any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Less(a.t, e1, e2, msgAndArgs...)
}

func (a *assay__Assertions) LessOrEqual(e1, e2 any, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().LessOrEqual(a.t, e1, e2, msgAndArgs...)
}

func (a *assay__Assertions) NoError(err error, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NoError(a.t, err, msgAndArgs...)
}

func (a *assay__Assertions) Error(err error, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Error(a.t, err, msgAndArgs...)
}

func (a *assay__Assertions) EqualError(err error, errString string, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().EqualError(a.t, err, errString, msgAndArgs...)
}

func (a *assay__Assertions) Panics(f func(), msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Panics(a.t, f, msgAndArgs...)
}

func (a *assay__Assertions) NotPanics(f func(), msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().NotPanics(a.t, f, msgAndArgs...)
}

func (a *assay__Assertions) Fail(failureMessage string, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().Fail(a.t, failureMessage, msgAndArgs...)
}

func (a *assay__Assertions) FailNow(failureMessage string, msgAndArgs ...any) bool {
	a.t.Helper()
	return a.p().FailNow(a.t, failureMessage, msgAndArgs...)
}
