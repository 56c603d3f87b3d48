package modbus

// CheckValue lets the poller tests (package modbus_test, which may import
// the simulator) compare values as the decoder tests do.
var CheckValue = checkValue

// SameBus reports whether two pollers share one line (bus).
func SameBus(a, b *Poller) bool { return a.bus == b.bus }
