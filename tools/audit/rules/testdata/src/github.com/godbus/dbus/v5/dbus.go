// Package dbus is a stub of github.com/godbus/dbus/v5.
package dbus

type ObjectPath string
