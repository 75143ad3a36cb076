package wstransport

import (
	"sync"

	"github.com/zishang520/engine.io/v2/transports"
	"github.com/zishang520/engine.io/v2/types"
)

var installOnce sync.Once

// Install replaces engine.io's "websocket" transport with this package's, for
// every engine.io server of the process. Call it once before any server
// accepts connections (engine.io reads its transport table without locking);
// later calls do nothing.
func Install() {
	installOnce.Do(func() {
		transports.Transports()[transports.WEBSOCKET] = builder{}
	})
}

// Installed reports whether engine.io's "websocket" transport is this
// package's.
func Installed() bool {
	_, ok := transports.Transports()[transports.WEBSOCKET].(builder)
	return ok
}

// builder creates the transport; it mirrors engine.io's WebSocketBuilder.
type builder struct{}

func (builder) New(ctx *types.HttpContext) transports.Transport { return newTransport(ctx) }

func (builder) Name() string { return transports.WEBSOCKET }

func (builder) HandlesUpgrades() bool { return true }

// UpgradesTo is empty: nothing upgrades from a WebSocket.
func (builder) UpgradesTo() *types.Set[string] { return types.NewSet[string]() }
