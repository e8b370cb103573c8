// Package libnbd declares the part of libguestfs.org/libnbd's API that CDI v1.65.0 compiles
// against (pkg/importer/vddk-datasource_amd64.go), without cgo. No handle can be created:
// Create returns an error, so nothing else is ever called.
package libnbd

import (
	"errors"
	"syscall"
)

// Flags and states named by CDI's VDDK source.
const (
	CMD_FLAG_REQ_ONE = uint32(0x08)
	STATE_HOLE       = uint32(1)
	STATE_ZERO       = uint32(2)
)

// LibnbdError is libnbd's error type.
type LibnbdError struct {
	Op     string
	Errmsg string
	Errno  syscall.Errno
}

func (e *LibnbdError) Error() string { return e.Op + ": " + e.Errmsg }

// ExtentCallback is called by BlockStatus for each extent.
type ExtentCallback func(metacontext string, offset uint64, entries []uint32, error *int) int

// PreadOptargs are Pread's optional arguments.
type PreadOptargs struct {
	FlagsSet bool
	Flags    uint32
}

// BlockStatusOptargs are BlockStatus's optional arguments.
type BlockStatusOptargs struct {
	FlagsSet bool
	Flags    uint32
}

// Libnbd is a handle; none is ever created.
type Libnbd struct{}

// ErrNotAvailable is what Create returns: this build has no libnbd.
var ErrNotAvailable = errors.New("libnbd is not available in this build (libguestfs.org/libnbd stub)")

// Create fails: the stub has no libnbd behind it.
func Create() (*Libnbd, error) { return nil, ErrNotAvailable }

func (h *Libnbd) AddMetaContext(name string) error { return ErrNotAvailable }
func (h *Libnbd) ConnectUri(uri string) error      { return ErrNotAvailable }
func (h *Libnbd) GetSize() (uint64, error)         { return 0, ErrNotAvailable }
func (h *Libnbd) Pread(buf []byte, offset uint64, optargs *PreadOptargs) error {
	return ErrNotAvailable
}
func (h *Libnbd) BlockStatus(count, offset uint64, extent ExtentCallback, optargs *BlockStatusOptargs) error {
	return ErrNotAvailable
}
func (h *Libnbd) Close() *LibnbdError { return nil }
